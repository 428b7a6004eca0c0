package dev.pipemoe.service.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.config.JobSpec;
import dev.pipemoe.service.system.Problems.FieldError;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The binder alone: names and JSON types against the engine's records, nothing about values. */
class SpecBinderTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Set<String> ALL = Set.copyOf(SpecBinder.sectionNames());

  @Test
  void bindsEveryKindOfField() {
    SpecBinder binder = new SpecBinder();
    JobSpec spec = binder.bind(json("""
        {"model": {"numExperts": 8, "capacityFactor": 1, "swiglu": true, "dtype": "bf16"},
         "training": {"seed": 9007199254740993}, "pipeExperts": {"multiData": 1e1}}"""), ALL);

    assertThat(binder.errors()).isEmpty();
    assertThat(spec.model().numExperts()).isEqualTo(8);
    assertThat(spec.model().capacityFactor()).isEqualTo(1.0);
    assertThat(spec.model().swiglu()).isTrue();
    assertThat(spec.model().dtype()).isEqualTo("bf16");
    assertThat(spec.training().seed()).isEqualTo(9007199254740993L);
    assertThat(spec.pipeExperts().multiData()).isEqualTo(10);
    assertThat(spec.parallel()).isNull();
  }

  @Test
  void valuesAreNotItsBusiness() {
    SpecBinder binder = new SpecBinder();
    JobSpec spec = binder.bind(json("{\"model\": {\"numExperts\": -3, \"dtype\": \"int4\"}}"), ALL);
    assertThat(binder.errors()).isEmpty();
    assertThat(spec.model().numExperts()).isEqualTo(-3);
  }

  @Test
  void everyProblemIsCollectedWithItsPointer() {
    SpecBinder binder = new SpecBinder();
    JobSpec spec = binder.bind(json("""
        {"model": {"numExperts": 8.5, "topk": 2, "dtype": ["bf16"]},
         "training": {"seed": 1e30}, "parallel": true}"""), ALL);

    assertThat(spec).isNull();
    assertThat(binder.errors()).extracting(FieldError::pointer)
        .containsExactlyInAnyOrder("/model/numExperts", "/model/topk", "/model/dtype", "/training/seed", "/parallel");
    assertThat(binder.errors()).filteredOn(e -> e.pointer().equals("/model/topk")).singleElement()
        .satisfies(e -> assertThat(e.message()).contains("did you mean 'topK'?"));
  }

  private static JsonNode json(String text) {
    return JSON.readTree(text);
  }
}
