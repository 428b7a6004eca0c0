package dev.pipemoe.engine.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

class ValidatorPropertiesTest {

  private static final Set<String> POINTERS =
      Arrays.stream(SpecField.values()).map(f -> f.pointer).collect(Collectors.toSet());

  @Provide
  Arbitrary<JobSpec> specs() {
    return SpecArbitraries.anySpec();
  }

  /** validate() never throws, whatever the spec (jqwik fails a property on any exception). */
  @Property(tries = 2000)
  void neverThrowsAndEveryViolationPointsIntoTheSpec(@ForAll("specs") JobSpec spec) {
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
  }

  @Property(tries = 500)
  void validationIsAFunctionOfTheSpec(@ForAll("specs") JobSpec spec) {
    assertThat(Validator.validate(spec)).isEqualTo(Validator.validate(spec));
  }

  @Property(tries = 2000)
  void anAcceptedSpecRunsAsItsEffectiveConfigSays(@ForAll("plausible") JobSpec spec) {
    Validation v = Validator.validate(spec);
    Statistics.label("accepted").collect(v.ok());
    Statistics.label("schedule").collect(v.ok() ? v.effective().schedule() : null);
    // the property means something only if many specs are accepted, in every schedule
    Statistics.label("accepted").coverage(c -> c.check(true).percentage(p -> p > 20));
    Statistics.label("schedule").coverage(c -> {
      c.check(ScheduleKind.MINDSPEED).count(n -> n > 0);
      c.check(ScheduleKind.IMPROVED).count(n -> n > 0);
    });
    if (!v.ok()) {
      return;
    }
    EngineConfig c = v.effective();
    assertThat(c.resources().devices()).isEqualTo(c.parallel().tensor() * c.parallel().data());
    assertThat(c.schedule() == ScheduleKind.SERIAL).isEqualTo(!c.pipeExperts().enabled());
    if (c.pipeExperts().enabled()) {
      assertThat(c.pipeExperts().multiData()).isLessThanOrEqualTo(c.capacity());
      assertThat(c.chunksForward()).isGreaterThanOrEqualTo(2);
    }
    boolean askedSp = Boolean.TRUE.equals(SpecField.SEQUENCE_PARALLEL.get(spec));
    assertThat(c.parallel().sequenceParallel()).isEqualTo(askedSp && c.parallel().tensor() >= 2);
    assertThat(v.warnings().isEmpty() || !v.notes().isEmpty()).isTrue();
  }


  /** Specs near the valid region, so that many are accepted. */
  @Provide
  Arbitrary<JobSpec> plausible() {
    return SpecArbitraries.anySpec().map(s -> {
      var m = s.model();
      var model = new JobSpec.ModelSpec("deepspeed_moe", 1, m == null ? null : m.hiddenSize(), 512,
          m == null || m.numExperts() == null ? 8 : Math.floorMod(m.numExperts(), 16) + 1,
          m == null ? null : m.topK(), null, null, m == null ? null : m.swiglu(), 512,
          m == null || m.microBatchSize() == null ? 1 : Math.floorMod(m.microBatchSize(), 4) + 1, null, null);
      var p = s.parallel();
      var parallel = p == null ? null : new JobSpec.ParallelSpec(
          p.tensor() == null ? null : 1 << Math.floorMod(p.tensor(), 3), p.data() == null ? null : Math.floorMod(p.data(), 9),
          p.expert() == null ? null : 1 << Math.floorMod(p.expert(), 4), p.sequenceParallel());
      var pe = s.pipeExperts();
      var pipe = pe == null ? null : new JobSpec.PipeExpertsSpec(pe.enabled(), pe.multiStream(),
          pe.multiData() == null ? null : Math.floorMod(pe.multiData(), 9),
          pe.family() == null || pe.family().equals("mindspeed") ? pe.family() : "improved",
          pe.prefetchDepth() == null ? null : Math.floorMod(pe.prefetchDepth(), 4),
          pe.multiDataBackward() == null ? null : Math.floorMod(pe.multiDataBackward(), 9));
      return new JobSpec(model, parallel, pipe, null, null, null, null);
    });
  }
}
