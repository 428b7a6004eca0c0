package dev.pipemoe.cli;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import tools.jackson.databind.JsonNode;

/** GET /api/v1/jobs: newest first, filtered, one page at a time (docs/service.md §3.5). */
@Command(name = "jobs", description = "List jobs, newest first (yours; an admin's: everyone's).")
final class JobsCommand implements Runnable {
  @ParentCommand
  Pipemoe root;

  @Option(names = "--state", split = ",", paramLabel = "STATE", description = "only these states (QUEUED,RUNNING,...)")
  List<String> states = List.of();

  @Option(names = "--name-prefix", paramLabel = "PREFIX", description = "only names starting with this")
  String namePrefix;

  @Option(names = "--owner", paramLabel = "OWNER", description = "only this owner's jobs (admins)")
  String owner;

  @Option(names = "--page-size", paramLabel = "N", description = "jobs per page (default 20, at most 100)")
  Integer pageSize;

  @Option(names = "--page-token", paramLabel = "TOKEN", description = "the page after the one that printed this token")
  String pageToken;

  @Override
  public void run() {
    List<String> q = new ArrayList<>();
    if (!states.isEmpty()) {
      q.add("state=" + enc(String.join(",", states)));
    }
    add(q, "namePrefix", namePrefix);
    add(q, "owner", owner);
    add(q, "pageSize", pageSize == null ? null : pageSize.toString());
    add(q, "pageToken", pageToken);
    JsonNode page = root.api().get("/api/v1/jobs" + (q.isEmpty() ? "" : "?" + String.join("&", q)));
    if (root.output().json()) {
      root.printJson(page);
      return;
    }
    Table t = Views.jobs(page);
    root.out().print(t.isEmpty() ? "no jobs\n" : t.text());
    if (page.hasNonNull("nextPageToken")) {
      root.out().println("more: add --page-token " + page.path("nextPageToken").asString());
    }
  }

  private static void add(List<String> q, String name, String value) {
    if (value != null) {
      q.add(name + "=" + enc(value));
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
