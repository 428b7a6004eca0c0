package dev.pipemoe.service.system;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The OpenAPI document at /v3/api-docs: every route needs a bearer token (health is not listed). */
@Configuration(proxyBeanMethods = false)
class OpenApiConfiguration {

  @Bean
  OpenAPI pipemoeOpenApi() {
    return new OpenAPI()
        .info(new Info().title("pipemoe service").version("v1")
            .description("Submit, validate and follow MoE training jobs that use pipe-experts communication hiding."
                + " Errors are RFC 9457 problem details. Guide: docs/service.md; spec fields: docs/config.md."))
        .components(new Components().addSecuritySchemes("bearer",
            new SecurityScheme().type(SecurityScheme.Type.HTTP).scheme("bearer")
                .description("a pipemoe token (pmt_...), created by an admin at /api/v1/admin/tokens")))
        .addSecurityItem(new SecurityRequirement().addList("bearer"));
  }
}
