package dev.pipemoe.worker.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** pipemoe.worker.* as Spring binds it: defaults, every field, refusals naming the property. */
class WorkerPropertiesTest {

  static WorkerProperties bind(Map<String, String> values) {
    Map<String, String> all = new HashMap<>(values);
    all.putIfAbsent("pipemoe.worker.token", "pmt_abc");
    return new Binder(new MapConfigurationPropertySource(all))
        .bindOrCreate("pipemoe.worker", WorkerProperties.class);
  }

  @Test
  void defaults() {
    WorkerProperties p = bind(Map.of("pipemoe.worker.name", "node-7"));
    assertThat(p.serviceUrl()).isEqualTo(URI.create("http://localhost:8080"));
    assertThat(p.name()).isEqualTo("node-7");
    assertThat(p.deviceType()).isEqualTo("cpu");
    assertThat(p.devices()).isEqualTo(8);
    assertThat(p.fabric()).isEqualTo("local");
    assertThat(p.spoolDir()).isEqualTo(Path.of(System.getProperty("user.home"), ".pipemoe",
        "worker-spool", "node-7"));
    assertThat(p.batchSize()).isEqualTo(200);
    assertThat(p.flushInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(p.backoffBase()).isEqualTo(Duration.ofMillis(500));
    assertThat(p.backoffMax()).isEqualTo(Duration.ofSeconds(30));
    assertThat(p.drainTimeout()).isEqualTo(Duration.ofMinutes(2));
    assertThat(p.shutdownGrace()).isEqualTo(Duration.ofSeconds(25));
  }

  @Test
  void everyFieldBindsInKebabCaseWithSpringDurations() {
    WorkerProperties p = bind(Map.ofEntries(
        Map.entry("pipemoe.worker.service-url", "https://pipemoe.example:8443/"),
        Map.entry("pipemoe.worker.token", "pmt_secret"),
        Map.entry("pipemoe.worker.name", "npu-node-3"),
        Map.entry("pipemoe.worker.device-type", "ascend-910c"),
        Map.entry("pipemoe.worker.devices", "16"),
        Map.entry("pipemoe.worker.fabric", "local"),
        Map.entry("pipemoe.worker.spool-dir", "/var/lib/pipemoe/spool"),
        Map.entry("pipemoe.worker.batch-size", "50"),
        Map.entry("pipemoe.worker.flush-interval", "250ms"),
        Map.entry("pipemoe.worker.backoff-base", "PT0.1S"),
        Map.entry("pipemoe.worker.backoff-max", "1m"),
        Map.entry("pipemoe.worker.drain-timeout", "10s"),
        Map.entry("pipemoe.worker.shutdown-grace", "55s")));
    assertThat(p.serviceUrl()).isEqualTo(URI.create("https://pipemoe.example:8443/"));
    assertThat(p.token()).isEqualTo("pmt_secret");
    assertThat(p.deviceType()).isEqualTo("ascend-910c");
    assertThat(p.devices()).isEqualTo(16);
    assertThat(p.spoolDir()).isEqualTo(Path.of("/var/lib/pipemoe/spool"));
    assertThat(p.batchSize()).isEqualTo(50);
    assertThat(p.flushInterval()).isEqualTo(Duration.ofMillis(250));
    assertThat(p.backoffBase()).isEqualTo(Duration.ofMillis(100));
    assertThat(p.backoffMax()).isEqualTo(Duration.ofMinutes(1));
    assertThat(p.drainTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(p.shutdownGrace()).isEqualTo(Duration.ofSeconds(55));
    assertThat(p.toString()).doesNotContain("pmt_secret").contains("npu-node-3");
  }

  @Test
  void theNameDefaultsToTheHostName() {
    assertThat(bind(Map.of()).name()).isNotBlank().matches("[A-Za-z0-9][A-Za-z0-9._-]*");
  }

  @Test
  void badValuesAreRefusedNamingTheProperty() {
    assertThatThrownBy(() -> new Binder(new MapConfigurationPropertySource(Map.of()))
        .bindOrCreate("pipemoe.worker", WorkerProperties.class))
        .isInstanceOf(BindException.class).rootCause()
        .hasMessageContaining("PIPEMOE_WORKER_TOKEN");
    assertRefused("pipemoe.worker.service-url", "ftp://x", "must be an http(s) URL");
    assertRefused("pipemoe.worker.device-type", "tpu", "cpu, ascend-910c");
    assertRefused("pipemoe.worker.fabric", "gloo", "must be 'local'");
    assertRefused("pipemoe.worker.devices", "0", "devices and batch-size must be >= 1");
    assertRefused("pipemoe.worker.name", "no spaces", "pipemoe.worker.name");
    assertRefused("pipemoe.worker.flush-interval", "0s", "durations must be positive");
    assertRefused("pipemoe.worker.backoff-max", "100ms", "below backoff-base");
  }

  private static void assertRefused(String key, String value, String message) {
    assertThatThrownBy(() -> bind(Map.of(key, value))).isInstanceOf(BindException.class)
        .rootCause().hasMessageContaining(message);
  }
}
