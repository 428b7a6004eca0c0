package dev.pipemoe.service.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.service.ApiTest;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.Specs;
import dev.pipemoe.service.security.Role;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * What a client can get wrong before the rules even apply: every case is a 4xx problem detail
 * ({@code application/problem+json}), never a 500, and 400s list each problem with its pointer.
 */
class SubmissionErrorsTest extends ApiTest {

  String user;

  @BeforeEach
  void user() {
    user = token(uniqueOwner("clumsy"), Role.USER);
  }

  @Test
  void unknownFieldsAreListedWithTheirPointers() {
    ObjectNode body = Specs.valid("typo");
    body.put("numExperts", 8); // belongs in /model
    body.withObjectProperty("pipeExperts").put("multidata", 2);
    body.withObjectProperty("model").put("a/b~c", 1);

    JsonNode problem = malformed(submit(user, body));

    assertThat(pointers(problem)).containsExactlyInAnyOrder("/numExperts", "/pipeExperts/multidata", "/model/a~1b~0c");
    assertThat(rules(problem)).containsOnly("BODY-UNKNOWN");
    assertThat(message(problem, "/numExperts")).contains("did you mean /model/numExperts?");
    assertThat(message(problem, "/pipeExperts/multidata")).contains("did you mean 'multiData'?");
  }

  @Test
  void wrongTypesAreListedWithTheirPointers() {
    ObjectNode body = Specs.valid("types");
    body.withObjectProperty("model").put("numExperts", "8");
    body.withObjectProperty("model").put("topK", 1.5);
    body.withObjectProperty("model").put("hiddenSize", 3_000_000_000L);
    body.withObjectProperty("model").put("dtype", 16);
    body.withObjectProperty("parallel").put("sequenceParallel", "yes");
    body.withObjectProperty("training").putArray("steps").add(1);
    body.put("fabric", "ascend-910c");
    body.put("name", 7);

    JsonNode problem = malformed(submit(user, body));

    assertThat(pointers(problem)).containsExactlyInAnyOrder("/model/numExperts", "/model/topK", "/model/hiddenSize",
        "/model/dtype", "/parallel/sequenceParallel", "/training/steps", "/fabric", "/name");
    assertThat(rules(problem)).containsOnly("BODY-TYPE");
    assertThat(message(problem, "/model/numExperts")).contains("must be an integer, was the string \"8\"");
    assertThat(message(problem, "/model/hiddenSize")).contains("from -2147483648 to 2147483647");
    assertThat(message(problem, "/fabric")).contains("must be an object");
  }

  @Test
  void integralDecimalsAreIntegersAndNullMeansNotGiven() {
    ObjectNode body = Specs.with("decimals", "/model/numExperts", 8.0, "/parallel/expert", 4.0);
    body.withObjectProperty("training").putNull("steps");
    body.putNull("fabric");

    JsonNode job = submitted(user, body);

    assertThat(job.at("/effective/model/numExperts").intValue()).isEqualTo(8);
    assertThat(job.at("/effective/training/steps").intValue()).isEqualTo(20);
  }

  @Test
  void malformedJsonAndYamlAre400WithTheirPosition() {
    JsonNode json = malformed(http.post("/api/v1/jobs").token(user).json("{\"name\": \"x\",\n \"model\": {").send());
    assertThat(rules(json)).containsExactly("BODY-SYNTAX");
    assertThat(json.get("errors").get(0).get("message").stringValue()).startsWith("JSON syntax").contains("line 2");

    JsonNode yaml = malformed(http.post("/api/v1/jobs").token(user).yaml("name: x\nmodel: [1, 2\n").send());
    assertThat(yaml.get("errors").get(0).get("message").stringValue()).startsWith("YAML syntax");
  }

  @Test
  void yamlAliasesAreRefusedNamingWhereNeverReadAsTheAnchorsName() {
    JsonNode alias = malformed(http.post("/api/v1/jobs").token(user).yaml("""
        x: &mt deepspeed_moe
        name: *mt
        model: {moeModelType: deepspeed_moe, numExperts: 8}
        """).send());
    assertThat(rules(alias)).containsExactly("BODY-SYNTAX");
    assertThat(alias.get("errors").get(0).get("pointer").stringValue()).isEqualTo("/name");
    assertThat(alias.get("errors").get(0).get("message").stringValue())
        .contains("/name is a YAML alias (*mt, line 2)").contains("not supported");

    JsonNode nested = malformed(http.post("/api/v1/jobs").token(user).yaml("""
        name: anchored
        model: &m {moeModelType: deepspeed_moe, numExperts: 8}
        parallel: {expert: 4}
        pipeExperts: *m
        """).send());
    assertThat(nested.get("errors").get(0).get("pointer").stringValue()).isEqualTo("/pipeExperts");
  }

  @Test
  void bodiesThatAreNoSingleObjectAre400() {
    for (String body : List.of("", "   ", "[1, 2]", "\"job\"", "42", "null", "{\"name\": \"a\"} {\"name\": \"b\"}",
        "{\"name\": \"a\", \"name\": \"b\"}", "\u0000\u0001\u0002")) {
      Http.Response response = http.post("/api/v1/jobs").token(user).json(body).send();
      assertThat(response.status()).as("body %s: %s", body, response).isEqualTo(400);
      assertThat(response.contentType()).isEqualTo("application/problem+json");
    }
    Http.Response twoDocuments = http.post("/api/v1/jobs").token(user).yaml("name: a\n---\nname: b\n").send();
    assertThat(twoDocuments.status()).isEqualTo(400);
  }

