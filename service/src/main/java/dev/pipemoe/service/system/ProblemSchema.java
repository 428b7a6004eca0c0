package dev.pipemoe.service.system;

import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;
import java.net.URI;
import java.util.List;

/**
 * How /v3/api-docs shows the one error body of the API ({@link Problems}): RFC 9457's members and
 * the extensions some problem types carry. Documentation only: Spring's ProblemDetail is what is
 * sent, and the contract test checks every problem a test provokes against this schema.
 */
@Schema(name = "Problem", description = "RFC 9457 problem details (application/problem+json); the problem types"
    + " are listed in docs/service.md")
record ProblemSchema(
    @Schema(description = "the problem type; absent means about:blank (the status says it all)",
        example = "https://pipemoe.dev/problems/invalid-job") URI type,
    @Schema(requiredMode = Schema.RequiredMode.REQUIRED, example = "Invalid job spec") String title,
    @Schema(requiredMode = Schema.RequiredMode.REQUIRED, example = "422") int status,
    @Schema(description = "what went wrong, in words") String detail,
    @Schema(description = "the request path") URI instance,
    @ArraySchema(arraySchema = @Schema(description = "malformed-request and invalid-job: every problem found,"
        + " each with its JSON pointer into the body")) List<Problems.FieldError> errors,
    @Schema(description = "invalid-parameter: the query parameter or header") String parameter,
    @ArraySchema(arraySchema = @Schema(description = "invalid-job: the rules the spec breaks without being refused"))
    List<Problems.FieldError> warnings,
    @ArraySchema(arraySchema = @Schema(description = "invalid-job: the defaults and derivations the engine applied"))
    List<String> notes) {}
