package dev.pipemoe.cli;

import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import tools.jackson.databind.JsonNode;

/** POST /api/v1/jobs/{id}/cancel (idempotent; docs/service.md §3.6). */
@Command(name = "cancel", description = {"Cancel a job.",
    "A queued one at once; a running one stops within a heartbeat (CANCELLING, then CANCELLED).",
    "Cancelling an ended job changes nothing."})
final class CancelCommand implements Runnable {
  @ParentCommand
  Pipemoe root;

  @Parameters(paramLabel = "ID", description = "the job's id")
  String id;

  @Override
  public void run() {
    JsonNode job = root.api().post(Api.jobPath(id) + "/cancel", null, null, Map.of(), 200);
    if (root.output().json()) {
      root.printJson(job);
    } else {
      root.out().println(job.path("name").asString() + " (" + job.path("id").asString() + "): " + job.path("state").asString());
    }
  }
}
