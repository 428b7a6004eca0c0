package dev.pipemoe.service.workers;

import dev.pipemoe.service.security.Caller;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** GET /api/v1/workers: the fleet, for users and admins (and workers, who see their own owner's). */
@RestController
@Tag(name = "workers", description = "the fleet: capabilities, state, free devices, live attempts")
class WorkerListController {

  private final WorkerList workers;

  WorkerListController(WorkerList workers) {
    this.workers = workers;
  }

  @GetMapping("/api/v1/workers")
  @Operation(operationId = "listWorkers", summary = "List workers", description = "By name: device type and count, free devices, ONLINE or"
      + " OFFLINE (by heartbeat age), last heartbeat, live attempts (those of jobs the caller may see).")
  WorkerList.Workers list(@Parameter(hidden = true) @AuthenticationPrincipal Caller caller) {
    return workers.list(caller);
  }
}
