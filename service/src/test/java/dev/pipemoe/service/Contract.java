package dev.pipemoe.service;

import com.atlassian.oai.validator.OpenApiInteractionValidator;
import com.atlassian.oai.validator.model.Request;
import com.atlassian.oai.validator.model.SimpleResponse;
import com.atlassian.oai.validator.report.LevelResolver;
import com.atlassian.oai.validator.report.ValidationReport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The contract test: every response an API test receives through {@link Http} is checked against
 * the OpenAPI document the service serves (/v3/api-docs), so every route and status the tests
 * provoke is covered, 2xx and problems alike. An undocumented status, field or content type, a
 * wrong type or a missing required field fails the test that received it. Requests are not
 * checked (tests send bad ones on purpose), nor are routes the document leaves out (health,
 * actuator, the document itself, unknown routes).
 */
final class Contract {

  private static volatile OpenApiInteractionValidator validator;

  private Contract() {}

  static void check(String base, String method, String pathAndQuery, Http.Response response) {
    String path = URI.create(pathAndQuery).getRawPath();
    SimpleResponse.Builder actual = SimpleResponse.Builder.status(response.status());
    if (response.contentType() != null) {
      actual.withContentType(response.contentType());
    }
    if (!response.body().isEmpty()) {
      actual.withBody(response.body());
    }
    ValidationReport report = validator(base).validateResponse(path,
        Request.Method.valueOf(method.toUpperCase(Locale.ROOT)), actual.build());
    if (report.hasErrors()) {
      throw new AssertionError("the response to " + method + " " + pathAndQuery + " breaks /v3/api-docs:\n"
          + report.getMessages().stream().map(m -> "  " + m.getKey() + ": " + m.getMessage()
              + m.getContext().flatMap(c -> c.getPointers()).map(p -> " (at " + p.getInstance() + ")").orElse(""))
              .collect(Collectors.joining("\n"))
          + "\nresponse: " + response);
    }
  }

  /** One validator for the run: every test context serves the same document. */
  private static OpenApiInteractionValidator validator(String base) {
    if (validator == null) {
      synchronized (Contract.class) {
        if (validator == null) {
          validator = OpenApiInteractionValidator.createForInlineApiSpecification(document(base))
              .withLevelResolver(LevelResolver.create()
                  .withLevel("validation.request", ValidationReport.Level.IGNORE)
                  .build())
              .build();
        }
      }
    }
    return validator;
  }

  private static String document(String base) {
    try (HttpClient client = HttpClient.newHttpClient()) {
      var response = client.send(HttpRequest.newBuilder(URI.create(base + "/v3/api-docs")).build(),
          BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException("GET /v3/api-docs: " + response.statusCode() + " " + response.body());
      }
      return response.body();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
