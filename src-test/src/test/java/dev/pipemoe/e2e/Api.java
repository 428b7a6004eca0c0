package dev.pipemoe.e2e;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import tools.jackson.databind.JsonNode;

/**
 * The service's REST API as a user (and an admin) calls it: tokens, jobs, events, metrics, the
 * summary and the fleet (docs/service.md). An unexpected status throws.
 */
final class Api {
  private final Supplier<String> baseUrl;
  private final String adminToken;
  private String userToken;

  /** One rank's step as stored (the per-rank metrics view). */
  record RankRow(int attempt, int step, int rank, double stepSeconds, double tflopsPerDevice) {
    /** The key the service stores each record under once. */
    String key() {
      return attempt + "/" + step + "/" + rank;
    }
  }

  Api(Supplier<String> baseUrl, String adminToken) {
    this.baseUrl = baseUrl;
    this.adminToken = adminToken;
  }

  /** A new token of a role (USER, WORKER, ...), through the admin API; its secret. */
  String createToken(String owner, String role) {
    return createTokenJson(owner, role).path("token").asString();
  }

  /** A new token: id, owner, role, ..., and the secret in {@code token}. */
  JsonNode createTokenJson(String owner, String role) {
    Http.Response r = Http.post(url("/api/v1/admin/tokens"), adminToken,
        "{\"owner\": \"" + owner + "\", \"role\": \"" + role + "\", \"description\": \"e2e\"}");
    expect(r, 201, "creating a " + role + " token");
    return r.json();
  }

  void revokeToken(String tokenId) {
    expect(Http.post(url("/api/v1/admin/tokens/" + tokenId + "/revoke"), adminToken, null), 200,
        "revoking token " + tokenId);
  }

  /** Cancels every job of the user that has not ended (a test's leftovers); waits for nothing. */
  void cancelUnfinished() {
    for (JsonNode j : get("/api/v1/jobs?state=QUEUED,RUNNING&pageSize=100").path("jobs")) {
      cancel(j.path("id").asString());
    }
  }

  String adminToken() {
    return adminToken;
  }

  void useUserToken(String token) {
    this.userToken = token;
  }

  /** POST /api/v1/jobs as the user: the raw answer (201, 422, ...). */
  Http.Response submitRaw(String json) {
    return Http.post(url("/api/v1/jobs"), userToken, json);
  }

  /** Submits and returns the job's id. */
  String submit(String json) {
    Http.Response r = submitRaw(json);
    expect(r, 201, "submitting a job");
    return r.json().path("id").asString();
  }

  JsonNode job(String id) {
    return get("/api/v1/jobs/" + id);
  }

  /** Waits until the job has ended (any final state, so that a failure shows at once); its state. */
  String awaitEnd(String id, Duration timeout) {
    return Await.until("job " + id + " to end", timeout, () -> job(id),
        j -> Set.of("SUCCEEDED", "FAILED", "CANCELLED").contains(j.path("state").asString()))
        .path("state").asString();
  }

  JsonNode cancel(String id) {
    Http.Response r = Http.post(url("/api/v1/jobs/" + id + "/cancel"), userToken, null);
    expect(r, 200, "cancelling " + id);
    return r.json();
  }

  /** The job's events, oldest first. */
  List<JsonNode> events(String id) {
    List<JsonNode> out = new ArrayList<>();
    get("/api/v1/jobs/" + id + "/events").path("events").forEach(out::add);
    return out;
  }

  List<String> reasons(String id) {
    return events(id).stream().map(e -> e.path("reason").asString()).toList();
  }

  JsonNode summary(String id) {
    return get("/api/v1/jobs/" + id + "/summary");
  }

  /** Every stored record of the job (attempt "all", "latest" or a number), page by page. */
  List<RankRow> records(String id, String attempt) {
    List<RankRow> rows = new ArrayList<>();
    int from = 0;
    while (true) {
      JsonNode page = get("/api/v1/jobs/" + id + "/metrics?view=rank&attempt=" + attempt
          + "&pageSize=1000&fromStep=" + from);
      for (JsonNode r : page.path("records")) {
        rows.add(new RankRow(r.path("attempt").asInt(), r.path("step").asInt(), r.path("rank").asInt(),
            r.path("stepSeconds").asDouble(), r.path("tflopsPerDevice").asDouble()));
      }
      if (!page.hasNonNull("nextFromStep")) {
        return rows;
      }
      from = page.path("nextFromStep").asInt();
    }
  }

  /** Records of one attempt stored so far. */
  int recordCount(String id, int attempt) {
    return records(id, Integer.toString(attempt)).size();
  }

  /** Waits until at least {@code count} records of the attempt are stored. */
  void awaitRecords(String id, int attempt, int count, Duration timeout) {
    Await.until(count + " records of " + id + "/" + attempt + " stored", timeout, () -> recordCount(id, attempt),
        n -> n >= count);
  }

  JsonNode workers() {
    return get("/api/v1/workers");
  }

  /** The attempt's worker as the fleet view lists it; null when none of its live attempts is this. */
  String workerRunning(String jobId) {
    for (JsonNode w : workers().path("workers")) {
      for (JsonNode a : w.path("attempts")) {
        if (a.path("jobId").asString().equals(jobId)) {
          return w.path("name").asString();
        }
      }
    }
    return null;
  }

  /** The service's Prometheus scrape (an admin may read it). */
  String prometheus() {
    Http.Response r = Http.get(url("/actuator/prometheus"), adminToken);
    expect(r, 200, "GET /actuator/prometheus");
    return r.body();
  }

  /** Requests of a method the service is serving right now (Micrometer's active-request timer). */
  int activeRequests(String method) {
    int n = 0;
    for (String line : prometheus().split("\n")) {
      if (line.startsWith("http_server_requests_active_seconds_count{") && line.contains("method=\"" + method + "\"")) {
        n += (int) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return n;
  }

  JsonNode get(String path) {
    Http.Response r = Http.get(url(path), userToken);
    expect(r, 200, "GET " + path);
    return r.json();
  }

  private String url(String path) {
    return baseUrl.get() + path;
  }

  /** An unexpected answer; a RuntimeException, so that Await treats it as "not yet". */
  static void expect(Http.Response r, int status, String what) {
    if (r.status() != status) {
      throw new IllegalStateException(what + ": expected " + status + ", got " + r);
    }
  }
}
