package dev.pipemoe.cli;

import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** Follows a job's live stream to its end; see {@link Watch}. */
@Command(name = "watch", description = {"Watch a job to its end, with a live progress bar.",
    "Its state changes, a progress bar (steps, ETA, TFLOP/s per device now and mean, exposed",
    "communication, loss), then its summary. Exit code 0 when it SUCCEEDED, 5 when it ended",
    "FAILED or CANCELLED. Not on a terminal: plain lines. A lost connection is resumed."})
final class WatchCommand implements Callable<Integer> {
  static final Duration GIVE_UP_AFTER = Duration.ofMinutes(5);

  @ParentCommand
  Pipemoe root;

  @Parameters(paramLabel = "ID", description = "the job's id")
  String id;

  @Option(names = "--give-up-after", paramLabel = "DURATION", description = "stop trying to resume a lost stream after this long (ISO-8601, default PT5M)")
  Duration giveUpAfter = GIVE_UP_AFTER;

  @Override
  public Integer call() {
    return new Watch(root.api(), root.out(), root.output(), giveUpAfter).run(id);
  }
}
