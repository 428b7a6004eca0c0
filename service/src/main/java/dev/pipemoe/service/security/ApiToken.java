package dev.pipemoe.service.security;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import jakarta.persistence.Version;
import java.time.Instant;
import java.util.UUID;

/**
 * A bearer token, stored as the SHA-256 of its secret: the secret is shown once, at creation, and
 * a database dump gives no usable token. Lookups go by hash, so no secret is ever compared
 * character by character.
 */
@Entity
@Table(name = "api_tokens")
public class ApiToken {

  @Id
  private UUID id;

  private String owner;

  @Enumerated(EnumType.STRING)
  private Role role;

  @Column(name = "token_hash")
  private byte[] tokenHash;

  /** The first characters of the secret, enough to recognise a token in a list, too few to use it. */
  private String hint;

  private String description;

  private Instant createdAt;

  private String createdBy;

  private Instant revokedAt;

  private String revokedBy;

  @Version
  private Long version;

  protected ApiToken() {}

  ApiToken(UUID id, String owner, Role role, byte[] tokenHash, String hint, String description,
      Instant createdAt, String createdBy) {
    this.id = id;
    this.owner = owner;
    this.role = role;
    this.tokenHash = tokenHash.clone();
    this.hint = hint;
    this.description = description;
    this.createdAt = createdAt;
    this.createdBy = createdBy;
  }

  /** Idempotent: a revoked token keeps its first revocation time. */
  void revoke(Instant now, String by) {
    if (revokedAt == null) {
      revokedAt = now;
      revokedBy = by;
    }
  }

  public boolean revoked() {
    return revokedAt != null;
  }

  public Caller caller() {
    return new Caller(id, owner, role);
  }

  public UUID id() {
    return id;
  }

  public String owner() {
    return owner;
  }

  public Role role() {
    return role;
  }

  public String hint() {
    return hint;
  }

  public String description() {
    return description;
  }

  public Instant createdAt() {
    return createdAt;
  }

  public String createdBy() {
    return createdBy;
  }

  public Instant revokedAt() {
    return revokedAt;
  }

  public String revokedBy() {
    return revokedBy;
  }
}
