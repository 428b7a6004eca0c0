package dev.pipemoe.worker.system;

import dev.pipemoe.engine.config.DeviceType;
import dev.pipemoe.engine.config.Named;
import dev.pipemoe.worker.run.FabricChoice;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The worker daemon ({@code pipemoe.worker.*}; environment variables by Spring's rule, e.g.
 * {@code PIPEMOE_WORKER_TOKEN}, {@code PIPEMOE_WORKER_SERVICEURL}). docs/worker.md explains each.
 *
 * @param serviceUrl the service's base URL; the worker calls {@code /api/v1/workers/**} under it
 * @param token the bearer token of role WORKER the service issued (required)
 * @param name the worker's stable identity, the node name: re-registering under it is the same
 *     worker; default the host name ({@code HOSTNAME}, else the resolver's)
 * @param deviceType what the devices are; jobs whose {@code resources.deviceType} differs never
 *     come here
 * @param devices ranks this worker runs at once; one attempt at a time, so the largest job it takes
 *     has this many ranks. The CPU runtime runs ranks as threads, so this is a policy rather than a
 *     hardware count: 8 fits the examples' TP 2 x DP 4; on a node with accelerators, their count
 * @param fabric the fabric it offers for a job's ranks ({@code local}: threads of this JVM)
 * @param spoolDir where metric records wait for the service's acknowledgement; default
 *     {@code ~/.pipemoe/worker-spool/<name>}, one directory per worker name
 * @param batchSize the most metric records one batch carries
 * @param flushInterval the longest a record waits before it is sent (and fsync'd) when fewer than
 *     a batch are pending
 * @param backoffBase the first retry delay after a failed call; each further failure doubles it
 * @param backoffMax the longest retry delay (also how often a refused token is retried)
 * @param drainTimeout the longest a finished attempt waits for its records' acknowledgement
 *     before it reports its final state anyway (the spool keeps shipping them afterwards)
 * @param shutdownGrace on SIGTERM, how long the worker has to stop its attempt between steps, ship
 *     its records and report it; keep it below Kubernetes' terminationGracePeriodSeconds
 */
@ConfigurationProperties("pipemoe.worker")
public record WorkerProperties(
    @DefaultValue("http://localhost:8080") URI serviceUrl,
    String token,
    String name,
    @DefaultValue("cpu") String deviceType,
    @DefaultValue("8") int devices,
    @DefaultValue("local") String fabric,
    Path spoolDir,
    @DefaultValue("200") int batchSize,
    @DefaultValue("1s") Duration flushInterval,
    @DefaultValue("500ms") Duration backoffBase,
    @DefaultValue("30s") Duration backoffMax,
    @DefaultValue("2m") Duration drainTimeout,
    @DefaultValue("25s") Duration shutdownGrace) {

  public WorkerProperties {
    if (token == null || token.isBlank()) {
      throw new IllegalArgumentException("pipemoe.worker.token (env PIPEMOE_WORKER_TOKEN) is"
          + " required: a WORKER token from POST /api/v1/admin/tokens");
    }
    String scheme = serviceUrl.getScheme();
    if (!"http".equals(scheme) && !"https".equals(scheme) || serviceUrl.getHost() == null) {
      throw new IllegalArgumentException("pipemoe.worker.service-url must be an http(s) URL, was "
          + serviceUrl);
    }
    name = name == null || name.isBlank() ? hostName() : name.strip();
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,99}")) {
      throw new IllegalArgumentException("pipemoe.worker.name must be 1-100 letters, digits, '.',"
          + " '_' or '-', starting with a letter or digit, was '" + name + "'");
    }
    spoolDir = spoolDir != null ? spoolDir
        : Path.of(System.getProperty("user.home"), ".pipemoe", "worker-spool", name);
    if (Named.byName(DeviceType.class, deviceType).isEmpty()) {
      throw new IllegalArgumentException("pipemoe.worker.device-type must be one of "
          + Named.choices(DeviceType.class) + ", was '" + deviceType + "'");
    }
    if (!"local".equals(fabric) && !FabricChoice.NATIVE.equals(fabric)) {
      // a simulated pool's figures are predictions, which the worker protocol cannot label yet
      throw new IllegalArgumentException("pipemoe.worker.fabric must be 'local' (ranks as threads"
          + " of this JVM on the native runtime), was '" + fabric + "'; a simulated device"
          + " ('sim:PROFILE') runs in bench only until metric records can say they are predicted");
    }
    if (devices < 1 || batchSize < 1) {
      throw new IllegalArgumentException("pipemoe.worker.devices and batch-size must be >= 1, were "
          + devices + " and " + batchSize);
    }
    for (Duration d : new Duration[] {flushInterval, backoffBase, backoffMax, drainTimeout,
        shutdownGrace}) {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("pipemoe.worker durations must be positive:"
            + " flush-interval " + flushInterval + ", backoff-base " + backoffBase
            + ", backoff-max " + backoffMax + ", drain-timeout " + drainTimeout
            + ", shutdown-grace " + shutdownGrace);
      }
    }
    if (backoffMax.compareTo(backoffBase) < 0) {
      throw new IllegalArgumentException("pipemoe.worker.backoff-max " + backoffMax
          + " is below backoff-base " + backoffBase);
    }
  }

  /** The token must not end up in logs or the health endpoint. */
  @Override
  public String toString() {
    return "WorkerProperties[serviceUrl=" + serviceUrl + ", name=" + name + ", deviceType="
        + deviceType + ", devices=" + devices + ", fabric=" + fabric + ", spoolDir=" + spoolDir
        + ", batchSize=" + batchSize + ", flushInterval=" + flushInterval + ", backoff="
        + backoffBase + ".." + backoffMax + ", drainTimeout=" + drainTimeout
        + ", shutdownGrace=" + shutdownGrace + "]";
  }

  private static String hostName() {
    String env = System.getenv("HOSTNAME");
    if (env != null && !env.isBlank()) {
      return env.strip();
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "worker";
    }
  }
}
