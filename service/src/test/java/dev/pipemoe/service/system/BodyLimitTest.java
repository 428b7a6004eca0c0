package dev.pipemoe.service.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.engine.metrics.StepMetrics;
import dev.pipemoe.engine.metrics.StepSplit;
import dev.pipemoe.engine.protocol.MetricBatch;
import dev.pipemoe.service.ApiTest;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.SchedulerTest;
import dev.pipemoe.service.TestWorker;
import dev.pipemoe.service.security.Role;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Every body has a limit, checked before it is parsed (BodyLimitFilter): 413 naming the limit and its property. */
class BodyLimitTest extends SchedulerTest {

  private static final int BATCH_LIMIT = 16 * 1024 * 1024;
  private static final int DEFAULT_LIMIT = 64 * 1024;

  @Test
  void aMetricBatchAnnouncedOverTheLimitIsRefusedBeforeItIsSent() throws IOException {
    TestWorker worker = worker(1);

    // only the headers go out: the answer must come on the Content-Length alone
    try (Socket socket = new Socket("localhost", port())) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /api/v1/workers/" + worker.id() + "/metrics HTTP/1.1\r\nHost: localhost\r\n"
          + "Authorization: Bearer " + worker.token() + "\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + (BATCH_LIMIT + 1) + "\r\n\r\nnot json").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      StringBuilder head = new StringBuilder();
      while (head.indexOf("\r\n\r\n") < 0) {
        int c = in.read();
        assertThat(c).as("the answer so far: %s", head).isNotNegative();
        head.append((char) c);
      }
      Matcher length = Pattern.compile("(?i)content-length: (\\d+)").matcher(head);
      assertThat(length.find()).as("%s", head).isTrue();
      byte[] body = in.readNBytes(Integer.parseInt(length.group(1)));

      assertThat(head.toString()).startsWith("HTTP/1.1 413");
      assertThat(head.toString()).containsIgnoringCase("Content-Type: application/problem+json");
      assertThat(head.toString()).containsIgnoringCase("Connection: close");
      JsonNode problem = Http.mapper().readTree(body);
      assertTooLarge(problem, BATCH_LIMIT, "pipemoe.http.max-metrics-batch-size");
      assertThat(problem.get("detail").stringValue()).contains((BATCH_LIMIT + 1) + " bytes");
    }
  }

  @Test
  void aChunkedMetricBatchOverTheLimitIs413EvenWhenItIsNotJson() {
    TestWorker worker = worker(1);
    byte[] notJson = new byte[BATCH_LIMIT + 1];
    Arrays.fill(notJson, (byte) 'x');

    Http.Response r = http.post("/api/v1/workers/" + worker.id() + "/metrics").token(worker.token())
        .chunked(notJson, "application/json").send();

    assertThat(r.status()).as("%s", r).isEqualTo(413);
    assertTooLarge(r.json(), BATCH_LIMIT, "pipemoe.http.max-metrics-batch-size");
  }

  @Test
  void aChunkedMetricBatchWithinTheLimitIsStored() {
    Running run = running("chunked-batch", 2, 10);
    byte[] batch = Http.mapper().writeValueAsBytes(
        new MetricBatch.Request(run.a().jobId(), run.a().attempt(), TestWorker.records(1, 0, 3, 2)));

    Http.Response r = http.post("/api/v1/workers/" + run.worker().id() + "/metrics").token(run.worker().token())
        .chunked(batch, "application/json").send();

    assertThat(r.status()).as("%s", r).isEqualTo(200);
    assertThat(r.json().get("stored").intValue()).isEqualTo(6);
  }

  /** The arithmetic of pipemoe.http.max-metrics-batch-size: a full batch of the widest records fits with room to spare. */
  @Test
  void theFullestBatchOfTheWidestRecordsFitsTheLimitWithAMarginOfMoreThanOneAndAHalf() {
    double wide = -1.2345678901234567E-300;
    StepSplit split = new StepSplit(wide, wide, wide, wide, wide, wide, wide);
    List<StepMetrics> records = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      records.add(new StepMetrics(Integer.MIN_VALUE, Integer.MIN_VALUE, wide, wide, wide, wide, wide, wide, wide, wide,
          wide, wide, wide, Long.MIN_VALUE, split));
    }
    byte[] batch = Http.mapper().writeValueAsBytes(new MetricBatch.Request("j".repeat(40), Integer.MIN_VALUE, records));

    assertThat((double) BATCH_LIMIT / batch.length).isGreaterThan(1.5);
  }

  @Test
  void workerAndAdminBodiesOverTheDefaultLimitAre413AnnouncedOrChunked() {
    TestWorker worker = worker(1);
    String admin = ApiTest.ADMIN_TOKEN;
    byte[] big = ("{\"description\": \"" + "x".repeat(DEFAULT_LIMIT) + "\"}").getBytes(StandardCharsets.UTF_8);
    record Route(String path, String token) {}
    List<Route> routes = List.of(
        new Route("/api/v1/workers", worker.token()),
        new Route("/api/v1/workers/" + worker.id() + "/heartbeat", worker.token()),
        new Route("/api/v1/workers/" + worker.id() + "/attempts/nope/1/status", worker.token()),
        new Route("/api/v1/admin/tokens", admin));

    for (Route route : routes) {
      for (Http.Response r : List.of(
          http.post(route.path()).token(route.token()).body(big, "application/json").send(),
          http.post(route.path()).token(route.token()).chunked(big, "application/json").send())) {
        assertThat(r.status()).as("%s %s", route.path(), r).isEqualTo(413);
        assertTooLarge(r.json(), DEFAULT_LIMIT, "pipemoe.http.max-body-size");
      }
    }
  }

  @Test
  void normalBodiesPassAnnouncedOrChunked() {
    String owner = uniqueOwner("limits");
    TestWorker worker = worker(1);
    byte[] token = ("{\"owner\": \"" + owner + "\", \"role\": \"" + Role.USER.name() + "\"}").getBytes(StandardCharsets.UTF_8);
    byte[] job = Http.mapper().writeValueAsBytes(smallJob("chunked-limits", 1, 2));

    Http.Response created = http.post("/api/v1/admin/tokens").token(ApiTest.ADMIN_TOKEN).chunked(token, "application/json").send();
    Http.Response heartbeat = http.post("/api/v1/workers/" + worker.id() + "/heartbeat").token(worker.token())
        .chunked("{\"running\": [], \"freeDevices\": 1}".getBytes(StandardCharsets.UTF_8), "application/json").send();
    assertThat(created.status()).as("%s", created).isEqualTo(201);
    assertThat(heartbeat.status()).as("%s", heartbeat).isEqualTo(200);
    String user = created.json().get("token").stringValue();
    Http.Response submitted = http.post("/api/v1/jobs").token(user).chunked(job, "application/json").send();
    assertThat(submitted.status()).as("%s", submitted).isEqualTo(201);
  }

  private static void assertTooLarge(JsonNode problem, int limit, String property) {
    assertThat(problem.get("type").stringValue()).isEqualTo("https://pipemoe.dev/problems/body-too-large");
    assertThat(problem.get("status").intValue()).isEqualTo(413);
    assertThat(problem.get("detail").stringValue()).contains("the limit is " + limit + " bytes (" + property + ")");
  }
}
