package dev.pipemoe.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** Parsing (event streams, settings) and formatting (progress, comparison, tables), without a service. */
class FormatTest {
  @TempDir
  Path dir;

  @Test
  void sseLinesBecomeEventsAsTheServiceWritesThem() {
    SseParser p = new SseParser();
    List<Api.Event> events = new ArrayList<>();
    for (String line : List.of("event:state", "id:1:1:-1", "data:{\"to\":\"QUEUED\"}", "", ": keep-alive", "",
        "event: step", "data: {\"a\":", "data: 1}", "", "id: 2:1:0", "event:end", "data:{}", "")) {
      Api.Event e = p.line(line);
      if (e != null) {
        events.add(e);
      }
    }
    assertThat(events).containsExactly(new Api.Event("state", "1:1:-1", "{\"to\":\"QUEUED\"}"),
        new Api.Event("step", "1:1:-1", "{\"a\":\n1}"), new Api.Event("end", "2:1:0", "{}"));
  }

  @Test
  void progressAveragesTheMeasuredStepsAndStartsOverOnANewAttempt() {
    Progress p = new Progress(10, 2);
    p.step(step(1, 0, 1.0, 0.1, 0.5, 3.0));  // warm-up: slow, counted only until a measured step comes
    assertThat(p.etaSeconds()).isEqualTo(9.0);
    p.step(step(1, 1, 1.0, 0.1, 0.5, 2.9));
    p.step(step(1, 2, 0.2, 2.0, 0.05, 2.5));
    p.step(step(1, 3, 0.4, 4.0, 0.15, 2.0));
    assertThat(p.stepsDone()).isEqualTo(4);
    assertThat(p.meanTflops()).isEqualTo(3.0);
    assertThat(p.exposedShare()).isCloseTo(0.2 / 0.6, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(p.etaSeconds()).isCloseTo(6 * 0.3, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(p.line()).isEqualTo("step 4/10 (attempt 1)  ETA 2s  TFLOP/s/device 4.00 now, 3.00 mean  exposed comm 33.3 %  loss 2.000");
    assertThat(p.bar(200, false)).startsWith("[########------------] 4/10 steps  ETA 2s");
    assertThat(p.bar(30, true)).hasSize(29).startsWith("[████████░░░░░░░░░░░░] 4/10");

    p.step(step(2, 0, 1.0, 0.5, 0.1, 3.0));
    assertThat(p.attempt()).isEqualTo(2);
    assertThat(p.stepsDone()).isEqualTo(1);
    assertThat(p.meanTflops()).isEqualTo(0.5);
  }

  @Test
  void durationsReadLikeAClock() {
    assertThat(Progress.duration(Double.NaN)).isEqualTo("?");
    assertThat(Progress.duration(59.4)).isEqualTo("59s");
    assertThat(Progress.duration(75)).isEqualTo("1m15s");
    assertThat(Progress.duration(3725)).isEqualTo("1h02m");
  }

  @Test
  void compareShowsTheGainOverTheFirstAndOnlyTheFieldsThatDiffer() {
    Compare c = new Compare(List.of(run("a", "off", 1, 0.010), run("b", "mindspeed", 2, 0.012), run("c", "mindspeed", 4, 0.009)));
    assertThat(c.differing()).containsExactly("schedule", "pipeExperts.multiData");
    assertThat(c.text().text()).isEqualTo("""
        JOB  ID   STATE      TFLOP/s/DEVICE  GAIN     STEP      EXPOSED COMM  schedule   pipeExperts.multiData
        a    id-a SUCCEEDED  0.01000         (base)   100.0 ms  25.0 %        off        1
        b    id-b SUCCEEDED  0.01200         +20.0 %  100.0 ms  25.0 %        mindspeed  2
        c    id-c SUCCEEDED  0.009000        -10.0 %  100.0 ms  25.0 %        mindspeed  4
        """.replace("ID   ", "ID    ").replace("id-a ", "id-a  ").replace("id-b ", "id-b  ").replace("id-c ", "id-c  "));
    assertThat(c.csv().csv().lines().toList()).containsExactly(
        "job,id,state,tflopsPerDevice,gain,stepSeconds,exposedCommShare,schedule,pipeExperts.multiData",
        "a,id-a,SUCCEEDED,0.01,0,0.1,0.25,off,1",
        "b,id-b,SUCCEEDED,0.012,0.19999999999999996,0.1,0.25,mindspeed,2",
        "c,id-c,SUCCEEDED,0.009,-0.10000000000000009,0.1,0.25,mindspeed,4");
    assertThat(c.json().get(1).path("differing").path("pipeExperts.multiData").asString()).isEqualTo("2");
  }

  @Test
  void csvQuotesCellsThatNeedIt() {
    assertThat(new Table("a", "b").row("x,y", "say \"hi\"").csv()).isEqualTo("a,b\n\"x,y\",\"say \"\"hi\"\"\"\n");
  }

  @Test
  void settingsComeFromTheFlagThenTheEnvironmentThenTheConfigFile() throws Exception {
    Path file = dir.resolve("config");
    Files.writeString(file, "url=http://file:1\ntoken=pmt_file\nadmin-token=pmt_admin_file\n");
    Map<String, String> env = Map.of("PIPEMOE_CONFIG", file.toString());
    assertThat(Settings.resolve(null, null, env)).isEqualTo(new Settings("http://file:1", "pmt_file", "pmt_admin_file", file));
    Map<String, String> both = Map.of("PIPEMOE_CONFIG", file.toString(), "PIPEMOE_URL", "http://env:2",
        "PIPEMOE_TOKEN", "pmt_env", "PIPEMOE_ADMIN_TOKEN", "pmt_admin_env");
    assertThat(Settings.resolve(null, null, both)).isEqualTo(new Settings("http://env:2", "pmt_env", "pmt_admin_env", file));
    assertThat(Settings.resolve("http://flag:3", "pmt_flag", both))
        .isEqualTo(new Settings("http://flag:3", "pmt_flag", "pmt_flag", file));
    assertThat(Settings.resolve(null, null, Map.of("XDG_CONFIG_HOME", dir.toString())))
        .isEqualTo(new Settings(Settings.DEFAULT_URL, null, null, dir.resolve("pipemoe/config")));
  }

  static JsonNode step(int attempt, int step, double seconds, double tflops, double exposed, double loss) {
    return Api.JSON.readTree("{\"attempt\":%d,\"step\":%d,\"stepSeconds\":%s,\"tflopsPerDevice\":%s,\"exposedCommSeconds\":%s,\"loss\":%s}"
        .formatted(attempt, step, seconds, tflops, exposed, loss));
  }

  static Compare.Run run(String name, String schedule, int multiData, double tflops) {
    JsonNode job = Api.JSON.readTree("""
        {"id":"id-%s","name":"%s","state":"SUCCEEDED","effective":{"schedule":"%s","worldSize":8,"chunksForward":%d,
         "pipeExperts":{"enabled":true,"multiData":%d},"resources":{"devices":8}}}""".formatted(name, name, schedule, 2 * multiData, multiData));
    JsonNode summary = Api.JSON.readTree("""
        {"tflopsPerDevice":%s,"stepSeconds":{"mean":0.1},"exposedCommShare":0.25}""".formatted(tflops));
    return new Compare.Run(job, summary);
  }
}
