package dev.pipemoe.service.system;

import io.swagger.v3.oas.annotations.Hidden;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Replaces Boot's BasicErrorController, which answers errors raised outside Spring MVC (the servlet
 * container, filters) in its legacy {@code {"timestamp", "error", "path"}} shape: here they are
 * problem details like every other error.
 */
@RestController
@Hidden // not an API: where the servlet container forwards errors
class ProblemErrorController implements ErrorController {

  @RequestMapping("${server.error.path:/error}")
  ResponseEntity<ProblemDetail> error(HttpServletRequest request) {
    Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
    HttpStatus status = code instanceof Integer value && HttpStatus.resolve(value) != null
        ? HttpStatus.valueOf(value) : HttpStatus.INTERNAL_SERVER_ERROR;
    ProblemDetail body = ProblemDetail.forStatusAndDetail(status, status.is5xxServerError()
        ? "an unexpected error occurred; it has been logged" : "the request could not be processed");
    if (request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI) instanceof String uri) {
      body.setInstance(Problems.instance(uri));
    }
    return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(body);
  }
}
