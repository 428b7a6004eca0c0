package dev.pipemoe.worker;

import dev.pipemoe.worker.bench.BenchCommand;
import java.util.Arrays;

/**
 * The worker jar's entry point. {@code bench} runs the engine on this machine without a service;
 * no arguments, {@code run}, or Spring arguments ({@code --pipemoe.worker.service-url=...}) start
 * the worker daemon (docs/worker.md).
 */
public final class WorkerMain {
  private WorkerMain() {}

  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("bench")) {
      System.exit(BenchCommand.run(Arrays.copyOfRange(args, 1, args.length), System.out,
          System.err));
    }
    if (args.length == 0 || args[0].startsWith("--")) {
      WorkerApplication.main(args);
    } else if (args[0].equals("run")) {
      WorkerApplication.main(Arrays.copyOfRange(args, 1, args.length));
    } else {
      System.err.println("usage: java -jar pipemoe-worker.jar [run] [--property=value ...]"
          + "   (the worker daemon, docs/worker.md)");
      System.err.println("       java -jar pipemoe-worker.jar bench [flags]"
          + "   (the engine without a service, docs/engine.md)");
      System.exit(2);
    }
  }
}
