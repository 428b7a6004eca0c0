package dev.pipemoe.worker.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bench command as a user runs it, on a tiny shape (what it measures is not asserted). */
class BenchCommandTest {
  static final String JOB = "--moe-model-type deepspeed_moe --num-experts 4"
      + " --expert-model-parallel-size 2 --tensor-model-parallel-size 2 --sequence-parallel"
      + " --hidden-size 16 --ffn-hidden-size 32 --seq-length 32 --moe-router-topk 2"
      + " --fabric-comm-ratio 1";

  record Run(int code, String out, String err) {}

  static Run bench(String args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = BenchCommand.run(args.trim().split("\\s+"), new PrintStream(out, true),
        new PrintStream(err, true));
    return new Run(code, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void gridVerifiesEveryCombinationAndWritesJsonWithSerialFirst(@TempDir Path dir)
      throws Exception {
    Path json = dir.resolve("grid.json");
    Run run = bench(JOB + " --steps 2 --grid --verify --json " + json + " --trace " + dir);
    assertThat(run.code()).as(run.err()).isZero();
    // serial + 2 families x (multi-stream off/on) x N in {1, 2, 4}: C = 16 admits every N
    List<String> configs = matches(Files.readString(json), "\"config\": \"([^\"]+)\"");
    assertThat(configs).hasSize(13).first().isEqualTo("serial");
    assertThat(configs).contains("mindspeed ms N=4", "improved N=2");
    for (String err : matches(Files.readString(json), "\"maxRelError\": ([^}]+)}")) {
      if (!err.equals("null")) {
        assertThat(Double.parseDouble(err)).isLessThan(1e-4);
      }
    }
    assertThat(run.out()).contains("| serial ").contains("calibration:");
    assertThat(run.err()).contains("[13/13] improved ms N=4").contains("done in");
    assertThat(Files.readString(dir.resolve("mindspeed-ms-N2.trace.json")))
        .startsWith("{\"traceEvents\":[").contains("\"ph\":\"X\"");
  }

  @Test
  void withoutGridItComparesTheGivenConfigWithSerial() {
    Run run = bench(JOB + " --use-pipe-experts --pipe-experts-multi-data 2 --steps 2");
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out()).contains("| serial ").contains("| mindspeed N=2 ");
  }

  @Test
  void simCpuMeasuresItsProfileAndComparesEveryRowWithTheNativeRuntime() {
    Run run = bench(JOB + " --use-pipe-experts --steps 2 --device sim:cpu --compare-native");
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out()).contains("device: simulated cpu")
        .contains("measured on the native runtime (4 rank(s) at once, median of 5 bursts)")
        .contains("GEMM fit").contains("links: the native job's; link 0:")
        .contains("predicted on sim:cpu against measured on the native runtime")
        .contains("| GEMM ms nat/sim");
    // the comparison's lines: native ms | sim ms (two decimals, the bench table has one) | error
    List<String> errors = matches(run.out(), "\\| (?:serial|mindspeed N=1) +\\| +[0-9]+\\.[0-9]{2}"
        + " \\| +[0-9]+\\.[0-9]{2} \\| +([-+][0-9.]+)% \\|");
    assertThat(errors).hasSize(2);
    assertThat(run.err()).contains("mindspeed N=1 native").contains("done in");

    Run refused = bench(JOB + " --steps 2 --compare-native");
    assertThat(refused.code()).isEqualTo(2);
    assertThat(refused.err()).contains("--compare-native").contains("--device sim:cpu");

    Run nodes = bench(JOB + " --steps 2 --device sim:cpu --ranks-per-node 2");
    assertThat(nodes.code()).isEqualTo(2);
    assertThat(nodes.err()).contains("--ranks-per-node is not for sim:cpu");
  }

  @Test
  void invalidJobsAndBadFlagsAreRefusedWithTheRule() {
    Run invalid = bench(JOB.replace("--sequence-parallel", "")
        + " --use-pipe-experts --pipe-experts-multi-stream");
    assertThat(invalid.code()).isEqualTo(2);
    assertThat(invalid.err()).contains("V2").contains("--pipe-experts-multi-stream");

    Run unknown = bench(JOB + " --no-such-flag");
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err()).contains("--no-such-flag");

    Run badSteps = bench(JOB + " --steps zero");
    assertThat(badSteps.code()).isEqualTo(2);
    assertThat(badSteps.err()).contains("--steps must be a positive integer, was zero");
  }

  private static List<String> matches(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    List<String> out = new java.util.ArrayList<>();
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }
}
