package dev.pipemoe.service.security;

import dev.pipemoe.service.system.ProblemResponses;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/** Token administration, admins only (see {@link SecurityConfiguration}). Secrets appear once, in the 201. */
@RestController
@RequestMapping("/api/v1/admin/tokens")
@Tag(name = "tokens", description = "API tokens: create, list, revoke (ADMIN only)")
class TokenController {

  private final TokenService tokens;

  TokenController(TokenService tokens) {
    this.tokens = tokens;
  }

  record CreateToken(
      @NotNull @Pattern(regexp = "[A-Za-z0-9][A-Za-z0-9._@-]{0,99}", message = TokenService.OWNER_RULE) String owner,
      @NotNull Role role,
      @Size(max = 200) String description) {}

  /** A token as listed: everything but the secret. */
  record TokenView(UUID id, String owner, Role role, String hint, String description, Instant createdAt,
      String createdBy, Instant revokedAt, String revokedBy) {

    static TokenView of(ApiToken t) {
      return new TokenView(t.id(), t.owner(), t.role(), t.hint(), t.description(), t.createdAt(), t.createdBy(),
          t.revokedAt(), t.revokedBy());
    }
  }

  /** The 201 body: the view plus the secret, shown this once. */
  record CreatedToken(UUID id, String owner, Role role, String hint, String description, Instant createdAt,
      String createdBy, String token) {}

  record TokenList(List<TokenView> tokens) {}

  @PostMapping
  @Operation(operationId = "createToken", summary = "Create a token", description = "The secret is in this answer"
      + " only; the service keeps a hash.")
  @ApiResponse(responseCode = "201", description = "created, with its secret")
  @ProblemResponses({400, 413})
  ResponseEntity<CreatedToken> create(@Valid @RequestBody CreateToken body, @AuthenticationPrincipal Caller caller) {
    TokenService.Issued issued = tokens.create(body.owner(), body.role(), body.description(), caller);
    ApiToken t = issued.token();
    return ResponseEntity.created(URI.create("/api/v1/admin/tokens/" + t.id()))
        .body(new CreatedToken(t.id(), t.owner(), t.role(), t.hint(), t.description(), t.createdAt(), t.createdBy(),
            issued.secret()));
  }

  @GetMapping
  @Operation(operationId = "listTokens", summary = "List tokens, without secrets")
  TokenList list() {
    return new TokenList(tokens.list().stream().map(TokenView::of).toList());
  }

  @GetMapping("/{id}")
  @Operation(operationId = "getToken", summary = "Get a token, without its secret")
  @ProblemResponses(404)
  TokenView get(@PathVariable UUID id) {
    return TokenView.of(tokens.get(id));
  }

  /** Idempotent; the token stops working on its next request. */
  @PostMapping("/{id}/revoke")
  @Operation(operationId = "revokeToken", summary = "Revoke a token (idempotent)")
  @ProblemResponses(404)
  TokenView revoke(@PathVariable UUID id, @AuthenticationPrincipal Caller caller) {
    return TokenView.of(tokens.revoke(id, caller));
  }
}
