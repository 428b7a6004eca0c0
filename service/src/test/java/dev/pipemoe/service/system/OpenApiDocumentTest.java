package dev.pipemoe.service.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pipemoe.service.ApiTest;
import dev.pipemoe.service.Http;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The committed docs/openapi.json is the document the service serves, so a change of the API
 * contract shows up in review as a change of that file. To accept a change, regenerate it:
 * {@code ./mvnw -B -pl service -am verify -Dtest=OpenApiDocumentTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dpipemoe.openapi.write=true}.
 */
class OpenApiDocumentTest extends ApiTest {

  static final Path COMMITTED = Path.of("..", "docs", "openapi.json");
  private static final Path SERVED = Path.of("target", "openapi.json");
  private static final String REGENERATE = "./mvnw -B -pl service -am verify -Dtest=OpenApiDocumentTest"
      + " -Dsurefire.failIfNoSpecifiedTests=false -Dpipemoe.openapi.write=true";

  @Test
  void theCommittedDocumentIsTheServedOne() throws IOException {
    Http.Response response = http.get("/v3/api-docs").send();
    assertThat(response.status()).isEqualTo(200);
    JsonNode served = response.json();
    String text = Http.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(served) + "\n";
    if (Boolean.getBoolean("pipemoe.openapi.write")) {
      Files.writeString(COMMITTED, text);
    }
    Files.createDirectories(SERVED.getParent());
    Files.writeString(SERVED, text);
    assertThat(COMMITTED).as("docs/openapi.json; create it with %s", REGENERATE).exists();
    JsonNode committed = Http.mapper().readTree(Files.readString(COMMITTED));
    List<String> differences = differences("", committed, served);
    assertThat(differences)
        .as("docs/openapi.json differs from what the service serves (written to service/%s). If the change of the"
            + " API is intended, regenerate the file and commit it: %s", SERVED, REGENERATE)
        .isEmpty();
  }

  /** JSON pointers where the two documents differ, at most 30. */
  private static List<String> differences(String at, JsonNode committed, JsonNode served) {
    List<String> found = new ArrayList<>();
    if (committed.isObject() && served.isObject()) {
      Set<String> names = new LinkedHashSet<>(committed.propertyNames());
      names.addAll(served.propertyNames());
      for (String name : names) {
        String pointer = at + "/" + Problems.pointerToken(name);
        if (!served.has(name)) {
          found.add("only in docs/openapi.json: " + pointer);
        } else if (!committed.has(name)) {
          found.add("only served: " + pointer);
        } else {
          found.addAll(differences(pointer, committed.get(name), served.get(name)));
        }
        if (found.size() >= 30) {
          break;
        }
      }
    } else if (!committed.equals(served)) {
      found.add("changed at " + (at.isEmpty() ? "/" : at) + ": " + abbreviate(committed) + " -> " + abbreviate(served));
    }
    return found.size() > 30 ? found.subList(0, 30) : found;
  }

  private static String abbreviate(JsonNode node) {
    String text = node.toString();
    return text.length() > 120 ? text.substring(0, 120) + "..." : text;
  }
}
