package dev.pipemoe.engine.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pipemoe.engine.config.EngineConfig;
import dev.pipemoe.engine.config.Validator;
import dev.pipemoe.engine.model.GptShape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Plans built from effective configs: what the worker and the bench hand to the trainer. */
class JobRunnerPlanTest {

  @TempDir Path dir;

  private static EngineConfig config(String args) {
    return Validator.validateArgs("--moe-model-type deepspeed_moe --num-experts 4 " + args).orThrow();
  }

  @Test
  void aMoeStackPlanHasNoWholeModel() {
    TrainingPlan plan = JobRunner.plan(config("--tensor-model-parallel-size 2 --expert-model-parallel-size 2"));
    assertThat(plan.gpt()).isNull();
    assertThat(plan.tokens()).isNull();
  }

  @Test
  void aGptPlanHasItsShapeAndTokens() {
    TrainingPlan plan = JobRunner.plan(config("--num-attention-heads 4 --hidden-size 64 --ffn-hidden-size 128"
        + " --seq-length 64 --tensor-model-parallel-size 2 --expert-model-parallel-size 2 --sequence-parallel"
        + " --data-parallel-size 2 --micro-batch-size 2 --global-batch-size 8 --num-layers 2"
        + " --recompute-granularity full"));
    assertThat(plan.gpt()).isEqualTo(new GptShape(256, 4, 64, 2, 2, 1, true, false));
    assertThat(plan.layers()).isEqualTo(2);
    assertThat(plan.shape().tokens()).isEqualTo(64); // 2·64/2
    assertThat(plan.shape().data()).isEqualTo(2);
    assertThat(plan.tokens().vocabSize()).isEqualTo(256);
    assertThat(plan.tokens().sequences(0, 1, 1, 2, 2, 65)).hasSize(130);
  }

  @Test
  void contextParallelismCutsTheMoeBlocksTokensAndJoinsItsDataRanks() {
    EngineConfig c = config("--num-attention-heads 8 --hidden-size 256 --seq-length 256"
        + " --tensor-model-parallel-size 2 --sequence-parallel --context-parallel-size 2"
        + " --data-parallel-size 2 --expert-model-parallel-size 4 --device-type ascend-910c");
    TrainingPlan plan = JobRunner.plan(c);
    assertThat(plan.shape().data()).isEqualTo(4); // cp 2 x dp 2
    assertThat(plan.shape().tokens()).isEqualTo(64); // 256 / (cp 2 x tp 2)
    assertThat(plan.shape().worldSize()).isEqualTo(c.worldSize()).isEqualTo(8);
    assertThat(plan.gpt().contextParallel()).isEqualTo(2);
  }

  @Test
  void aDataFileIsReadAndATooShortOneFailsBeforeTraining() throws IOException {
    Path text = Files.writeString(dir.resolve("text.txt"), "abcdefgh".repeat(100));
    TrainingPlan plan = JobRunner.plan(config("--num-attention-heads 2 --hidden-size 64 --seq-length 16"
        + " --data-path " + text));
    int[] row = plan.tokens().sequences(0, 0, 0, 1, 1, 17);
    assertThat(new String(row, 0, 17)).isSubstringOf("abcdefgh".repeat(4));

    Path tiny = Files.writeString(dir.resolve("tiny.txt"), "short");
    assertThatThrownBy(() -> JobRunner.plan(config("--num-attention-heads 2 --hidden-size 64 --seq-length 16"
        + " --data-path " + tiny))).hasMessageContaining("5 tokens").hasMessageContaining("--seq-length");
    assertThatThrownBy(() -> JobRunner.plan(config("--num-attention-heads 2 --hidden-size 64 --data-path "
        + dir.resolve("missing.txt")))).hasMessageContaining("missing.txt").hasMessageContaining("does not exist");
  }
}
