package dev.pipemoe.service.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.service.ApiTest;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.security.Role;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Health for probes, Prometheus for admins, and an OpenAPI document that shows the three spec forms. */
class ActuatorAndOpenApiTest extends ApiTest {

  @Test
  void healthIsAnonymousAndUp() {
    Http.Response health = http.get("/actuator/health").send();
    assertThat(health.status()).isEqualTo(200);
    assertThat(health.json().get("status").stringValue()).isEqualTo("UP");
    assertThat(http.get("/actuator/health/liveness").send().status()).isEqualTo(200);
  }

  @Test
  void prometheusServesTheExpositionFormatToAdmins() {
    Http.Response metrics = http.get("/actuator/prometheus").token(ADMIN_TOKEN).send();
    assertThat(metrics.status()).isEqualTo(200);
    assertThat(metrics.contentType()).startsWith("text/plain");
    assertThat(metrics.body()).contains("jvm_memory_used_bytes").contains("http_server_requests_seconds");
  }

  @Test
  void openApiDocumentsTheJobsApiWithTheThreeSpecForms() {
    Http.Response docs = http.get("/v3/api-docs").token(token(uniqueOwner("reader"), Role.USER)).send();
    assertThat(docs.status()).isEqualTo(200);
    JsonNode api = docs.json();
    assertThat(api.get("openapi").stringValue()).startsWith("3.");
    JsonNode submit = api.at("/paths/~1api~1v1~1jobs/post");
    assertThat(submit.at("/requestBody/content/application~1json/examples").propertyNames()).contains("spec", "args");
    assertThat(submit.at("/requestBody/content/application~1yaml/examples").propertyNames()).contains("yaml");
    assertThat(submit.at("/requestBody/content/application~1json/examples/args/value").toString()).contains("--use-pipe-experts");
    assertThat(api.at("/components/schemas/JobSubmission/properties").propertyNames())
        .contains("name", "args", "model", "parallel", "pipeExperts", "mindspeed");
    assertThat(api.at("/components/securitySchemes/bearer/scheme").stringValue()).isEqualTo("bearer");
    assertThat(api.at("/paths").propertyNames()).contains("/api/v1/jobs/{id}/cancel", "/api/v1/jobs/{id}/events",
        "/api/v1/admin/tokens", "/api/v1/admin/tokens/{id}/revoke");
  }

  @Test
  void theOpenApiDocumentIsAnonymousAndNamesEveryOperation() {
    Http.Response docs = http.get("/v3/api-docs").send();
    assertThat(docs.status()).isEqualTo(200);
    JsonNode api = docs.json();
    assertThat(api.get("openapi").stringValue()).isEqualTo("3.0.1");
    assertThat(api.at("/paths").propertyNames()).doesNotContain("/error");
    List<String> ids = new ArrayList<>();
    api.get("paths").forEach(path -> path.forEach(operation -> ids.add(operation.get("operationId").stringValue())));
    assertThat(ids).doesNotHaveDuplicates().noneMatch(id -> id.matches(".*_\\d+"))
        .contains("submitJob", "listJobs", "getJob", "cancelJob", "listJobEvents", "getJobMetrics", "getJobSummary",
            "streamJob", "listWorkers", "registerWorker", "sendHeartbeat", "leaseJob", "reportAttemptStatus",
            "sendMetricBatch", "createToken", "listTokens", "getToken", "revokeToken");
    api.get("paths").forEach(path -> path.forEach(operation -> assertThat(operation.at("/responses/401/content")
        .propertyNames()).as("%s", operation.get("operationId")).containsExactly("application/problem+json")));
  }

  @Test
  void aJobsStoredJsonIsDocumentedByTheTypesThatWroteIt() {
    JsonNode schemas = http.get("/v3/api-docs").send().json().at("/components/schemas");
    JsonNode job = schemas.at("/JobView/properties");
    assertThat(job.at("/spec/$ref").stringValue()).endsWith("/JobSpec");
    assertThat(job.at("/effective/$ref").stringValue()).endsWith("/EffectiveConfig");
    assertThat(job.at("/warnings/items/$ref").stringValue()).endsWith("/FieldError");
    assertThat(job.at("/notes/items/type").stringValue()).isEqualTo("string");
    assertThat(job.at("/summary/$ref").stringValue()).endsWith("/AttemptStatusSummary");
    assertThat(schemas.at("/EffectiveConfig/properties").propertyNames())
        .contains("model", "parallel", "pipeExperts", "training", "fabric", "resources", "schedule", "worldSize", "capacity");
    assertThat(schemas.at("/EngineConfigModel/properties/moeModelType/enum").toString()).contains("deepspeed_moe");
    assertThat(schemas.at("/Problem/properties/errors/items/$ref").stringValue()).endsWith("/FieldError");
  }

  @Test
  void openApiDocumentsTheWorkerProtocolWithItsOwnSchemas() {
    JsonNode api = http.get("/v3/api-docs").token(ADMIN_TOKEN).send().json();

    assertThat(api.at("/paths").propertyNames()).contains("/api/v1/workers", "/api/v1/workers/{workerId}/heartbeat",
        "/api/v1/workers/{workerId}/lease", "/api/v1/workers/{workerId}/attempts/{jobId}/{attempt}/status",
        "/api/v1/workers/{workerId}/metrics", "/api/v1/jobs/{id}/metrics", "/api/v1/jobs/{id}/summary",
        "/api/v1/jobs/{id}/stream");
    // nested records of the protocol share simple names; each must keep a schema of its own
    assertThat(api.at("/components/schemas").propertyNames()).contains("RegisterRequest", "RegisterResponse",
        "HeartbeatRequest", "HeartbeatResponse", "MetricBatchRequest", "MetricBatchResponse", "AttemptStatus",
        "AttemptStatusSummary", "Assignment", "StepMetrics", "MetricsPage", "JobSummary");
    assertThat(api.at("/paths/~1api~1v1~1workers/post/requestBody/content/application~1json/schema/$ref")
        .stringValue()).endsWith("/RegisterRequest");
    assertThat(api.at("/components/schemas/RegisterRequest/properties").propertyNames())
        .contains("name", "bootId", "deviceType", "devices", "fabrics", "version");
    assertThat(api.at("/components/schemas/MetricBatchRequest/properties").propertyNames())
        .contains("jobId", "attempt", "records");
  }

  @Test
  void theOpenApiExamplesAreValidJobs() {
    String user = token(uniqueOwner("example"), Role.USER);
    JsonNode api = http.get("/v3/api-docs").token(user).send().json();
    JsonNode content = api.at("/paths/~1api~1v1~1jobs/post/requestBody/content");
    for (String form : new String[] {"spec", "args"}) {
      JsonNode example = content.at("/application~1json/examples/" + form + "/value");
      String body = example.isString() ? example.stringValue() : example.toString();
      Http.Response dry = http.post("/api/v1/jobs?dryRun=true").token(user).json(body).send();
      assertThat(dry.status()).as("%s: %s", form, dry).isEqualTo(200);
    }
    String yaml = content.at("/application~1yaml/examples/yaml/value").stringValue();
    assertThat(http.post("/api/v1/jobs?dryRun=true").token(user).yaml(yaml).send().status()).isEqualTo(200);
  }
}
