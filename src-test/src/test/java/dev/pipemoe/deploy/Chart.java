package dev.pipemoe.deploy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/** The chart under helm/pipemoe, rendered by the real Helm library (helm-java). */
final class Chart {
  static final Path DIR = Path.of("..", "helm", "pipemoe").toAbsolutePath().normalize();

  private Chart() {}

  /** The rendered manifests of a release, with the values files given (relative to the chart). */
  static List<Map<String, Object>> render(String... valuesFiles) {
    TemplateCommand t = new Helm(DIR).template().withName("rel").withNamespace("ml");
    for (String f : valuesFiles) {
      t = t.withValuesFile(DIR.resolve(f));
    }
    return parse(t.call());
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> parse(String yaml) {
    List<Map<String, Object>> docs = new ArrayList<>();
    for (Object o : new Yaml(new LoaderOptions()).loadAll(yaml)) {
      if (o != null) {
        docs.add((Map<String, Object>) o);
      }
    }
    return docs;
  }

  static Map<String, Object> find(List<Map<String, Object>> docs, String kind, String name) {
    return docs.stream().filter(d -> kind.equals(d.get("kind"))
        && name.equals(at(d, "metadata", "name"))).findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " " + name + " among "
            + docs.stream().map(d -> d.get("kind") + "/" + at(d, "metadata", "name")).toList()));
  }

  /** The value at a path of map keys and list indexes, or null. */
  @SuppressWarnings("unchecked")
  static <T> T at(Object node, Object... path) {
    Object cur = node;
    for (Object p : path) {
      if (cur == null) {
        return null;
      }
      cur = p instanceof Integer i ? ((List<Object>) cur).get(i) : ((Map<String, Object>) cur).get(p);
    }
    return (T) cur;
  }

  /** The first container of a workload's pod template. */
  static Map<String, Object> container(Map<String, Object> workload) {
    return Objects.requireNonNull(at(workload, "spec", "template", "spec", "containers", 0));
  }

  /** A container's env var entry by name. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> env(Map<String, Object> container, String name) {
    return ((List<Map<String, Object>>) container.get("env")).stream()
        .filter(e -> name.equals(e.get("name"))).findFirst()
        .orElseThrow(() -> new AssertionError("no env " + name));
  }
}
