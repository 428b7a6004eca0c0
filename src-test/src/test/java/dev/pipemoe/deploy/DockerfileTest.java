package dev.pipemoe.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What can be checked of the Dockerfile without a Docker engine: its stages and targets, that it
 * builds on official images only, that what it copies exists, and that both runtime images run as
 * a non-root user with a health check, and start with the AOT cache they make. The build stage's
 * commands are scripts CI runs itself.
 */
class DockerfileTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Pattern FROM = Pattern.compile("^FROM\\s+(\\S+)(?:\\s+AS\\s+(\\S+))?$",
      Pattern.CASE_INSENSITIVE);

  /** Stage name to its instructions (continuation lines joined). */
  static Map<String, List<String>> stages = new LinkedHashMap<>();
  static Map<String, String> bases = new LinkedHashMap<>();

  @BeforeAll
  static void parse() throws IOException {
    String text = Files.readString(ROOT.resolve("Dockerfile")).replace("\\\n", " ");
    String stage = null;
    for (String raw : text.split("\n")) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      Matcher m = FROM.matcher(line);
      if (m.matches()) {
        stage = m.group(2);
        assertThat(stage).as("every stage is named: %s", line).isNotNull();
        bases.put(stage, m.group(1));
        stages.put(stage, new ArrayList<>());
        continue;
      }
      assertThat(stage).as("instruction before FROM: %s", line).isNotNull();
      assertThat(line.split("\\s+")[0]).as(line).isIn("RUN", "COPY", "WORKDIR", "USER", "ENV",
          "EXPOSE", "HEALTHCHECK", "ENTRYPOINT", "VOLUME", "ARG", "LABEL", "CMD");
      stages.get(stage).add(line);
    }
  }

  @Test
  void hasTheServiceAndWorkerTargetsOnOfficialImages() {
    assertThat(stages).containsKeys("build", "runtime", "service", "worker");
    for (String base : bases.values()) {
      assertThat(base).as("base image").matches("(eclipse-temurin:25-(jdk|jre))|build|runtime");
    }
    assertThat(bases.get("service")).isEqualTo("runtime");
    assertThat(bases.get("worker")).isEqualTo("runtime");
  }

  @Test
  void theBuildStageRunsTheScriptsCiRuns() throws IOException {
    List<String> build = stages.get("build");
    assertThat(build).contains("RUN scripts/install-build-deps.sh", "RUN scripts/build-dist.sh");
    assertThat(Files.readString(ROOT.resolve(".ci/run")))
        .contains("scripts/install-build-deps.sh", "scripts/build-dist.sh");
  }

  @Test
  void everythingCopiedFromTheContextExists() {
    for (List<String> instructions : stages.values()) {
      for (String i : instructions) {
        if (i.startsWith("COPY ") && !i.startsWith("COPY --from")) {
          String[] parts = i.split("\\s+");
          for (int p = 1; p < parts.length - 1; p++) {
            if (!parts[p].equals(".")) {
              assertThat(ROOT.resolve(parts[p])).as(i).exists();
            }
          }
        }
      }
    }
  }

  @Test
  void everythingMountedFromTheContextExists() {
    Pattern bind = Pattern.compile("--mount=type=bind,source=([^,\\s]+)");
    for (List<String> instructions : stages.values()) {
      for (String i : instructions) {
        Matcher m = bind.matcher(i);
        while (m.find()) {
          assertThat(ROOT.resolve(m.group(1))).as(i).exists();
        }
      }
    }
  }

  /** docs/deploy.md, "The images' start-up cache": made at build by scripts/image-aot.sh. */
  @Test
  void eachImageMakesItsStartUpCacheAndStartsWithIt() {
    for (String target : List.of("service", "worker")) {
      List<String> s = stages.get(target);
      assertThat(s).as(target).anyMatch(i -> i.startsWith("RUN ")
          && i.endsWith("/scripts/image-aot.sh " + target + " /app"));
      assertThat(s).as(target).anyMatch(i -> i.equals("ENTRYPOINT [\"java\", "
          + "\"-XX:AOTCache=/app/aot/app.aot\", \"-jar\", \"/app/pipemoe-" + target + ".jar\"]"));
    }
    assertThat(stages.get("runtime")).as("the training run writes the cache as the image's user")
        .anyMatch(i -> i.contains("install -d -o 10001 -g 10001 /app/aot"));
  }

  @Test
  void runtimeImagesRunAsNonRootWithAHealthCheckAndTheirJar() {
    assertThat(stages.get("runtime")).anyMatch(i -> i.equals("USER 10001:10001"));
    for (String target : List.of("service", "worker")) {
      List<String> s = stages.get(target);
      assertThat(s).as(target).anyMatch(i -> i.startsWith("HEALTHCHECK")
          && i.contains("/actuator/health/liveness"));
      assertThat(s).as(target).anyMatch(i -> i.equals("COPY --from=build /src/dist/pipemoe-"
          + target + "/ /app/"));
      assertThat(s).as(target).anyMatch(i -> i.startsWith("ENTRYPOINT") && i.contains(target));
      // whatever a stage does as root, it ends as the unprivileged user
      String lastUser = s.stream().filter(i -> i.startsWith("USER")).reduce((a, b) -> b)
          .orElse("USER 10001:10001");
      assertThat(lastUser).as(target).isEqualTo("USER 10001:10001");
    }
  }
}
