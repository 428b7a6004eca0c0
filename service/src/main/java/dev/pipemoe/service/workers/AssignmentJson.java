package dev.pipemoe.service.workers;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.pipemoe.engine.config.JobSpec;
import java.lang.reflect.RecordComponent;
import org.springframework.boot.jackson.autoconfigure.JsonMapperBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The spec in an assignment leaves out what the user did not give, as the stored spec does: null
 * means "not given" in a spec, and two dozen {@code "x": null} lines per assignment say nothing.
 * Only the engine's spec records are affected; every other body keeps its own inclusion rules.
 */
@Configuration(proxyBeanMethods = false)
class AssignmentJson {

  @Bean
  JsonMapperBuilderCustomizer specWithoutNulls() {
    JsonInclude.Value nonNull = JsonInclude.Value.construct(JsonInclude.Include.NON_NULL, JsonInclude.Include.NON_NULL);
    return builder -> {
      builder.withConfigOverride(JobSpec.class, o -> o.setInclude(nonNull));
      for (RecordComponent section : JobSpec.class.getRecordComponents()) {
        builder.withConfigOverride(section.getType(), o -> o.setInclude(nonNull));
      }
    };
  }
}
