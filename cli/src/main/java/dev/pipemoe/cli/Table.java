package dev.pipemoe.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Columns padded to their widest cell, for people; the same rows as CSV, for spreadsheets. */
final class Table {
  private final List<String> header;
  private final List<List<String>> rows = new ArrayList<>();

  Table(List<String> header) {
    this.header = List.copyOf(header);
  }

  Table(String... header) {
    this(List.of(header));
  }

  Table row(List<String> cells) {
    if (cells.size() != header.size()) {
      throw new IllegalArgumentException(cells.size() + " cells for " + header.size() + " columns");
    }
    rows.add(cells.stream().map(c -> c == null ? "" : c).toList());
    return this;
  }

  Table row(String... cells) {
    return row(List.of(cells));
  }

  boolean isEmpty() {
    return rows.isEmpty();
  }

  String text() {
    int[] width = new int[header.size()];
    for (List<String> r : all()) {
      for (int i = 0; i < r.size(); i++) {
        width[i] = Math.max(width[i], r.get(i).length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (List<String> r : all()) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < r.size(); i++) {
        line.append(i == r.size() - 1 ? r.get(i) : pad(r.get(i), width[i] + 2));
      }
      sb.append(line.toString().stripTrailing()).append('\n');
    }
    return sb.toString();
  }

  String csv() {
    StringBuilder sb = new StringBuilder();
    for (List<String> r : all()) {
      sb.append(String.join(",", r.stream().map(Table::csvCell).toList())).append('\n');
    }
    return sb.toString();
  }

  private List<List<String>> all() {
    List<List<String>> all = new ArrayList<>();
    all.add(header);
    all.addAll(rows);
    return all;
  }

  private static String pad(String s, int width) {
    return s + " ".repeat(Math.max(0, width - s.length()));
  }

  private static String csvCell(String s) {
    return s.contains(",") || s.contains("\"") || s.contains("\n") ? '"' + s.replace("\"", "\"\"") + '"' : s;
  }

  /** A number with {@code digits} significant digits, without exponent; empty for NaN. */
  static String sig(double v, int digits) {
    if (Double.isNaN(v)) {
      return "";
    }
    if (v == 0) {
      return "0";
    }
    int decimals = Math.max(0, digits - 1 - (int) Math.floor(Math.log10(Math.abs(v))));
    return String.format(Locale.ROOT, "%." + decimals + "f", v);
  }

  static String fixed(double v, int decimals) {
    return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%." + decimals + "f", v);
  }
}
