package dev.pipemoe.cli;

import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** picocli's completion script, which bash runs and zsh runs through its bashcompinit. */
@Command(name = "completion", description = {"Print the shell completion script for bash and zsh.",
    "  source <(pipemoe completion)     (in ~/.bashrc or ~/.zshrc; pipemoe on the PATH)"})
final class CompletionCommand implements Runnable {
  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().getOut().print(AutoComplete.bash("pipemoe", spec.root().commandLine()));
    spec.commandLine().getOut().flush();
  }
}
