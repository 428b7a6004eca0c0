package dev.pipemoe.deploy;

import static dev.pipemoe.deploy.Chart.at;
import static dev.pipemoe.deploy.Chart.container;
import static dev.pipemoe.deploy.Chart.env;
import static dev.pipemoe.deploy.Chart.find;
import static dev.pipemoe.deploy.Chart.render;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Helm chart lints and renders for the default values, an NPU pool and a CPU-only cluster, and
 * the manifests carry what the values ask for (tokens from the Secret, the ServiceMonitor and
 * PodMonitor, the dashboards as ConfigMaps); a values file with a typo is refused.
 */
class HelmChartTest {

  /** helm-java's lint takes no values file; the other values files are checked by rendering. */
  @Test
  void lintsStrictly() {
    LintResult r = new Helm(Chart.DIR).lint().strict().call();
    assertThat(r.isFailed()).as("lint: %s", r.getMessages()).isFalse();
  }

  @Test
  void defaultValuesRenderTheServiceAndAnNpuStatefulSet() {
    List<Map<String, Object>> docs = render();
    Map<String, Object> service = find(docs, "Deployment", "rel-pipemoe");
    Map<String, Object> c = container(service);
    assertThat((Integer) at(service, "spec", "replicas")).isEqualTo(2);
    assertThat((String) at(c, "readinessProbe", "httpGet", "path"))
        .isEqualTo("/actuator/health/readiness");
    assertThat((String) at(c, "livenessProbe", "httpGet", "path"))
        .isEqualTo("/actuator/health/liveness");
    assertThat((String) at(c, "resources", "requests", "memory")).isEqualTo("1Gi");
    assertThat((Boolean) at(c, "securityContext", "readOnlyRootFilesystem")).isTrue();
    assertThat((Boolean) at(service, "spec", "template", "spec", "securityContext",
        "runAsNonRoot")).isTrue();
    // the service bootstraps all three tokens from the Secret the workers and Prometheus read
    assertThat(secretRef(c, "PIPEMOE_ADMIN_TOKEN")).isEqualTo("rel-pipemoe-tokens/admin-token");
    assertThat(secretRef(c, "PIPEMOE_WORKER_TOKEN")).isEqualTo("rel-pipemoe-tokens/worker-token");
    assertThat(secretRef(c, "PIPEMOE_METRICS_TOKEN")).isEqualTo("rel-pipemoe-tokens/metrics-token");
    assertThat(docs).noneMatch(d -> "ServiceMonitor".equals(d.get("kind")) || "PodMonitor".equals(d.get("kind")));
    assertThat((Integer) at(find(docs, "PodDisruptionBudget", "rel-pipemoe"), "spec",
        "minAvailable")).isEqualTo(1);
    // tokens not given: the generated Secret is a pre-install hook, which Helm keeps out of the
    // release manifest (it is created once, at install)
    assertThat(docs).noneMatch(d -> "Secret".equals(d.get("kind")));

    Map<String, Object> npu = find(docs, "StatefulSet", "rel-pipemoe-worker-npu");
    Map<String, Object> governing = find(docs, "Service", (String) at(npu, "spec", "serviceName"));
    assertThat((String) at(governing, "spec", "clusterIP")).isEqualTo("None");
    assertThat((Map<String, Object>) at(governing, "spec", "selector"))
        .isEqualTo(at(npu, "spec", "selector", "matchLabels"));
    Map<String, Object> w = container(npu);
    assertThat((String) at(npu, "spec", "template", "spec", "nodeSelector", "accelerator-type"))
        .isEqualTo("module-a3-16");
    assertThat((String) at(w, "resources", "limits", "huawei.com/Ascend910")).isEqualTo("16");
    assertThat((String) at(w, "resources", "requests", "huawei.com/Ascend910")).isEqualTo("16");
    assertThat((String) at(env(w, "ASCEND_VISIBLE_DEVICES"), "valueFrom", "fieldRef", "fieldPath"))
        .isEqualTo("metadata.annotations['huawei.com/Ascend910']");
    assertThat((String) at(env(w, "PIPEMOE_WORKER_SERVICEURL"), "value"))
        .isEqualTo("http://rel-pipemoe:8080");
    assertThat((String) at(env(w, "PIPEMOE_WORKER_NAME"), "valueFrom", "fieldRef", "fieldPath"))
        .isEqualTo("metadata.name");
    assertThat(mountPaths(w)).contains("/usr/local/Ascend/driver", "/usr/local/Ascend/add-ons",
        "/etc/localtime", "/dev/shm", "/var/spool/pipemoe");
    assertThat((String) at(npu, "spec", "template", "metadata", "labels",
        "ring-controller.atlas")).isEqualTo("ascend-910b");
    assertThat(docs).noneMatch(d -> "rel-pipemoe-worker-cpu".equals(at(d, "metadata", "name")));
  }

