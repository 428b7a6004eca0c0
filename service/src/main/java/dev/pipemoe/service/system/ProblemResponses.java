package dev.pipemoe.service.system;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The error statuses an operation answers, each documented in /v3/api-docs as an RFC 9457 problem
 * ({@code application/problem+json}, schema {@code Problem}). 401 and 403 need not be listed: every
 * operation needs a token and a role, so {@link OpenApiConfiguration} adds them to all.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
public @interface ProblemResponses {

  int[] value();
}
