package dev.pipemoe.deploy;

import static dev.pipemoe.deploy.Chart.at;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * What can be checked of docker-compose.yml without a Docker engine: it parses, names only images
 * this repository builds (from a Dockerfile target) or official ones with pinned tags, mounts only
 * paths that exist, publishes no port twice, waits only on services with health checks, takes its
 * secrets from the .env that deploy/make-env.sh writes; and the Prometheus and Grafana files it
 * mounts fit it (targets, the metrics token, the data source uids the dashboards use, the
 * dashboards directory the chart ships).
 */
class ComposeFileTest {
  static final Path ROOT = DockerfileTest.ROOT;
  static final Pattern OFFICIAL = Pattern.compile(
      "(postgres:\\d+(\\.\\d+)*|prom/prometheus:v\\d+\\.\\d+\\.\\d+|grafana/grafana:\\d+\\.\\d+\\.\\d+)");
  static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Z0-9_]+)(:\\?[^}]*)?}");

  static final Pattern STAGE = Pattern.compile("(?im)^FROM\\s+\\S+\\s+AS\\s+(\\S+)\\s*$");

  static Map<String, Object> compose;
  static Map<String, Map<String, Object>> services;
  /** The Dockerfile's stage names: the targets a build may name. */
  static Set<String> targets = new TreeSet<>();

  @BeforeAll
  @SuppressWarnings("unchecked")
  static void parse() throws IOException {
    compose = yaml(ROOT.resolve("docker-compose.yml"));
    services = (Map<String, Map<String, Object>>) compose.get("services");
    Matcher m = STAGE.matcher(Files.readString(ROOT.resolve("Dockerfile")));
    while (m.find()) {
      targets.add(m.group(1));
    }
  }

  @Test
  void itRunsPostgresTheServiceAWorkerPrometheusAndGrafana() {
    assertThat(services).containsOnlyKeys("postgres", "service", "worker", "prometheus", "grafana");
    assertThat((String) at(services, "service", "environment", "PIPEMOE_DB_URL"))
        .isEqualTo("jdbc:postgresql://postgres:5432/pipemoe");
    assertThat((String) at(services, "worker", "environment", "PIPEMOE_WORKER_SERVICEURL"))
        .isEqualTo("http://service:8080");
    assertThat((String) at(services, "worker", "environment", "PIPEMOE_WORKER_DEVICETYPE")).isEqualTo("cpu");
  }

  @Test
  void everyImageIsBuiltHereOrOfficialWithAPinnedTag() {
    for (var e : services.entrySet()) {
      Map<String, Object> s = e.getValue();
      String image = (String) s.get("image");
      if (s.containsKey("build")) {
        String target = at(s, "build", "target");
        assertThat((String) at(s, "build", "context")).as(e.getKey()).isEqualTo(".");
        assertThat(targets).as("%s: a target of the Dockerfile", e.getKey()).contains(target);
        assertThat(image).as(e.getKey()).isEqualTo("pipemoe/" + target + ":local");
      } else {
        assertThat(image).as("%s: an official image with a pinned tag", e.getKey()).matches(OFFICIAL);
      }
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void everyMountedPathExistsAndEveryVolumeIsDeclared() {
    Set<String> declared = ((Map<String, Object>) compose.get("volumes")).keySet();
    for (var e : services.entrySet()) {
      for (String v : (List<String>) e.getValue().getOrDefault("volumes", List.of())) {
        String source = v.split(":")[0];
        if (source.startsWith(".") || source.startsWith("/")) {
          assertThat(ROOT.resolve(source).normalize()).as("%s mounts %s", e.getKey(), v).exists();
        } else {
          assertThat(declared).as("%s: named volume %s", e.getKey(), v).contains(source);
        }
      }
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void noHostPortIsPublishedTwice() {
    Map<String, String> hostPorts = new HashMap<>();
    for (var e : services.entrySet()) {
      for (Object p : (List<Object>) e.getValue().getOrDefault("ports", List.of())) {
        String[] parts = p.toString().split(":");
        assertThat(parts).as("%s: host:container", e.getKey()).hasSize(2);
        String before = hostPorts.put(parts[0], e.getKey());
        assertThat(before).as("host port %s of %s", parts[0], e.getKey()).isNull();
      }
    }
    assertThat(hostPorts).containsOnlyKeys("8080", "8081", "9090", "3000");
  }

  @Test
  @SuppressWarnings("unchecked")
  void servicesWaitOnlyForServicesWithHealthChecks() {
    for (var e : services.entrySet()) {
      assertThat(e.getValue()).as("%s has a health check", e.getKey()).containsKey("healthcheck");
      Map<String, Map<String, Object>> deps =
          (Map<String, Map<String, Object>>) e.getValue().getOrDefault("depends_on", Map.of());
      for (var d : deps.entrySet()) {
        assertThat(services).as("%s depends on %s", e.getKey(), d.getKey()).containsKey(d.getKey());
        assertThat(d.getValue()).as("%s waits for %s", e.getKey(), d.getKey())
            .containsEntry("condition", "service_healthy");
      }
    }
  }

  /** Secrets are ${VAR:?...} references to what make-env.sh writes; none is written in the file. */
  @Test
  @SuppressWarnings("unchecked")
  void secretsComeFromTheEnvFileThatMakeEnvWrites(@TempDir Path dir) throws Exception {
    Path env = dir.resolve("env");
    Process p = new ProcessBuilder("bash", ROOT.resolve("deploy/make-env.sh").toString(), env.toString())
        .redirectErrorStream(true).start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
    Map<String, String> written = new LinkedHashMap<>();
    for (String line : Files.readAllLines(env)) {
      if (!line.isBlank() && !line.startsWith("#")) {
        String[] kv = line.split("=", 2);
        written.put(kv[0], kv[1]);
      }
    }
    assertThat(written.values()).allMatch(v -> v.matches("[0-9a-f]{64}"));
    assertThat(Files.getPosixFilePermissions(env).toString()).isEqualTo("[OWNER_READ, OWNER_WRITE]");

    // every variable the compose file reads is written, and a missing .env stops compose
    String text = Files.readString(ROOT.resolve("docker-compose.yml"));
    Set<String> used = new TreeSet<>();
    Matcher m = VARIABLE.matcher(text);
    while (m.find()) {
      used.add(m.group(1));
      assertThat(m.group(2)).as("${%s} fails when unset", m.group(1)).startsWith(":?");
    }
    for (Object secret : ((Map<String, Object>) compose.get("secrets")).values()) {
      used.add((String) ((Map<String, Object>) secret).get("environment"));
    }
    assertThat(written.keySet()).containsAll(used);
    assertThat(used).contains("PIPEMOE_ADMIN_TOKEN", "PIPEMOE_WORKER_TOKEN", "PIPEMOE_METRICS_TOKEN");

    // values that are secrets are references, never literals
    for (var e : services.entrySet()) {
      Map<String, Object> environment = (Map<String, Object>) e.getValue().getOrDefault("environment", Map.of());
      for (var v : environment.entrySet()) {
        if (v.getKey().matches(".*(TOKEN|PASSWORD)$")) {
          assertThat(v.getValue().toString()).as("%s %s", e.getKey(), v.getKey()).startsWith("${");
        }
      }
      for (Object s : (List<Object>) e.getValue().getOrDefault("secrets", List.of())) {
        assertThat((Map<String, Object>) compose.get("secrets")).as(e.getKey()).containsKey(s.toString());
      }
    }

    // never overwrites: the database keeps the passwords it was initialised with
    String before = Files.readString(env);
    Process again = new ProcessBuilder("bash", ROOT.resolve("deploy/make-env.sh").toString(), env.toString())
        .redirectErrorStream(true).start();
    assertThat(again.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(again.exitValue()).isNotZero();
    assertThat(Files.readString(env)).isEqualTo(before);
    assertThat(Files.readString(ROOT.resolve(".gitignore"))).contains("/.env");
    assertThat(Files.readString(ROOT.resolve(".dockerignore"))).contains(".env");
  }

  @Test
  @SuppressWarnings("unchecked")
  void prometheusScrapesTheServiceWithTheMetricsTokenAndTheWorker() throws Exception {
    Path config = ROOT.resolve("deploy/prometheus/prometheus.yml");
    assertThat(mountsOf("prometheus")).containsEntry("./deploy/prometheus/prometheus.yml",
        "/etc/prometheus/prometheus.yml");
    Map<String, Object> prometheus = yaml(config);
    Map<String, Map<String, Object>> jobs = new HashMap<>();
    for (Map<String, Object> job : (List<Map<String, Object>>) prometheus.get("scrape_configs")) {
      jobs.put((String) job.get("job_name"), job);
    }
    Map<String, Object> service = jobs.get("pipemoe-service");
    assertThat((List<String>) at(service, "static_configs", 0, "targets")).containsExactly("service:8080");
    assertThat((String) service.get("metrics_path")).isEqualTo("/actuator/prometheus");
    assertThat((String) at(service, "authorization", "type")).isEqualTo("Bearer");
    assertThat((String) at(service, "authorization", "credentials_file")).isEqualTo("/run/secrets/metrics_token");
    assertThat((List<Object>) services.get("prometheus").get("secrets")).contains("metrics_token");
    assertThat((String) at(compose, "secrets", "metrics_token", "environment")).isEqualTo("PIPEMOE_METRICS_TOKEN");
    Map<String, Object> worker = jobs.get("pipemoe-worker");
    assertThat((List<String>) at(worker, "static_configs", 0, "targets")).containsExactly("worker:8081");
    assertThat((String) worker.get("metrics_path")).isEqualTo("/actuator/prometheus");
    assertThat(worker).doesNotContainKey("authorization");

    // promtool stats the credentials file, which exists only in the container: syntax only here
    // (DashboardQueriesTest runs the real Prometheus on a copy of this file)
    Process promtool;
    try {
      promtool = new ProcessBuilder("promtool", "check", "config", "--syntax-only", config.toString())
          .redirectErrorStream(true).start();
    } catch (IOException e) {
      if (System.getenv("CI") != null) {
        fail("CI must have promtool (Debian package prometheus, installed by .ci/run): " + e.getMessage());
      }
      Assumptions.abort("promtool is not installed (apt-get install --no-install-recommends prometheus)");
      return;
    }
    String output = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(promtool.waitFor()).as(output).isZero();
  }

  @Test
  @SuppressWarnings("unchecked")
  void grafanaGetsBothDataSourcesByTheDashboardsUidsAndTheChartsDashboards() throws IOException {
    Map<String, String> mounts = mountsOf("grafana");
    assertThat(mounts).containsEntry("./deploy/grafana/provisioning", "/etc/grafana/provisioning");
    String dashboardsAt = mounts.get("./helm/pipemoe/dashboards");
    assertThat(dashboardsAt).as("the chart's dashboards, the one copy").isNotNull();

    Map<String, Object> provider = yaml(ROOT.resolve("deploy/grafana/provisioning/dashboards/pipemoe.yaml"));
    assertThat((String) at(provider, "providers", 0, "type")).isEqualTo("file");
    assertThat((String) at(provider, "providers", 0, "options", "path")).isEqualTo(dashboardsAt);

    Map<String, Object> sources = yaml(ROOT.resolve("deploy/grafana/provisioning/datasources/pipemoe.yaml"));
    Map<String, Map<String, Object>> byUid = new HashMap<>();
    for (Map<String, Object> ds : (List<Map<String, Object>>) sources.get("datasources")) {
      byUid.put((String) ds.get("uid"), ds);
    }
    assertThat(byUid).containsOnlyKeys(Dashboards.PROMETHEUS, Dashboards.POSTGRES);
    Map<String, Object> prometheus = byUid.get(Dashboards.PROMETHEUS);
    assertThat((String) prometheus.get("type")).isEqualTo("prometheus");
    assertThat((String) prometheus.get("url")).isEqualTo("http://prometheus:9090");
    assertThat((String) at(prometheus, "jsonData", "timeInterval"))
        .as("the scrape interval, which $__rate_interval builds on")
        .isEqualTo(at(yaml(ROOT.resolve("deploy/prometheus/prometheus.yml")), "global", "scrape_interval"));
    Map<String, Object> postgres = byUid.get(Dashboards.POSTGRES);
    assertThat((String) postgres.get("type")).isEqualTo("grafana-postgresql-datasource");
    assertThat((String) postgres.get("url")).isEqualTo("postgres:5432");
    assertThat((String) at(postgres, "jsonData", "database"))
        .isEqualTo(at(services, "postgres", "environment", "POSTGRES_DB"));
    assertThat((String) postgres.get("user")).as("the read-only login").isEqualTo("grafana_reader");
    assertThat(Files.readString(ROOT.resolve("deploy/postgres/grafana-reader.sql")))
        .contains("create role grafana_reader login");
    assertThat((String) at(postgres, "secureJsonData", "password"))
        .isEqualTo("$__file{/run/secrets/grafana_db_password}");
    assertThat((List<Object>) services.get("grafana").get("secrets")).contains("grafana_db_password");
    assertThat((List<Object>) services.get("postgres").get("secrets")).contains("grafana_db_password");
    // the init script reads the SQL where compose mounts it
    assertThat(Files.readString(ROOT.resolve("deploy/postgres/initdb/10-grafana-reader.sh")))
        .contains("--file=" + mountsOf("postgres").get("./deploy/postgres/grafana-reader.sql"));
    assertThat(Files.isExecutable(ROOT.resolve("deploy/postgres/initdb/10-grafana-reader.sh"))).isTrue();
  }

  /** A service's bind mounts: host path to container path. */
  @SuppressWarnings("unchecked")
  private static Map<String, String> mountsOf(String service) {
    Map<String, String> mounts = new HashMap<>();
    for (String v : (List<String>) services.get(service).getOrDefault("volumes", List.of())) {
      String[] parts = v.split(":");
      mounts.put(parts[0], parts[1]);
    }
    return mounts;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> yaml(Path file) throws IOException {
    return (Map<String, Object>) new Yaml(new LoaderOptions()).load(Files.readString(file));
  }

  @Test
  void theComposeFileHasNoDuplicateKeys() throws IOException {
    LoaderOptions strict = new LoaderOptions();
    strict.setAllowDuplicateKeys(false);
    for (String f : List.of("docker-compose.yml", "deploy/prometheus/prometheus.yml",
        "deploy/grafana/provisioning/datasources/pipemoe.yaml", "deploy/grafana/provisioning/dashboards/pipemoe.yaml")) {
      assertThat((Object) new Yaml(strict).load(Files.readString(ROOT.resolve(f)))).as(f).isNotNull();
    }
  }
}
