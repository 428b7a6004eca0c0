package dev.pipemoe.engine.protocol;

import java.time.Duration;
import java.util.List;

/** {@code POST /api/v1/workers}: a worker announces itself. */
public final class Register {
  private Register() {}

  /**
   * @param name stable identity (the node name); registering again under the same name is the
   *     same worker
   * @param bootId new on every process start: a new boot id tells the service that attempts the
   *     worker held before are lost
   * @param deviceType what its devices are ({@code cpu}, {@code ascend-910c}, ...)
   * @param devices how many ranks it can run at once
   * @param fabrics the fabrics it offers ({@code local})
   * @param version the worker's version
   */
  public record Request(String name, String bootId, String deviceType, int devices,
      List<String> fabrics, String version) {}

  /**
   * @param workerId the id to use in every later call
   * @param heartbeatInterval how often to heartbeat
   * @param leaseTimeout how long without a heartbeat until the worker's attempts are lost
   * @param pollTimeout the longest a lease call waits for work
   */
  public record Response(String workerId, Duration heartbeatInterval, Duration leaseTimeout,
      Duration pollTimeout) {}
}
