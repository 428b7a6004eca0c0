package dev.pipemoe.service.system;

import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.TypeMismatchException;
import org.springframework.dao.OptimisticLockingFailureException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.ServletWebRequest;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import org.springframework.web.servlet.resource.NoResourceFoundException;
import tools.jackson.core.JacksonException;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;

/**
 * Every error raised inside Spring MVC becomes {@code application/problem+json}: our own {@link
 * Problems}, Spring's (404 for unknown routes, 405, 415, 400 for bad parameters), Jackson's (400
 * with the JSON pointer of the offending field) and anything unexpected (500, logged, no internals
 * in the body). Errors outside MVC (security, the servlet container) are covered by {@link
 * ProblemErrorController} and the security package's handlers.
 */
@RestControllerAdvice
class ApiProblemHandler extends ResponseEntityExceptionHandler {

  private static final Logger log = LoggerFactory.getLogger(ApiProblemHandler.class);

  @Override
  protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException ex,
      HttpHeaders headers, HttpStatusCode status, WebRequest request) {
    Problems.FieldError error = switch (ex.getMostSpecificCause()) {
      case UnrecognizedPropertyException e -> new Problems.FieldError(pointer(e), "BODY-UNKNOWN",
          "unknown field '" + e.getPropertyName() + "'");
      case StreamReadException e -> new Problems.FieldError("", "BODY-SYNTAX", e.getOriginalMessage());
      case JacksonException e -> new Problems.FieldError(pointer(e), "BODY-TYPE", e.getOriginalMessage());
      default -> new Problems.FieldError("", "BODY-SYNTAX", "the body could not be read");
    };
    ProblemDetail body = Problems.malformed("the request body could not be read: " + error.message(), List.of(error)).getBody();
    return handleExceptionInternal(ex, body, headers, HttpStatus.BAD_REQUEST, request);
  }

  /** Bean-validated bodies (the admin API): every invalid field with its pointer. */
  @Override
  protected ResponseEntity<Object> handleMethodArgumentNotValid(MethodArgumentNotValidException ex,
      HttpHeaders headers, HttpStatusCode status, WebRequest request) {
    List<Problems.FieldError> errors = ex.getBindingResult().getFieldErrors().stream()
        .map(f -> new Problems.FieldError("/" + f.getField().replace('.', '/'), "BODY-VALUE",
            f.getField() + " " + f.getDefaultMessage()))
        .toList();
    ProblemDetail body = Problems.malformed(errors.size() + " invalid field(s), listed in errors", errors).getBody();
    return handleExceptionInternal(ex, body, headers, HttpStatus.BAD_REQUEST, request);
  }

  /** A path segment that cannot be an id names nothing: 404, as an unknown id does. */
  @Override
  protected ResponseEntity<Object> handleTypeMismatch(TypeMismatchException ex, HttpHeaders headers,
      HttpStatusCode status, WebRequest request) {
    if (ex instanceof MethodArgumentTypeMismatchException m && m.getParameter().hasParameterAnnotation(PathVariable.class)) {
      ProblemDetail body = ProblemDetail.forStatusAndDetail(HttpStatus.NOT_FOUND, "no resource " + m.getValue());
      return handleExceptionInternal(ex, body, headers, HttpStatus.NOT_FOUND, request);
    }
    return super.handleTypeMismatch(ex, headers, status, request);
  }

  /** Unknown routes: say which, instead of Spring's "No static resource". */
  @Override
  protected ResponseEntity<Object> handleNoResourceFoundException(NoResourceFoundException ex, HttpHeaders headers,
      HttpStatusCode status, WebRequest request) {
    ProblemDetail body = ProblemDetail.forStatusAndDetail(HttpStatus.NOT_FOUND,
        "no route " + ex.getHttpMethod() + " /" + ex.getResourcePath());
    return handleExceptionInternal(ex, body, headers, HttpStatus.NOT_FOUND, request);
  }

  /** A job changed between our read and our write (a worker, another replica); the client may retry. */
  @ExceptionHandler(OptimisticLockingFailureException.class)
  ResponseEntity<Object> concurrentUpdate(OptimisticLockingFailureException ex, WebRequest request) {
    ProblemDetail body = ProblemDetail.forStatusAndDetail(HttpStatus.CONFLICT,
        "the resource was changed concurrently; retry the request");
    return handleExceptionInternal(ex, body, HttpHeaders.EMPTY, HttpStatus.CONFLICT, request);
  }

  @ExceptionHandler(Exception.class)
  ResponseEntity<Object> unexpected(Exception ex, WebRequest request) {
    log.error("unexpected error on {}", describe(request), ex);
    ProblemDetail body = ProblemDetail.forStatusAndDetail(HttpStatus.INTERNAL_SERVER_ERROR,
        "an unexpected error occurred; it has been logged");
    return handleExceptionInternal(ex, body, HttpHeaders.EMPTY, HttpStatus.INTERNAL_SERVER_ERROR, request);
  }

  /** Every problem names the request it answers. */
  @Override
  protected ResponseEntity<Object> handleExceptionInternal(Exception ex, Object body, HttpHeaders headers,
      HttpStatusCode statusCode, WebRequest request) {
    if (body instanceof ProblemDetail problem && problem.getInstance() == null
        && request instanceof ServletWebRequest servlet) {
      problem.setInstance(Problems.instance(servlet.getRequest().getRequestURI()));
    }
    return super.handleExceptionInternal(ex, body, headers, statusCode, request);
  }

  /** RFC 6901 pointer of the field a Jackson exception names. */
  static String pointer(JacksonException e) {
    StringBuilder pointer = new StringBuilder();
    for (JacksonException.Reference ref : e.getPath()) {
      pointer.append('/').append(ref.getPropertyName() != null
          ? Problems.pointerToken(ref.getPropertyName()) : Integer.toString(ref.getIndex()));
    }
    return pointer.toString();
  }

  private static String describe(WebRequest request) {
    return request instanceof ServletWebRequest servlet
        ? servlet.getRequest().getMethod() + " " + servlet.getRequest().getRequestURI()
        : request.getDescription(false);
  }
}
