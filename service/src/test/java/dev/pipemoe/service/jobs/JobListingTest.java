package dev.pipemoe.service.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.service.ApiTest;
import dev.pipemoe.service.Http;
import dev.pipemoe.service.Specs;
import dev.pipemoe.service.security.Role;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** GET /api/v1/jobs: newest first, keyset pages, filters, and what users may list. */
class JobListingTest extends ApiTest {

  String owner;
  String user;

  @BeforeEach
  void user() {
    owner = uniqueOwner("lister");
    user = token(owner, Role.USER);
  }

  @Test
  void pagesWalkNewestFirstAndStayStableWhenJobsArrive() {
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      ids.add(submitted(user, Specs.valid("paged-" + i)).get("id").stringValue());
    }

    JsonNode first = list("pageSize=2");
    assertThat(names(first)).containsExactly("paged-5", "paged-4");
    String token = first.get("nextPageToken").stringValue();

    submitted(user, Specs.valid("paged-6")); // arrives between two page requests: sorts before page 1

    JsonNode second = list("pageSize=2&pageToken=" + token);
    assertThat(names(second)).containsExactly("paged-3", "paged-2");
    JsonNode third = list("pageSize=2&pageToken=" + second.get("nextPageToken").stringValue());
    assertThat(names(third)).containsExactly("paged-1");
    assertThat(third.has("nextPageToken")).isFalse();
    assertThat(third.get("jobs").get(0).get("id").stringValue()).isEqualTo(ids.getFirst());
  }

  @Test
  void anExactlyFullLastPageHasNoNextToken() {
    submitted(user, Specs.valid("full-1"));
    submitted(user, Specs.valid("full-2"));

    JsonNode page = list("pageSize=2");

    assertThat(page.get("jobs")).hasSize(2);
    assertThat(page.has("nextPageToken")).isFalse();
  }

  @Test
  void summariesCarryWhatTellsJobsApart() {
    submitted(user, Specs.valid("summary"));

    JsonNode summary = list("").get("jobs").get(0);

    assertThat(summary.get("name").stringValue()).isEqualTo("summary");
    assertThat(summary.get("owner").stringValue()).isEqualTo(owner);
    assertThat(summary.get("state").stringValue()).isEqualTo("QUEUED");
    assertThat(summary.get("schedule").stringValue()).isEqualTo("mindspeed");
    assertThat(summary.get("devices").intValue()).isEqualTo(8);
    assertThat(summary.get("deviceType").stringValue()).isEqualTo("cpu");
    assertThat(summary.has("spec")).isFalse();
  }

  @Test
  void filtersByStateNamePrefixAndOwner() {
    String keep = submitted(user, Specs.valid("exp_a-1")).get("id").stringValue();
    String cancelled = submitted(user, Specs.valid("exp_a-2")).get("id").stringValue();
    submitted(user, Specs.valid("expXa-3")); // '_' is a literal in the prefix, not a LIKE wildcard
    submitted(user, Specs.valid("other"));
    http.post("/api/v1/jobs/" + cancelled + "/cancel").token(user).send();

    assertThat(names(list("namePrefix=exp_a"))).containsExactly("exp_a-2", "exp_a-1");
    assertThat(names(list("namePrefix=exp_a&state=QUEUED"))).containsExactly("exp_a-1");
    assertThat(names(list("state=cancelled"))).containsExactly("exp_a-2");
    assertThat(names(list("state=QUEUED,CANCELLED&namePrefix=exp"))).containsExactly("expXa-3", "exp_a-2", "exp_a-1");
    assertThat(names(list("state=QUEUED&state=CANCELLED&namePrefix=exp_"))).containsExactly("exp_a-2", "exp_a-1");
    assertThat(names(list("namePrefix=" + URLEncoder.encode("%", StandardCharsets.UTF_8)))).isEmpty();
    assertThat(list("state=RUNNING").get("jobs")).isEmpty();

    JsonNode asAdmin = http.get("/api/v1/jobs?owner=" + owner + "&namePrefix=exp_a-1").token(ADMIN_TOKEN).send().json();
    assertThat(asAdmin.get("jobs")).singleElement().satisfies(j -> assertThat(j.get("id").stringValue()).isEqualTo(keep));
  }

  @Test
  void usersListOnlyTheirOwnJobs() {
    String otherOwner = uniqueOwner("other");
    String other = token(otherOwner, Role.USER);
    submitted(other, Specs.valid("theirs"));
    submitted(user, Specs.valid("mine"));

    assertThat(names(list(""))).containsExactly("mine");
    assertThat(names(list("owner=" + owner))).containsExactly("mine");
    assertThat(list("owner=" + otherOwner).get("jobs")).isEmpty(); // another owner's filter matches nothing
    JsonNode adminView = http.get("/api/v1/jobs?owner=" + otherOwner).token(ADMIN_TOKEN).send().json();
    assertThat(names(adminView)).containsExactly("theirs");
  }

  @Test
  void badPagingParametersAre400() {
    submitted(user, Specs.valid("p-1"));
    submitted(user, Specs.valid("p-2"));
    String token = list("pageSize=1").get("nextPageToken").stringValue();

    assertParameterProblem(get("pageSize=0"), "pageSize");
    assertParameterProblem(get("pageToken=garbage!"), "pageToken");
    assertParameterProblem(get("pageToken=" + token + "&state=QUEUED"), "pageToken"); // other filters
    assertParameterProblem(get("state=PAUSED"), "state");
    assertThat(get("pageSize=abc").status()).isEqualTo(400);
    assertThat(get("pageSize=100000").status()).isEqualTo(200); // served as the maximum
  }

  private void assertParameterProblem(Http.Response response, String parameter) {
    assertThat(response.status()).as("%s", response).isEqualTo(400);
    assertThat(response.contentType()).isEqualTo("application/problem+json");
    assertThat(response.json().get("parameter").stringValue()).isEqualTo(parameter);
  }

  private Http.Response get(String query) {
    return http.get("/api/v1/jobs?" + query).token(user).send();
  }

  private JsonNode list(String query) {
    Http.Response response = get(query);
    assertThat(response.status()).as("%s", response).isEqualTo(200);
    return response.json();
  }

  private static List<String> names(JsonNode page) {
    List<String> names = new ArrayList<>();
    page.get("jobs").forEach(j -> names.add(j.get("name").stringValue()));
    return names;
  }
}
