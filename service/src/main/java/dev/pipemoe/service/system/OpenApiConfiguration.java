package dev.pipemoe.service.system;

import com.fasterxml.jackson.databind.AnnotationIntrospector;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyName;
import com.fasterxml.jackson.databind.introspect.AnnotatedClass;
import com.fasterxml.jackson.databind.introspect.NopAnnotationIntrospector;
import dev.pipemoe.engine.config.EngineConfig;
import dev.pipemoe.engine.config.Named;
import dev.pipemoe.engine.device.DType;
import io.swagger.v3.core.converter.ModelConverters;
import io.swagger.v3.core.util.Json;
import io.swagger.v3.core.util.Json31;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import io.swagger.v3.oas.models.servers.Server;
import java.util.List;
import java.util.stream.IntStream;
import org.springdoc.core.customizers.OperationCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpStatus;

/**
 * The OpenAPI document at /v3/api-docs (OpenAPI 3.0, which client generators and validators handle
 * best), served without a token: it describes the API, holds no data, and is committed as
 * docs/openapi.json anyway. Every operation needs a bearer token and answers its errors as problem
 * details ({@link ProblemResponses}). Operation ids are set on every handler, so generated clients
 * get meaningful method names.
 *
 * <p>Schema names: the worker protocol's bodies are the engine's records, whose nested names repeat
 * ({@code Register.Request}, {@code Heartbeat.Request}, ...), and the effective config's sections
 * are {@code EngineConfig.Model}, ...; OpenAPI names schemas by simple name, so one would silently
 * replace another. They are named {@code RegisterRequest}, {@code EngineConfigModel}, ... instead
 * (swagger-core takes a Jackson root name before the class name). The engine's enums are listed by
 * the JSON names the API writes ({@link EngineJsonNames}).
 */
@Configuration(proxyBeanMethods = false)
class OpenApiConfiguration {

  private static final String PROTOCOL = "dev.pipemoe.engine.protocol";
  private static final String PROBLEM = "Problem";

  @Bean
  OpenAPI pipemoeOpenApi() {
    for (ObjectMapper swagger : new ObjectMapper[] {Json.mapper(), Json31.mapper()}) {
      AnnotationIntrospector current = swagger.getSerializationConfig().getAnnotationIntrospector();
      if (current.allIntrospectors().stream().noneMatch(EngineSchemaNames.class::isInstance)) {
        swagger.setAnnotationIntrospector(AnnotationIntrospector.pair(new EngineSchemaNames(), current));
      }
    }
    Components components = new Components().addSecuritySchemes("bearer",
        new SecurityScheme().type(SecurityScheme.Type.HTTP).scheme("bearer")
            .description("a pipemoe token (pmt_...), created by an admin at /api/v1/admin/tokens"));
    ModelConverters.getInstance().readAll(ProblemSchema.class).forEach(components::addSchemas);
    return new OpenAPI()
        .info(new Info().title("pipemoe service").version("v1")
            .description("Submit, validate and follow MoE training jobs that use pipe-experts communication hiding."
                + " Workers lease them through the worker protocol (docs/worker-protocol.md)."
                + " Errors are RFC 9457 problem details. Guide: docs/service.md; spec fields: docs/config.md."))
        // relative: Swagger UI calls the host that served it, the document is the same on every
        // host and port, and generated clients are given their base URL
        .servers(List.of(new Server().url("/").description("the service that serves this document")))
        .components(components)
        .addSecurityItem(new SecurityRequirement().addList("bearer"));
  }

  /** 401 and 403 on every operation, and the statuses its {@link ProblemResponses} lists, as problem details. */
  @Bean
  OperationCustomizer problemResponses() {
    return (operation, handler) -> {
      ProblemResponses listed = handler.getMethodAnnotation(ProblemResponses.class);
      IntStream.concat(IntStream.of(401, 403), listed == null ? IntStream.empty() : IntStream.of(listed.value()))
          .distinct().sorted()
          .forEach(status -> operation.getResponses().addApiResponse(Integer.toString(status), new ApiResponse()
              .description(HttpStatus.valueOf(status).getReasonPhrase())
              .content(new Content().addMediaType(org.springframework.http.MediaType.APPLICATION_PROBLEM_JSON_VALUE,
                  new MediaType().schema(new Schema<>().$ref("#/components/schemas/" + PROBLEM))))));
      return operation;
    };
  }

  /** Schema names for the engine's nested records, and the engine's enums by their JSON names. */
  static final class EngineSchemaNames extends NopAnnotationIntrospector {

    @Override
    public PropertyName findRootName(AnnotatedClass ac) {
      Class<?> type = ac.getRawType();
      Class<?> outer = type.getEnclosingClass();
      return outer != null && (type.getPackageName().equals(PROTOCOL) || outer == EngineConfig.class)
          ? PropertyName.construct(outer.getSimpleName() + type.getSimpleName()) : null;
    }

    @Override
    @SuppressWarnings("deprecation") // the variant swagger-core calls
    public String[] findEnumValues(Class<?> enumType, Enum<?>[] enumValues, String[] names) {
      if (Named.class.isAssignableFrom(enumType) || enumType == DType.class) {
        for (int i = 0; i < enumValues.length; i++) {
          names[i] = EngineJsonNames.of(enumValues[i]);
        }
      }
      return names;
    }
  }
}
