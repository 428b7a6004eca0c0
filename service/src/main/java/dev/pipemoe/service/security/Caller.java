package dev.pipemoe.service.security;

import java.util.UUID;

/**
 * Who is calling: the principal of every authenticated request. Jobs belong to an owner name, not
 * to a token, so all tokens of one owner see the same jobs and a token can be rotated.
 */
public record Caller(UUID tokenId, String owner, Role role) {

  public boolean isAdmin() {
    return role == Role.ADMIN;
  }

  /** Whether this caller may see (and cancel) what {@code resourceOwner} owns. */
  public boolean mayAccess(String resourceOwner) {
    return isAdmin() || owner.equals(resourceOwner);
  }
}
