package dev.pipemoe.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import tools.jackson.databind.JsonNode;

/** Jobs side by side; see {@link Compare}. */
@Command(name = "compare", description = {"Compare jobs side by side.",
    "TFLOP/s per device, the gain over the first job, mean step time, exposed communication,",
    "and the fields of the effective config in which they differ."})
final class CompareCommand implements Runnable {
  @ParentCommand
  Pipemoe root;

  @Parameters(paramLabel = "ID", arity = "2..*", description = "two jobs or more; the first is the base of the gains")
  List<String> ids;

  @ArgGroup
  Format format = new Format();

  static final class Format {
    @Option(names = "--csv", description = "CSV: full figures (step time in seconds, shares as fractions)")
    boolean csv;

    @Option(names = "--json", description = "JSON, as --output json")
    boolean json;
  }

  @Override
  public void run() {
    Api api = root.api();
    List<Compare.Run> runs = new ArrayList<>();
    for (String id : ids) {
      JsonNode job = api.get(Api.jobPath(id));
      runs.add(new Compare.Run(job, api.get(Api.jobPath(id) + "/summary")));
    }
    Compare c = new Compare(runs);
    if (format.json || root.output().json()) {
      root.printJson(c.json());
    } else if (format.csv) {
      root.out().print(c.csv().csv());
    } else {
      root.out().print(c.text().text());
    }
  }
}
