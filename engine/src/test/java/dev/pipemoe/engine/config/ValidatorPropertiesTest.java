package dev.pipemoe.engine.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.testing.Property;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ValidatorPropertiesTest {

  private static final Set<String> POINTERS =
      Arrays.stream(SpecField.values()).map(f -> f.pointer).collect(Collectors.toSet());

  /** validate() never throws, whatever the spec (the harness fails a property on any exception). */
  @Test
  void neverThrowsAndEveryViolationPointsIntoTheSpec() {
    AtomicInteger violations = new AtomicInteger();
    Property.forAll(2000, SpecGen::anySpec, spec -> {
      Validation v = Validator.validate(spec);
      List<Violation> all = new ArrayList<>(v.errors());
      all.addAll(v.warnings());
      for (Violation violation : all) {
        assertThat(POINTERS).contains(violation.pointer());
        assertThat(violation.message()).startsWith(violation.rule() + ": ");
        assertThat(violation.flag()).startsWith("--");
      }
      assertThat(v.errors()).allMatch(e -> e.severity() == Severity.ERROR);
      assertThat(v.warnings()).allMatch(w -> w.severity() == Severity.WARNING);
      violations.addAndGet(all.size());
    });
    assertThat(violations.get()).as("violations checked").isPositive();
  }

  @Test
  void validationIsAFunctionOfTheSpec() {
    Property.forAll(500, SpecGen::anySpec,
        spec -> assertThat(Validator.validate(spec)).isEqualTo(Validator.validate(spec)));
  }

  @Test
  void anAcceptedSpecRunsAsItsEffectiveConfigSays() {
    int tries = 2000;
    AtomicInteger rejected = new AtomicInteger();
    Map<ScheduleKind, Integer> accepted = new EnumMap<>(ScheduleKind.class);
    Property.forAll(tries, ValidatorPropertiesTest::plausible, spec -> {
      Validation v = Validator.validate(spec);
      if (!v.ok()) {
        rejected.incrementAndGet();
        return;
      }
      EngineConfig c = v.effective();
      accepted.merge(c.schedule(), 1, Integer::sum);
      assertThat(c.resources().devices()).isEqualTo(c.parallel().tensor() * c.parallel().context() * c.parallel().data());
      assertThat(c.schedule() == ScheduleKind.SERIAL).isEqualTo(!c.pipeExperts().enabled());
      if (c.pipeExperts().enabled()) {
        assertThat(c.pipeExperts().multiData()).isLessThanOrEqualTo(c.capacity());
        assertThat(c.chunksForward()).isGreaterThanOrEqualTo(2);
      }
      boolean askedSp = Boolean.TRUE.equals(SpecField.SEQUENCE_PARALLEL.get(spec));
      assertThat(c.parallel().sequenceParallel()).isEqualTo(askedSp && c.parallel().tensor() >= 2);
      assertThat(v.warnings().isEmpty() || !v.notes().isEmpty()).isTrue();
    });
    // the property means something only if many specs are accepted, in every pipelined schedule,
    // and the generator still reaches past the valid region
    int acceptedCount = accepted.values().stream().mapToInt(Integer::intValue).sum();
    assertThat(acceptedCount).as("accepted of %d (%s)", tries, accepted).isGreaterThan(tries / 5);
    assertThat(accepted).as("accepted specs by schedule")
        .containsKeys(ScheduleKind.MINDSPEED, ScheduleKind.IMPROVED);
    assertThat(rejected.get()).as("rejected specs").isPositive();
  }

  /** Specs near the valid region, so that many are accepted. */
  static JobSpec plausible(SplittableRandom r) {
    JobSpec s = SpecGen.anySpec(r);
    var m = s.model();
    var model = new JobSpec.ModelSpec("deepspeed_moe", 1, m == null ? null : m.hiddenSize(), 512,
        m == null || m.numExperts() == null ? 8 : Math.floorMod(m.numExperts(), 16) + 1,
        m == null ? null : m.topK(), null, null, m == null ? null : m.swiglu(), 512,
        m == null || m.microBatchSize() == null ? 1 : Math.floorMod(m.microBatchSize(), 4) + 1, null, null,
        null, null, null, null, null);
    var p = s.parallel();
    var parallel = p == null ? null : new JobSpec.ParallelSpec(
        p.tensor() == null ? null : 1 << Math.floorMod(p.tensor(), 3), p.data() == null ? null : Math.floorMod(p.data(), 9),
        p.expert() == null ? null : 1 << Math.floorMod(p.expert(), 4), p.sequenceParallel(), null);
    var pe = s.pipeExperts();
    var pipe = pe == null ? null : new JobSpec.PipeExpertsSpec(pe.enabled(), pe.multiStream(),
        pe.multiData() == null ? null : Math.floorMod(pe.multiData(), 9),
        pe.family() == null || pe.family().equals("mindspeed") ? pe.family() : "improved",
        pe.prefetchDepth() == null ? null : Math.floorMod(pe.prefetchDepth(), 4),
        pe.multiDataBackward() == null ? null : Math.floorMod(pe.multiDataBackward(), 9));
    return new JobSpec(model, parallel, pipe, null, null, null, null);
  }
}
