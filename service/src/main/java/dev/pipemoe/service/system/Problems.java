package dev.pipemoe.service.system;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.swagger.v3.oas.annotations.media.Schema;
import java.net.URI;
import java.util.List;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.web.ErrorResponseException;

/**
 * RFC 9457 problem details, the one error format of the API. The problem types below are
 * identifiers documented in docs/service.md; everything else is {@code about:blank} with the
 * status's reason phrase as title. Features throw the exceptions built here; {@link
 * ApiProblemHandler} renders them.
 */
public final class Problems {

  private static final String BASE = "https://pipemoe.dev/problems/";

  /** 400: the body is not a readable request (syntax, unknown field, wrong type); {@code errors[]} says where. */
  public static final URI MALFORMED_REQUEST = URI.create(BASE + "malformed-request");
  /** 422: the job spec breaks validation rules; {@code errors[]} lists every one. */
  public static final URI INVALID_JOB = URI.create(BASE + "invalid-job");
  /** 422: an Idempotency-Key already used by this owner with a different body. */
  public static final URI IDEMPOTENCY_KEY_REUSED = URI.create(BASE + "idempotency-key-reused");
  /** 413: a body over the configured limit. */
  public static final URI BODY_TOO_LARGE = URI.create(BASE + "body-too-large");
  /** 400: a query parameter or header the API cannot use (page size, page token, key format). */
  public static final URI INVALID_PARAMETER = URI.create(BASE + "invalid-parameter");
  /** 409: a worker speaks of an attempt it no longer holds (lost, ended, or another worker's); stop it. */
  public static final URI ATTEMPT_NOT_HELD = URI.create(BASE + "attempt-not-held");
  /** 409: a worker name registered by a token of another owner. */
  public static final URI WORKER_NAME_TAKEN = URI.create(BASE + "worker-name-taken");

  private Problems() {}

  /**
   * One problem with a body: where ({@code pointer}, RFC 6901), which rule, what is wrong; for the
   * engine's rules also the MindSpeed-style {@code flag} of the field, where it has one. A job's
   * warnings have the same shape.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record FieldError(
      @Schema(requiredMode = Schema.RequiredMode.REQUIRED, example = "/pipeExperts/multiData") String pointer,
      @Schema(example = "--pipe-experts-multi-data") String flag,
      @Schema(requiredMode = Schema.RequiredMode.REQUIRED, example = "V7") String rule,
      @Schema(requiredMode = Schema.RequiredMode.REQUIRED) String message) {

    public FieldError(String pointer, String rule, String message) {
      this(pointer, null, rule, message);
    }
  }

  public static ErrorResponseException problem(HttpStatus status, URI type, String title, String detail) {
    ProblemDetail body = ProblemDetail.forStatusAndDetail(status, detail);
    body.setType(type);
    body.setTitle(title);
    return new ErrorResponseException(status, body, null);
  }

  public static ErrorResponseException malformed(String detail, List<FieldError> errors) {
    ErrorResponseException e = problem(HttpStatus.BAD_REQUEST, MALFORMED_REQUEST, "Malformed request", detail);
    e.getBody().setProperty("errors", List.copyOf(errors));
    return e;
  }

  public static ErrorResponseException invalidParameter(String parameter, String detail) {
    ErrorResponseException e = problem(HttpStatus.BAD_REQUEST, INVALID_PARAMETER, "Invalid parameter", detail);
    e.getBody().setProperty("parameter", parameter);
    return e;
  }

  /** 404 with about:blank; also what users get for other owners' resources, so existence does not leak. */
  public static ErrorResponseException notFound(String detail) {
    return status(HttpStatus.NOT_FOUND, detail);
  }

  public static ErrorResponseException status(HttpStatus status, String detail) {
    return new ErrorResponseException(status, ProblemDetail.forStatusAndDetail(status, detail), null);
  }

  /** The request path as a problem's {@code instance}; null for a path that is no valid URI. */
  public static URI instance(String requestUri) {
    try {
      return URI.create(requestUri);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** An RFC 6901 reference token: {@code ~} and {@code /} escaped. */
  public static String pointerToken(String name) {
    return name.replace("~", "~0").replace("/", "~1");
  }
}
