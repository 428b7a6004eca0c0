package dev.pipemoe.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The pipemoe command line (cli/target/pipemoe-cli.jar) as a process against the packaged service
 * and an 8-device worker: the README's first job submitted and watched to its summary, two jobs
 * compared, an invalid job refused with every rule, a watch through a service restart, a cancelled
 * job's watch, an unknown job. Its
 * output is not a terminal, so watch prints plain lines (docs/cli.md).
 */
class CliIT {
  static final Duration RUN = Duration.ofSeconds(180);

  @RegisterExtension
  static final E2eSystem system = new E2eSystem(Map.of(
      "pipemoe.scheduler.heartbeat-interval", "500ms",  // a cancel reaches the worker within 0.5 s
      "pipemoe.scheduler.poll-timeout", "5s"));

  static Cli cli;
  static Api api;

  @TempDir
  Path tmp;

  @BeforeAll
  static void start() {
    api = system.api();
    cli = system.cli();
    system.worker("node-a", system.workerToken(), Map.of("pipemoe.worker.devices", "8")).awaitReady();
  }

  @Test
  void submitWithWatchShowsTheStepsAndEndsWithTheSummary() {
    Cli.Result r = cli.run(RUN.toSeconds(), "submit", "-f", "examples/e8-ep4/multi-data-2.json", "--watch");

    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).as(r.toString())
        .containsPattern("submitted e8-ep4-multi-data-2: [0-9a-f-]{36} QUEUED")
        .contains("QUEUED → RUNNING  LEASED  attempt 1 of 3 leased by worker node-a (8 ranks)")
        .containsPattern("step 20/20 \\(attempt 1\\)  ETA 0s  TFLOP/s/device [0-9.]+ now, [0-9.]+ mean  exposed comm [0-9.]+ %  loss [0-9.]+")
        .contains("RUNNING → SUCCEEDED  SUCCEEDED")
        .containsPattern("e8-ep4-multi-data-2 \\([0-9a-f-]{36}\\): SUCCEEDED, 20 of 20 steps \\(attempt 1, 8 ranks\\)")
        .containsPattern("TFLOP/s per device  [0-9.]+ \\(hardware [0-9.]+\\), over 17 measured steps");
    assertThat(r.out()).doesNotContain("\r").doesNotContain("\033[");  // not a terminal: plain lines
    assertThat(r.err()).isEmpty();
    String id = r.out().lines().filter(l -> l.startsWith("submitted ")).findFirst().orElseThrow().split(" ")[2];
    assertThat(api.job(id).path("state").asString()).isEqualTo("SUCCEEDED");
  }

  @Test
  void compareOfTwoJobsPrintsTheTableWithTheFieldsTheyDifferIn() {
    String a = api.submit(JobSpecs.job("cmp-a", 6, 20));
    String b = api.submit(JobSpecs.job("cmp-b", 6, 40));
    assertThat(api.awaitEnd(a, RUN)).isEqualTo("SUCCEEDED");
    assertThat(api.awaitEnd(b, RUN)).isEqualTo("SUCCEEDED");

    Cli.Result text = cli.run(60, "compare", a, b);
    assertThat(text.exit()).as(text.toString()).isZero();
    List<String> lines = text.out().lines().toList();
    assertThat(lines).as(text.toString()).hasSize(3);
    assertThat(lines.get(0).split(" +"))
        .containsExactly("JOB", "ID", "STATE", "TFLOP/s/DEVICE", "GAIN", "STEP", "EXPOSED", "COMM", "fabric.commRatio");
    assertThat(lines.get(1)).startsWith("cmp-a").contains(a).contains("SUCCEEDED").contains("(base)").endsWith(" 20.0");
    assertThat(lines.get(2)).startsWith("cmp-b").contains(b).containsPattern(" [+-][0-9.]+ % ").endsWith(" 40.0");

    Cli.Result csv = cli.run(60, "compare", "--csv", a, b);
    assertThat(csv.out().lines().toList()).hasSize(3)
        .first().isEqualTo("job,id,state,tflopsPerDevice,gain,stepSeconds,exposedCommShare,fabric.commRatio");
    double tflopsA = api.summary(a).path("tflopsPerDevice").asDouble();
    assertThat(csv.out().lines().toList().get(1)).startsWith("cmp-a," + a + ",SUCCEEDED," + tflopsA + ",0,");

    Cli.Result json = cli.run(60, "compare", a, b, "--output", "json");
    JsonNode rows = Http.JSON.readTree(json.out());
    assertThat(rows.size()).isEqualTo(2);
    assertThat(rows.get(1).path("differing").path("fabric.commRatio").asString()).isEqualTo("40.0");
  }

  @Test
  void anInvalidJobIsRefusedWithEveryRuleAndExitCode3() throws Exception {
    Path spec = Files.writeString(tmp.resolve("too-fine.json"), """
        {"name": "too-fine",
         "model": {"moeModelType": "deepspeed_moe", "numExperts": 8},
         "parallel": {"expert": 4},
         "pipeExperts": {"enabled": true, "multiStream": true, "multiData": 600}}""");
    int before = api.get("/api/v1/jobs?namePrefix=too-fine").path("jobs").size();

    Cli.Result file = cli.run(60, "submit", "-f", spec.toString());
    assertThat(file.exit()).as(file.toString()).isEqualTo(3);
    assertThat(file.err()).as(file.toString())
        .startsWith("refused: Invalid job spec (422): the job spec breaks 2 rules")
        .contains("\n  V2  /pipeExperts/multiStream (--pipe-experts-multi-stream): ")
        .contains("\n  V7  /pipeExperts/multiData (--pipe-experts-multi-data): ")
        .contains("600 cannot be greater than experts capacity C = 128");
    assertThat(file.out()).isEmpty();

    Cli.Result flags = cli.run(60, "submit", "--name", "too-fine", "--", "--moe-model-type", "deepspeed_moe",
        "--num-experts", "8", "--expert-model-parallel-size", "4", "--use-pipe-experts", "--pipe-experts-multi-stream",
        "--pipe-experts-multi-data", "600");
    assertThat(flags.exit()).as(flags.toString()).isEqualTo(3);
    assertThat(flags.err()).contains("  V2  ").contains("  V7  ");
    assertThat(api.get("/api/v1/jobs?namePrefix=too-fine").path("jobs").size()).isEqualTo(before);
  }

  @Test
  void watchResumesAcrossAServiceRestartAndEndsWithTheSummary() {
    String id = api.submit(JobSpecs.slow("through-restart", 150));  // steps of ~70 ms: ~10 s of run
    Cli.Running watch = cli.start("watch", id);
    Await.until("watch to show the first steps", RUN, watch::out, out -> out.contains("step "));

    system.service().kill();  // SIGKILL: the stream breaks off without an end
    system.service().start();

    Cli.Result r = watch.await(RUN.toSeconds());
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).as(r.toString()).contains("connection lost (")
        .containsPattern("resuming after event [0-9]+:[0-9]+:-?[0-9]+\n(.*\n)*resumed after event ")
        .contains("through-restart (" + id + "): SUCCEEDED, 150 of 150 steps");
    assertThat(r.out().lines().filter(l -> l.startsWith("connection lost")).count()).as("one note per outage").isOne();
    assertThat(r.out().lines().filter(l -> l.startsWith("step 150/150 ")).count()).as(r.toString()).isOne();
  }

  @Test
  void watchingACancelledJobExits5AndAnUnknownJobExits4() {
    String id = api.submit(JobSpecs.slow("to-cancel", 400));
    Await.until("the job to run", RUN, () -> api.job(id).path("state").asString(), "RUNNING"::equals);

    Cli.Result cancel = cli.run(60, "cancel", id);
    assertThat(cancel.exit()).as(cancel.toString()).isZero();
    assertThat(cancel.out()).startsWith("to-cancel (" + id + "): CANCEL");
    Cli.Result watch = cli.run(RUN.toSeconds(), "watch", id);
    assertThat(watch.exit()).as(watch.toString()).isEqualTo(5);
    assertThat(watch.out()).contains("RUNNING → CANCELLING  CANCEL_REQUESTED").contains("): CANCELLED, ");

    Cli.Result unknown = cli.run(60, "get", "01a241f8-0000-7000-8000-000000000000");
    assertThat(unknown.exit()).as(unknown.toString()).isEqualTo(4);
    assertThat(unknown.err()).startsWith("error: Not Found (404)");
  }
}