  @Test
  void anNpuPoolRendersADaemonSetNamedAfterItsNodes() {
    List<Map<String, Object>> docs = render("ci/npu-values.yaml");
    Map<String, Object> npu = find(docs, "DaemonSet", "rel-pipemoe-worker-npu");
    Map<String, Object> w = container(npu);
    assertThat((String) at(w, "image")).isEqualTo("registry.example.com/pipemoe/worker:0.1.0");
    assertThat((String) at(env(w, "PIPEMOE_WORKER_NAME"), "valueFrom", "fieldRef", "fieldPath"))
        .isEqualTo("spec.nodeName");
    assertThat((String) at(npu, "spec", "template", "spec", "nodeSelector", "host-arch"))
        .isEqualTo("huawei-arm");
    assertThat((String) at(npu, "spec", "template", "spec", "tolerations", 0, "key"))
        .isEqualTo("huawei.com/Ascend910");
    assertThat((String) at(w, "resources", "requests", "cpu")).isEqualTo("32");
    // user-owned secrets: the chart creates none and references theirs
    assertThat(docs).noneMatch(d -> "Secret".equals(d.get("kind")));
    Map<String, Object> svc = container(find(docs, "Deployment", "rel-pipemoe"));
    assertThat((String) at(env(svc, "PIPEMOE_DB_PASSWORD"), "valueFrom", "secretKeyRef", "name"))
        .isEqualTo("pipemoe-db");
    assertThat(secretRef(w, "PIPEMOE_WORKER_TOKEN")).isEqualTo("pipemoe-tokens/worker-token");
    assertThat(secretRef(svc, "PIPEMOE_WORKER_TOKEN")).isEqualTo("pipemoe-tokens/worker-token");
    assertThat(secretRef(svc, "PIPEMOE_METRICS_TOKEN")).isEqualTo("pipemoe-tokens/metrics-token");
  }

  @Test
  void aServiceMonitorScrapesTheServiceWithTheMetricsTokenAndAPodMonitorTheWorkers() {
    List<Map<String, Object>> docs = render("ci/npu-values.yaml");
    Map<String, Object> monitor = find(docs, "ServiceMonitor", "rel-pipemoe");
    Map<String, Object> endpoint = at(monitor, "spec", "endpoints", 0);
    assertThat((String) at(endpoint, "port")).isEqualTo("http");
    assertThat((String) at(endpoint, "path")).isEqualTo("/actuator/prometheus");
    assertThat((String) at(endpoint, "interval")).isEqualTo("15s");
    assertThat((String) at(endpoint, "authorization", "type")).isEqualTo("Bearer");
    assertThat((String) at(endpoint, "authorization", "credentials", "name")).isEqualTo("pipemoe-tokens");
    assertThat((String) at(endpoint, "authorization", "credentials", "key")).isEqualTo("metrics-token");
    assertThat((String) at(monitor, "metadata", "labels", "release")).isEqualTo("prometheus");
    // it selects the Service, whose port it names
    Map<String, Object> service = find(docs, "Service", "rel-pipemoe");
    Map<String, Object> serviceLabels = at(service, "metadata", "labels");
    assertThat(serviceLabels).containsAllEntriesOf(at(monitor, "spec", "selector", "matchLabels"));
    assertThat(names(at(service, "spec", "ports"))).contains("http");

    Map<String, Object> pods = find(docs, "PodMonitor", "rel-pipemoe-workers");
    Map<String, Object> podEndpoint = at(pods, "spec", "podMetricsEndpoints", 0);
    assertThat((String) at(podEndpoint, "port")).isEqualTo("management");
    assertThat((String) at(podEndpoint, "path")).isEqualTo("/actuator/prometheus");
    assertThat((Object) at(podEndpoint, "authorization")).as("the worker's actuator takes no token").isNull();
    assertThat((String) at(pods, "metadata", "labels", "release")).isEqualTo("prometheus");
    // it selects the worker pods, whose port it names, and not the service's
    Map<String, Object> npu = find(docs, "DaemonSet", "rel-pipemoe-worker-npu");
    Map<String, Object> workerLabels = at(npu, "spec", "template", "metadata", "labels");
    assertThat(workerLabels).containsAllEntriesOf(at(pods, "spec", "selector", "matchLabels"));
    assertThat((List<String>) at(pods, "spec", "selector", "matchExpressions", 0, "values"))
        .contains((String) workerLabels.get("app.kubernetes.io/component"))
        .doesNotContain("service");
    assertThat(names(at(container(npu), "ports"))).contains("management");
  }

