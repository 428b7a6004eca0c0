package dev.pipemoe.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;
import tools.jackson.databind.JsonNode;

/** GET /api/v1/workers: the fleet (docs/service.md §4.7). */
@Command(name = "workers", description = "List the workers: state, devices, free devices, attempts running, last heartbeat.")
final class WorkersCommand implements Runnable {
  @ParentCommand
  Pipemoe root;

  @Override
  public void run() {
    JsonNode fleet = root.api().get("/api/v1/workers");
    if (root.output().json()) {
      root.printJson(fleet);
    } else {
      Table t = Views.workers(fleet);
      root.out().print(t.isEmpty() ? "no workers\n" : t.text());
    }
  }
}
