package dev.pipemoe.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The packaged Spring Boot fat jar loads the native runtime out of its nested native-bridge jar and
 * runs the engine: the path a real worker takes, after {@code package}.
 */
class WorkerJarIT {

  @Test
  void fatJarRunsTheBenchOnTheNativeRuntimeWithoutWarnings() throws Exception {
    Path jar = Path.of("target", "pipemoe-worker.jar");
    assertThat(jar).exists();
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Path out = Files.createTempFile("bench", ".out");
    Process p = new ProcessBuilder(List.of(java.toString(), "-jar", jar.toString(), "bench",
        "--moe-model-type", "deepspeed_moe", "--num-experts", "2",
        "--expert-model-parallel-size", "2", "--hidden-size", "8", "--ffn-hidden-size", "16",
        "--seq-length", "16", "--use-pipe-experts", "--pipe-experts-multi-data", "2",
        "--fabric-comm-ratio", "1", "--steps", "2", "--verify"))
        .redirectErrorStream(true).redirectOutput(out.toFile()).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("bench finished").isTrue();
    String text = Files.readString(out, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(text).isZero();
    assertThat(text).contains("| serial ").contains("| mindspeed N=2 ")
        .doesNotContain("restricted method").doesNotContain("WARNING");
    deleteQuietly(out);
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      // a temp file left behind is harmless
    }
  }
}
