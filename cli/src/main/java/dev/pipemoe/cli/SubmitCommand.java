package dev.pipemoe.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** POST /api/v1/jobs from a file (JSON or YAML) or from MindSpeed-style flags (docs/service.md §3.1). */
@Command(name = "submit", sortOptions = false,
    description = {"Submit a job from a spec file or from MindSpeed flags.",
        "pipemoe submit -f job.json (or job.yaml; - reads JSON from standard input)",
        "pipemoe submit --name NAME -- --num-experts 8 --expert-model-parallel-size 4 ...",
        "Refused (exit code 3): every rule it breaks is printed, with its field and flag."})
final class SubmitCommand implements Callable<Integer> {
  @ParentCommand
  Pipemoe root;

  @Spec
  CommandSpec spec;

  @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "the job spec, JSON or YAML (by its extension; - reads JSON from standard input)")
  Path file;

  @Option(names = "--name", paramLabel = "NAME", description = "the job's name, with MindSpeed flags (a file names its job itself)")
  String name;

  @Option(names = "--dry-run", description = "validate only: show the effective config, the warnings and the notes; store nothing")
  boolean dryRun;

  @Option(names = {"-w", "--watch"}, description = "then watch the job to its end, as pipemoe watch does")
  boolean watch;

  @Option(names = {"-q", "--quiet"}, description = "print the job's id only: ID=$(pipemoe submit -q -f job.json)")
  boolean quiet;

  @Option(names = "--idempotency-key", paramLabel = "KEY", description = "a retry with the same key returns the job stored the first time")
  String idempotencyKey;

  @Parameters(paramLabel = "FLAG", description = "MindSpeed-style flags, after --")
  List<String> flags = List.of();

  @Override
  public Integer call() {
    String contentType = "application/json";
    String body;
    if (file != null) {
      if (name != null || !flags.isEmpty()) {
        throw new ParameterException(spec.commandLine(), "give either -f FILE or --name NAME with MindSpeed flags, not both");
      }
      body = read(file);
      String f = file.getFileName().toString().toLowerCase(Locale.ROOT);
      if (f.endsWith(".yaml") || f.endsWith(".yml")) {
        contentType = "application/yaml";
      }
    } else if (name != null && !flags.isEmpty()) {
      ObjectNode o = Api.JSON.createObjectNode();
      o.put("name", name);
      o.put("args", String.join(" ", flags));
      body = o.toString();
    } else {
      throw new ParameterException(spec.commandLine(),
          "what to submit? -f FILE, or --name NAME -- <MindSpeed flags>");
    }
    Map<String, String> headers = new HashMap<>();
    if (idempotencyKey != null) {
      headers.put("Idempotency-Key", idempotencyKey);
    }
    Api api = root.api();
    JsonNode answer = api.post("/api/v1/jobs" + (dryRun ? "?dryRun=true" : ""), contentType, body, headers, dryRun ? 200 : 201);
    Output output = root.output();
    if (dryRun) {
      if (output.json()) {
        root.printJson(answer);
      } else {
        root.out().print(dryRunText(answer));
      }
      return Main.OK;
    }
    if (quiet) {
      root.out().println(answer.path("id").asString());
      root.out().flush();
    } else if (output.json() && !watch) {
      root.printJson(answer);
    } else if (!output.json()) {
      StringBuilder sb = new StringBuilder("submitted " + answer.path("name").asString() + ": "
          + answer.path("id").asString() + " " + answer.path("state").asString() + "\n");
      if (answer.hasNonNull("waiting")) {
        sb.append("  waiting: ").append(answer.path("waiting").path("message").asString()).append('\n');
      }
      Views.warnings(sb, answer);
      root.out().print(sb);
      root.out().flush();
    }
    if (!watch) {
      return Main.OK;
    }
    return new Watch(api, root.out(), output, WatchCommand.GIVE_UP_AFTER).run(answer.path("id").asString());
  }

  /** What would run: the effective config, the warnings and the notes. */
  static String dryRunText(JsonNode a) {
    StringBuilder sb = new StringBuilder();
    sb.append("valid: ").append(a.path("name").asString()).append(" would run the ")
        .append(a.path("effective").path("schedule").asString()).append(" schedule on ")
        .append(a.path("effective").path("worldSize").asInt()).append(" ranks (nothing stored)\n");
    sb.append("effective config:\n");
    for (String line : Api.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(a.path("effective")).split("\n")) {
      sb.append("  ").append(line).append('\n');
    }
    Views.warnings(sb, a);
    Views.notes(sb, a);
    return sb.toString();
  }

  private static String read(Path file) {
    try {
      return file.toString().equals("-") ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
          : Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}
