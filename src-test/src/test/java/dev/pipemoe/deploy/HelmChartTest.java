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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Helm chart lints and renders for the default values, an NPU pool and a CPU-only cluster, and
 * the manifests carry what the values ask for; a values file with a typo is refused.
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
    assertThat((String) at(env(c, "PIPEMOE_ADMIN_TOKEN"), "valueFrom", "secretKeyRef", "name"))
        .isEqualTo("rel-pipemoe-tokens");
    assertThat((Integer) at(find(docs, "PodDisruptionBudget", "rel-pipemoe"), "spec",
        "minAvailable")).isEqualTo(1);
    // tokens not given: the generated Secret is a pre-install hook, which Helm keeps out of the
    // release manifest (it is created once, at install)
    assertThat(docs).noneMatch(d -> "Secret".equals(d.get("kind")));

    Map<String, Object> npu = find(docs, "StatefulSet", "rel-pipemoe-worker-npu");
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
    assertThat((String) at(env(w, "PIPEMOE_WORKER_TOKEN"), "valueFrom", "secretKeyRef", "name"))
        .isEqualTo("pipemoe-tokens");
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
    for (Map<String, Object> d : docs) {
      if (!"Secret".equals(d.get("kind"))) {
        assertThat(new org.yaml.snakeyaml.Yaml().dump(d)).as("%s %s", d.get("kind"),
            at(d, "metadata", "name")).doesNotContain("s3cret-db-password-from-values",
                "admin-token-0123456789abcdef", "worker-token-0123456789abcdef");
      }
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

  @SuppressWarnings("unchecked")
  private static List<String> mountPaths(Map<String, Object> container) {
    return ((List<Map<String, Object>>) container.get("volumeMounts")).stream()
        .map(m -> (String) m.get("mountPath")).toList();
  }
}
