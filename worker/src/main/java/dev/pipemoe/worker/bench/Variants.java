package dev.pipemoe.worker.bench;

import dev.pipemoe.engine.config.EngineConfig;
import dev.pipemoe.engine.config.JobSpec;
import dev.pipemoe.engine.config.JobSpec.PipeExpertsSpec;
import dev.pipemoe.engine.config.JobSpec.TrainingSpec;
import dev.pipemoe.engine.config.ScheduleKind;
import dev.pipemoe.engine.config.Validation;
import dev.pipemoe.engine.config.Validator;
import dev.pipemoe.engine.train.JobRunner;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The configurations a bench compares: the same job, pipe-experts switched differently. */
final class Variants {
  private Variants() {}

  record Variant(String name, EngineConfig config) {
    boolean isSerial() {
      return config.schedule() == ScheduleKind.SERIAL;
    }

    String fileName() {
      return name.replaceAll("[^A-Za-z0-9=]+", "-").replace("=", "");
    }
  }

  /** Serial first, then the spec as given when it is not serial. */
  static List<Variant> single(JobSpec spec, EngineConfig given) {
    List<Variant> v = new ArrayList<>();
    v.add(variant(Validator.validate(withPipeExperts(spec, false, null, null, null)).orThrow()));
    if (given.schedule() != ScheduleKind.SERIAL) {
      v.add(variant(given));
    }
    return v;
  }

  /**
   * Serial, then both families x multi-stream off/on x N in {1, 2, 4}; a combination that
   * validation refuses (multi-stream without SP, N above capacity) or switches off (one local
   * expert and N = 1) is left out, as is one that runs what an earlier row ran.
   */
  static List<Variant> grid(JobSpec spec) {
    List<Variant> v = new ArrayList<>();
    Set<EngineConfig> seen = new LinkedHashSet<>();
    add(v, seen, Validator.validate(withPipeExperts(spec, false, null, null, null)));
    for (String family : new String[] {"mindspeed", "improved"}) {
      for (boolean multiStream : new boolean[] {false, true}) {
        for (int n : new int[] {1, 2, 4}) {
          Validation val = Validator.validate(withPipeExperts(spec, true, multiStream, n, family));
          if (val.ok() && val.effective().schedule() != ScheduleKind.SERIAL) {
            add(v, seen, val);
          }
        }
      }
    }
    return v;
  }

  private static void add(List<Variant> v, Set<EngineConfig> seen, Validation val) {
    EngineConfig c = val.orThrow();
    if (seen.add(c)) {
      v.add(variant(c));
    }
  }

  private static Variant variant(EngineConfig c) {
    return new Variant(JobRunner.schedule(c).name(), c);
  }

  static JobSpec withPipeExperts(JobSpec s, Boolean enabled, Boolean multiStream, Integer n,
      String family) {
    PipeExpertsSpec pe = s.pipeExperts();
    boolean improved = "improved".equals(family);
    PipeExpertsSpec next = new PipeExpertsSpec(enabled, multiStream, n, family,
        improved && pe != null ? pe.prefetchDepth() : null,
        improved && pe != null ? pe.multiDataBackward() : null);
    return new JobSpec(s.model(), s.parallel(), next, s.training(), s.fabric(), s.resources(),
        s.mindspeed());
  }

  static JobSpec withSteps(JobSpec s, int steps) {
    TrainingSpec t = s.training();
    TrainingSpec next = t == null ? new TrainingSpec(steps, null, null, null, null, null, null)
        : new TrainingSpec(steps, t.warmupSteps(), t.seed(), t.learningRate(), t.globalBatchSize(),
            t.dataPath(), t.useDistributedOptimizer());
    return new JobSpec(s.model(), s.parallel(), s.pipeExperts(), next, s.fabric(), s.resources(),
        s.mindspeed());
  }
}
