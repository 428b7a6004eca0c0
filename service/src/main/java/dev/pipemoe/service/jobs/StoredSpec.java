package dev.pipemoe.service.jobs;

import dev.pipemoe.engine.config.JobSpec;
import java.util.LinkedHashSet;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A stored spec ({@code jobs.spec}) back as the engine's {@link JobSpec}, for the assignment a
 * worker receives. It binds through {@link SpecBinder}, the same code that bound the submission,
 * so what the worker validates is exactly what the service validated.
 */
public final class StoredSpec {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private StoredSpec() {}

  public static JobSpec read(String specJson) {
    JsonNode root = JSON.readTree(specJson);
    Set<String> sections = new LinkedHashSet<>(root.propertyNames());
    SpecBinder binder = new SpecBinder();
    JobSpec spec = binder.bind(root, sections);
    if (spec == null) {
      // it bound when it was submitted; only a schema change without a migration gets here
      throw new IllegalStateException("a stored spec no longer binds: " + binder.errors());
    }
    return spec;
  }
}