  @Test
  void argsCannotBeCombinedWithSpecFields() {
    ObjectNode body = Specs.valid("both");
    body.put("args", "--num-experts 8");

    JsonNode problem = malformed(submit(user, body));

    assertThat(pointers(problem)).containsExactlyInAnyOrder("/model", "/parallel", "/pipeExperts");
    assertThat(rules(problem)).containsOnly("BODY-FORM");
  }

  @Test
  void argsMustBeAString() {
    ObjectNode body = JsonNodeFactory.instance.objectNode().put("name", "args-list");
    body.putArray("args").add("--num-experts").add("8");

    assertThat(pointers(malformed(submit(user, body)))).containsExactly("/args");
  }

  @Test
  void oversizedBodiesAre413WhetherAnnouncedOrStreamed() {
    ObjectNode body = Specs.valid("big");
    body.withObjectProperty("model").put("moeModelType", "x".repeat(70 * 1024));
    byte[] bytes = body.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);

    for (Http.Response response : List.of(
        http.post("/api/v1/jobs").token(user).body(bytes, "application/json").send(),
        http.post("/api/v1/jobs").token(user).chunked(bytes, "application/json").send())) {
      assertThat(response.status()).as("%s", response).isEqualTo(413);
      assertThat(response.contentType()).isEqualTo("application/problem+json");
      assertThat(response.json().get("type").stringValue()).isEqualTo("https://pipemoe.dev/problems/body-too-large");
      assertThat(response.json().get("detail").stringValue()).contains("65536");
    }
  }

  @Test
  void otherMediaTypesAre415() {
    for (String type : List.of("text/plain", "application/x-www-form-urlencoded", "not a type")) {
      Http.Response response = http.post("/api/v1/jobs").token(user).body("name=x", type).send();
      assertThat(response.status()).as(type).isEqualTo(415);
      assertThat(response.contentType()).isEqualTo("application/problem+json");
      assertThat(response.json().get("detail").stringValue()).contains("application/json or application/yaml");
      assertThat(response.header("Accept")).contains("application/json");
    }
    Http.Response missing = http.post("/api/v1/jobs").token(user).body("{}".getBytes(), null).send();
    assertThat(missing.status()).isEqualTo(415);
  }

  @Test
  void aMissingOrBadNameIsARuleViolationListedWithTheSpecErrors() {
    ObjectNode body = Specs.with("ignored", "/pipeExperts/multiData", 0);
    body.remove("name");
    JsonNode problem = invalid(submit(user, body));
    assertThat(pointers(problem)).containsExactlyInAnyOrder("/name", "/pipeExperts/multiData");
    assertThat(rules(problem)).containsExactlyInAnyOrder("JOB-NAME", "V1");

    JsonNode badName = invalid(submit(user, Specs.valid("has space")));
    assertThat(message(badName, "/name")).contains("'has space'");
  }

  @Test
  void unknownRoutesAndWrongMethodsAreProblemDetails() {
    Http.Response notFound = http.get("/api/v1/nothing-here").token(user).send();
    assertThat(notFound.status()).isEqualTo(404);
    assertThat(notFound.contentType()).isEqualTo("application/problem+json");
    assertThat(notFound.json().get("detail").stringValue()).isEqualTo("no route GET /api/v1/nothing-here");
    assertThat(notFound.json().get("instance").stringValue()).isEqualTo("/api/v1/nothing-here");

    Http.Response wrongMethod = http.method("DELETE", "/api/v1/jobs").token(user).send();
    assertThat(wrongMethod.status()).isEqualTo(405);
    assertThat(wrongMethod.contentType()).isEqualTo("application/problem+json");
    assertThat(wrongMethod.json().get("title").stringValue()).isEqualTo("Method Not Allowed");

    Http.Response badQuery = http.post("/api/v1/jobs?dryRun=maybe").token(user).json(Specs.valid("q")).send();
    assertThat(badQuery.status()).isEqualTo(400);
    assertThat(badQuery.contentType()).isEqualTo("application/problem+json");
  }

  private static JsonNode malformed(Http.Response response) {
    assertThat(response.status()).as("%s", response).isEqualTo(400);
    assertThat(response.contentType()).isEqualTo("application/problem+json");
    JsonNode problem = response.json();
    assertThat(problem.get("type").stringValue()).isEqualTo("https://pipemoe.dev/problems/malformed-request");
    assertThat(problem.get("title").stringValue()).isEqualTo("Malformed request");
    assertThat(problem.get("instance").stringValue()).isEqualTo("/api/v1/jobs");
    return problem;
  }

  private static JsonNode invalid(Http.Response response) {
    assertThat(response.status()).as("%s", response).isEqualTo(422);
    assertThat(response.contentType()).isEqualTo("application/problem+json");
    return response.json();
  }

  static List<String> pointers(JsonNode problem) {
    List<String> pointers = new ArrayList<>();
    problem.get("errors").forEach(e -> pointers.add(e.get("pointer").stringValue()));
    return pointers;
  }

  static List<String> rules(JsonNode problem) {
    List<String> rules = new ArrayList<>();
    problem.get("errors").forEach(e -> rules.add(e.get("rule").stringValue()));
    return rules;
  }

  private static String message(JsonNode problem, String pointer) {
    for (JsonNode e : problem.get("errors")) {
      if (e.get("pointer").stringValue().equals(pointer)) {
        return e.get("message").stringValue();
      }
    }
    throw new AssertionError("no error at " + pointer + " in " + problem);
  }
}