  @Test
  void aCpuClusterRendersCpuWorkersAndKeepsSecretsOutOfPlainConfig() {
    List<Map<String, Object>> docs = render("ci/cpu-values.yaml");
    Map<String, Object> cpu = find(docs, "StatefulSet", "rel-pipemoe-worker-cpu");
    Map<String, Object> w = container(cpu);
    assertThat((Integer) at(cpu, "spec", "replicas")).isEqualTo(2);
    assertThat((String) at(env(w, "PIPEMOE_WORKER_DEVICETYPE"), "value")).isEqualTo("cpu");
    assertThat((String) at(env(w, "PIPEMOE_WORKER_DEVICES"), "value")).isEqualTo("4");
    assertThat((Map<String, Object>) at(w, "resources", "limits")).doesNotContainKey("huawei.com/Ascend910");
    assertThat(docs).noneMatch(d -> "rel-pipemoe-worker-npu".equals(at(d, "metadata", "name")));
    // the secrets exist (plain, since the values give them), and nothing else carries them
    assertThat((Map<String, Object>) at(find(docs, "Secret", "rel-pipemoe-tokens"), "metadata",
        "annotations")).isNull();
    assertThat(find(docs, "Secret", "rel-pipemoe-database")).isNotNull();
    assertThat((Map<String, Object>) at(find(docs, "Secret", "rel-pipemoe-tokens"), "data"))
        .containsEntry("metrics-token", Base64.getEncoder().encodeToString(
            "metrics-token-0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8)))
        .containsOnlyKeys("admin-token", "worker-token", "metrics-token");
    for (Map<String, Object> d : docs) {
      if (!"Secret".equals(d.get("kind"))) {
        assertThat(new org.yaml.snakeyaml.Yaml().dump(d)).as("%s %s", d.get("kind"),
            at(d, "metadata", "name")).doesNotContain("s3cret-db-password-from-values",
                "admin-token-0123456789abcdef", "worker-token-0123456789abcdef", "metrics-token-0123456789abcdef");
      }
    }
  }

  /** One source of truth: each dashboards/*.json file, as it is, in a ConfigMap the sidecar finds. */
  @Test
  void everyDashboardBecomesAConfigMapForTheGrafanaSidecar() throws IOException {
    List<Map<String, Object>> docs = render();
    List<Path> files;
    try (Stream<Path> list = Files.list(Chart.DIR.resolve("dashboards"))) {
      files = list.filter(f -> f.toString().endsWith(".json")).sorted().toList();
    }
    assertThat(files).hasSizeGreaterThanOrEqualTo(2);
    for (Path file : files) {
      String name = file.getFileName().toString();
      Map<String, Object> map = find(docs, "ConfigMap", "rel-pipemoe-dashboard-" + name.replace(".json", ""));
      assertThat((String) at(map, "metadata", "labels", "grafana_dashboard")).isEqualTo("1");
      assertThat((String) at(map, "metadata", "annotations", "grafana_folder")).isEqualTo("pipemoe");
      assertThat(((String) at(map, "data", name)).strip()).isEqualTo(Files.readString(file).strip());
    }
  }

  @Test
  void aShortTokenIsRefusedByTheSchema() {
    assertThatThrownBy(() -> Chart.parse(new Helm(Chart.DIR).template().withName("rel")
        .set("tokens.adminToken", "short").call()))
        .hasMessageContaining("values don't meet the specifications of the schema");
  }

  @Test
  void aValuesFileWithATypoIsRefusedByTheSchema() {
    assertThatThrownBy(() -> render("ci/bad-values.yaml"))
        .hasMessageContaining("values don't meet the specifications of the schema")
        .hasMessageContaining("replica");
  }

  /** "secret/key" of an env var taken from a Secret. */
  private static String secretRef(Map<String, Object> container, String name) {
    Map<String, Object> ref = at(env(container, name), "valueFrom", "secretKeyRef");
    return ref.get("name") + "/" + ref.get("key");
  }

  private static List<String> names(List<Map<String, Object>> ports) {
    return ports.stream().map(p -> (String) p.get("name")).toList();
  }

  @SuppressWarnings("unchecked")
  private static List<String> mountPaths(Map<String, Object> container) {
    return ((List<Map<String, Object>>) container.get("volumeMounts")).stream()
        .map(m -> (String) m.get("mountPath")).toList();
  }
}
