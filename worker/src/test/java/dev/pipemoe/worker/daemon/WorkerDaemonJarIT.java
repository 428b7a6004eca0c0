package dev.pipemoe.worker.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.protocol.Assignment;
import dev.pipemoe.engine.protocol.AttemptStatus.State;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar as a daemon, the way the standalone launcher and Kubernetes start it: it
 * registers, runs a job to SUCCEEDED, and on SIGTERM stops the next one between steps and reports
 * it FAILED/SHUTDOWN before the JVM exits.
 */
class WorkerDaemonJarIT {

  @Test
  void theJarRunsJobsAndStopsGracefullyOnSigterm(@TempDir Path dir) throws Exception {
    Path jar = Path.of("target", "pipemoe-worker.jar");
    Path log = dir.resolve("worker.log");
    try (ProtocolStub stub = new ProtocolStub()) {
      ProcessBuilder pb = new ProcessBuilder(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
          jar.toString(), "--server.port=0", "--pipemoe.worker.service-url=" + stub.url(),
          "--pipemoe.worker.name=jar-worker", "--pipemoe.worker.spool-dir=" + dir.resolve("spool"),
          "--pipemoe.worker.flush-interval=100ms"))
          .redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().put("PIPEMOE_WORKER_TOKEN", ProtocolStub.TOKEN);  // as in production
      Process p = pb.start();
      try {
        Assignment ok = WorkerDaemonTest.job("jar-ok", 4);
        stub.queue.add(ok);
        WorkerDaemonTest.await("the first job succeeded",
            () -> stub.states(ok.ref()).contains(State.SUCCEEDED) || !p.isAlive());
        assertThat(stub.states(ok.ref())).as(Files.readString(log))
            .containsExactly(State.STARTED, State.SUCCEEDED);

        Assignment longJob = WorkerDaemonTest.job("jar-long", 1_000_000);
        stub.queue.add(longJob);
        WorkerDaemonTest.await("the second job ships metrics",
            () -> stub.storedFor(longJob.ref()) >= 8 || !p.isAlive());
        p.destroy();  // SIGTERM
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String text = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(stub.states(longJob.ref())).as(text)
            .containsExactly(State.STARTED, State.FAILED);
        assertThat(stub.statuses.getLast().status().reason()).isEqualTo("SHUTDOWN");
        assertThat(text).contains("shutting down").contains("stopped; 0 metric records wait")
            .doesNotContain("restricted method").doesNotContain("WARNING:");
      } finally {
        p.destroyForcibly();
      }
    }
  }
}
