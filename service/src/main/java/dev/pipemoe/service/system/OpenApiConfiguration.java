package dev.pipemoe.service.system;

import com.fasterxml.jackson.databind.AnnotationIntrospector;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyName;
import com.fasterxml.jackson.databind.introspect.AnnotatedClass;
import com.fasterxml.jackson.databind.introspect.NopAnnotationIntrospector;
import io.swagger.v3.core.util.Json;
import io.swagger.v3.core.util.Json31;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The OpenAPI document at /v3/api-docs: every route needs a bearer token (health is not listed).
 * The worker protocol's bodies are the engine's records, whose nested names repeat
 * ({@code Register.Request}, {@code Heartbeat.Request}, ...); OpenAPI names schemas by simple name,
 * so one would silently replace the others. They are named {@code RegisterRequest},
 * {@code HeartbeatRequest}, ... instead (swagger-core takes a Jackson root name before the class name).
 */
@Configuration(proxyBeanMethods = false)
class OpenApiConfiguration {

  private static final String PROTOCOL = "dev.pipemoe.engine.protocol";

  @Bean
  OpenAPI pipemoeOpenApi() {
    for (ObjectMapper swagger : new ObjectMapper[] {Json.mapper(), Json31.mapper()}) {
      AnnotationIntrospector current = swagger.getSerializationConfig().getAnnotationIntrospector();
      if (current.allIntrospectors().stream().noneMatch(ProtocolNames.class::isInstance)) {
        swagger.setAnnotationIntrospector(AnnotationIntrospector.pair(new ProtocolNames(), current));
      }
    }
    return new OpenAPI()
        .info(new Info().title("pipemoe service").version("v1")
            .description("Submit, validate and follow MoE training jobs that use pipe-experts communication hiding."
                + " Workers lease them through the worker protocol (docs/worker-protocol.md)."
                + " Errors are RFC 9457 problem details. Guide: docs/service.md; spec fields: docs/config.md."))
        .components(new Components().addSecuritySchemes("bearer",
            new SecurityScheme().type(SecurityScheme.Type.HTTP).scheme("bearer")
                .description("a pipemoe token (pmt_...), created by an admin at /api/v1/admin/tokens")))
        .addSecurityItem(new SecurityRequirement().addList("bearer"));
  }

  /** Outer + inner simple name for the protocol's nested records: RegisterRequest, MetricBatchResponse. */
  static final class ProtocolNames extends NopAnnotationIntrospector {

    @Override
    public PropertyName findRootName(AnnotatedClass ac) {
      Class<?> type = ac.getRawType();
      Class<?> outer = type.getEnclosingClass();
      return outer != null && type.getPackageName().equals(PROTOCOL)
          ? PropertyName.construct(outer.getSimpleName() + type.getSimpleName()) : null;
    }
  }
}
