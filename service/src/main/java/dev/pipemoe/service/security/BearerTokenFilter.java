package dev.pipemoe.service.security;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Optional;
import org.springframework.http.HttpHeaders;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.core.context.SecurityContextHolderStrategy;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Reads {@code Authorization: Bearer <token>}. No header: the request goes on anonymously and the
 * authorization rules decide (health is the only anonymous route). A header with a malformed,
 * unknown or revoked token: 401 at once, even on anonymous routes, so a client learns its token
 * is bad instead of being served as anonymous. Revocation takes effect on the next request: every
 * request looks its token up (one indexed read), nothing is cached.
 */
final class BearerTokenFilter extends OncePerRequestFilter {

  private static final String BEARER = "Bearer ";

  private final TokenService tokens;
  private final SecurityProblems problems;
  private final SecurityContextHolderStrategy contexts = SecurityContextHolder.getContextHolderStrategy();

  BearerTokenFilter(TokenService tokens, SecurityProblems problems) {
    this.tokens = tokens;
    this.problems = problems;
  }

  @Override
  protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    String header = request.getHeader(HttpHeaders.AUTHORIZATION);
    if (header == null) {
      chain.doFilter(request, response);
      return;
    }
    if (!header.regionMatches(true, 0, BEARER, 0, BEARER.length()) || header.substring(BEARER.length()).isBlank()) {
      problems.invalidToken(request, response, "the Authorization header must be 'Bearer <token>'");
      return;
    }
    Optional<ApiToken> token = tokens.find(header.substring(BEARER.length()).strip());
    if (token.isEmpty()) {
      problems.invalidToken(request, response, "unknown token");
      return;
    }
    if (token.get().revoked()) {
      problems.invalidToken(request, response, "token " + token.get().id() + " was revoked");
      return;
    }
    SecurityContext context = contexts.createEmptyContext();
    context.setAuthentication(new TokenAuthentication(token.get().caller()));
    contexts.setContext(context);
    chain.doFilter(request, response);
  }
}
