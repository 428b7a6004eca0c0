package dev.pipemoe.cli;

/**
 * How to print: {@code text} for people or {@code json} for scripts; on a terminal (a progress bar
 * redrawn in place, {@code columns} wide) or not (plain lines, as in a log).
 */
record Output(Format format, boolean terminal, int columns, boolean unicode) {
  enum Format { text, json }

  boolean json() {
    return format == Format.json;
  }
}
