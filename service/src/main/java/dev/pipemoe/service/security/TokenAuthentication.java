package dev.pipemoe.service.security;

import java.util.List;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.core.authority.SimpleGrantedAuthority;

/** An authenticated request: the {@link Caller} is the principal, its role the one authority. */
final class TokenAuthentication extends AbstractAuthenticationToken {

  private final Caller caller;

  TokenAuthentication(Caller caller) {
    super(List.of(new SimpleGrantedAuthority(caller.role().authority())));
    this.caller = caller;
    setAuthenticated(true);
  }

  @Override
  public Caller getPrincipal() {
    return caller;
  }

  @Override
  public Object getCredentials() {
    return null; // the secret is not kept beyond the lookup
  }
}
