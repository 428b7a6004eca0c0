package dev.pipemoe.service.jobs;

import dev.pipemoe.engine.config.JobSpec;
import io.swagger.v3.oas.annotations.media.Schema;

/**
 * The three forms of a job submission, as OpenAPI shows them. The controller reads the body itself
 * (to enforce the size limit and report every problem with its pointer), so the schema is given
 * here: the engine's {@link JobSpec} sections next to name, or args.
 */
final class OpenApiExamples {

  private OpenApiExamples() {}

  static final String JSON = """
      {
        "name": "e8-ep4-n2",
        "model": {"moeModelType": "deepspeed_moe", "numExperts": 8},
        "parallel": {"tensor": 2, "expert": 4, "sequenceParallel": true},
        "pipeExperts": {"enabled": true, "multiStream": true, "multiData": 2}
      }""";

  static final String YAML = """
      name: e4-ep4-multi-data
      model:
        moeModelType: deepspeed_moe
        numExperts: 4
      parallel:
        expert: 4
      pipeExperts:
        enabled: true
        multiData: 4
      """;

  static final String ARGS = """
      {
        "name": "pasted-from-mindspeed",
        "args": "--moe-model-type deepspeed_moe --num-experts 8 --tensor-model-parallel-size 2 --expert-model-parallel-size 4 --sequence-parallel --use-pipe-experts --pipe-experts-multi-stream --pipe-experts-multi-data 2"
      }""";

  @Schema(name = "JobSubmission", description = "name plus either the spec's sections or args, not both;"
      + " unknown fields are refused. Field reference: docs/config.md")
  record SubmissionSchema(
      @Schema(requiredMode = Schema.RequiredMode.REQUIRED, description = "1-100 letters, digits, '.', '_', '-'",
          example = "e8-ep4-n2") String name,
      @Schema(description = "a MindSpeed-style argument string, instead of the sections") String args,
      JobSpec.ModelSpec model,
      JobSpec.ParallelSpec parallel,
      JobSpec.PipeExpertsSpec pipeExperts,
      JobSpec.TrainingSpec training,
      JobSpec.FabricSpec fabric,
      JobSpec.ResourcesSpec resources,
      JobSpec.MindSpeedSpec mindspeed) {}
}
