package dev.pipemoe.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import tools.jackson.databind.JsonNode;

/** GET /api/v1/jobs/{id}, and its summary once it has run. */
@Command(name = "get", description = "Show a job: its state, schedule, times, why it waits, its warnings; its summary once it ran.")
final class GetCommand implements Runnable {
  @ParentCommand
  Pipemoe root;

  @Parameters(paramLabel = "ID", description = "the job's id")
  String id;

  @Override
  public void run() {
    Api api = root.api();
    JsonNode job = api.get(Api.jobPath(id));
    if (root.output().json()) {
      root.printJson(job);
      return;
    }
    root.out().print(Views.job(job));
    if (job.path("attempt").asInt() > 0) {
      root.out().print(Views.summary(job, api.get(Api.jobPath(id) + "/summary")));
    }
  }
}
