package dev.pipemoe.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import tools.jackson.databind.JsonNode;

/** GET /api/v1/jobs/{id}/events: every state change, oldest first (docs/service.md §3.6). */
@Command(name = "events", description = "List a job's state changes, oldest first.")
final class EventsCommand implements Runnable {
  @ParentCommand
  Pipemoe root;

  @Parameters(paramLabel = "ID", description = "the job's id")
  String id;

  @Override
  public void run() {
    JsonNode events = root.api().get(Api.jobPath(id) + "/events");
    if (root.output().json()) {
      root.printJson(events);
    } else {
      root.out().print(Views.events(events).text());
    }
  }
}
