package dev.pipemoe.worker;

import dev.pipemoe.worker.bench.BenchCommand;
import java.util.Arrays;

/**
 * The worker jar's entry point. {@code bench} runs the engine on this machine without a service;
 * anything else starts the worker daemon.
 */
public final class WorkerMain {
  private WorkerMain() {}

  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("bench")) {
      System.exit(BenchCommand.run(Arrays.copyOfRange(args, 1, args.length), System.out,
          System.err));
    }
    System.err.println("usage: java -jar pipemoe-worker.jar bench [flags]   (see docs/engine.md)");
    System.exit(2);
  }
}
