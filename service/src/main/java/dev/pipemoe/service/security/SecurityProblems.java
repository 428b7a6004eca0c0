package dev.pipemoe.service.security;

import dev.pipemoe.service.system.Problems;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.access.AccessDeniedHandler;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * 401 and 403 as problem details. These are written by the security filters, before Spring MVC
 * (and its exception handlers) sees the request. A 401 carries {@code WWW-Authenticate: Bearer}
 * with an RFC 6750 error code when a token was presented.
 */
@Component
class SecurityProblems implements AuthenticationEntryPoint, AccessDeniedHandler {

  private final JsonMapper json;

  SecurityProblems(JsonMapper json) {
    this.json = json;
  }

  /** No token on a route that needs one. */
  @Override
  public void commence(HttpServletRequest request, HttpServletResponse response, AuthenticationException e)
      throws IOException {
    write(request, response, HttpStatus.UNAUTHORIZED, "Bearer",
        "this endpoint needs a bearer token: Authorization: Bearer <token>");
  }

  /** A valid token whose role does not allow the route. */
  @Override
  public void handle(HttpServletRequest request, HttpServletResponse response, AccessDeniedException e)
      throws IOException {
    write(request, response, HttpStatus.FORBIDDEN, null, "this token's role may not use " + request.getRequestURI());
  }

  /** A token that was presented and is no good: malformed, unknown or revoked. */
  void invalidToken(HttpServletRequest request, HttpServletResponse response, String detail) throws IOException {
    write(request, response, HttpStatus.UNAUTHORIZED, "Bearer error=\"invalid_token\"", detail);
  }

  private void write(HttpServletRequest request, HttpServletResponse response, HttpStatus status,
      String challenge, String detail) throws IOException {
    ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
    problem.setInstance(Problems.instance(request.getRequestURI()));
    response.setStatus(status.value());
    if (challenge != null) {
      response.setHeader(HttpHeaders.WWW_AUTHENTICATE, challenge);
    }
    response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
    json.writeValue(response.getOutputStream(), problem);
  }
}
