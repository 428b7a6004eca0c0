package dev.pipemoe.engine.config;

import dev.pipemoe.engine.config.MindSpeedArgs.Flag;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * One pass over an argument string's tokens. It never stops at a problem: every unknown flag,
 * missing or malformed value, repeated or conflicting flag is reported (rule ARGS, pointer /args),
 * and the tokens after a bad flag are skipped up to the next flag so that one mistake yields one
 * error.
 */
final class ArgsReader {

  private final List<String> tokens;
  private int next;
  private final Map<SpecField, Object> values = new EnumMap<>(SpecField.class);
  private final Map<SpecField, String> setBy = new EnumMap<>(SpecField.class);
  private final Set<String> seen = new HashSet<>();
  private final List<Violation> errors = new ArrayList<>();
  private final List<Violation> warnings = new ArrayList<>();

  private ArgsReader(List<String> tokens) {
    this.tokens = tokens;
  }

  static MindSpeedArgs.Parsed read(String args) {
    ArgsReader reader = new ArgsReader(tokens(args));
    reader.readAll();
    JobSpec spec = reader.errors.isEmpty() ? SpecValues.build(reader.values) : null;
    return new MindSpeedArgs.Parsed(spec, reader.errors, reader.warnings);
  }

  /** Whitespace-separated tokens; there is no quoting. */
  static List<String> tokens(String args) {
    List<String> tokens = new ArrayList<>();
    int start = -1;
    for (int i = 0; i <= args.length(); i++) {
      boolean space = i == args.length() || Character.isWhitespace(args.charAt(i));
      if (space && start >= 0) {
        tokens.add(args.substring(start, i));
        start = -1;
      } else if (!space && start < 0) {
        start = i;
      }
    }
    return tokens;
  }

  private void readAll() {
    while (next < tokens.size()) {
      String token = tokens.get(next++);
      if (token.equals("\\")) {
        continue; // a shell line continuation in a command pasted from a script
      }
      if (!isFlag(token)) {
        error(null, "unexpected value '" + token + "': a value follows its flag");
        continue;
      }
      int eq = token.indexOf('=');
      readFlag(eq < 0 ? token : token.substring(0, eq), eq < 0 ? null : token.substring(eq + 1));
    }
  }

  private void readFlag(String name, String inline) {
    Flag flag = MindSpeedArgs.FLAGS.get(name);
    if (flag == null && !MegatronFlags.known(name)) {
      error(name, "unknown flag " + name + suggestion(name));
      skipValues();
      return;
    }
    if (!seen.add(name)) {
      error(name, name + " is given twice");
      skipValues();
      return;
    }
    boolean takesValue = flag != null ? flag.takesValue() : !MegatronFlags.SWITCHES.contains(name);
    if (takesValue) {
      String value = inline != null ? inline : nextValue();
      if (value == null) {
        error(name, name + " needs a value");
      } else if (flag == null) {
        megatron(name, value);
      } else {
        set(flag, convert(flag.field(), name, value));
      }
      return;
    }
    Boolean on = switchValue(name, inline, flag == null || flag.constant() == null);
    if (on == null) {
      return;
    }
    if (flag == null) {
      ignored(name);
    } else {
      set(flag, flag.constant() != null ? flag.constant() : on);
    }
  }

  /** True, or the {@code =true|=false} a boolean switch may carry; null after an error. */
  private Boolean switchValue(String name, String inline, boolean acceptsBoolean) {
    if (nextIsValue()) {
      String stray = tokens.get(next++);
      error(name, "unexpected value '" + stray + "' after " + name + ": a switch takes no value"
          + (acceptsBoolean ? " (write " + name + "=false to set it false)" : ""));
      return null;
    }
    if (inline == null) {
      return true;
    }
    if (acceptsBoolean && (inline.equals("true") || inline.equals("false"))) {
      return Boolean.valueOf(inline);
    }
    error(name, name + "=" + inline + ": " + name + (acceptsBoolean ? " takes =true or =false only" : " takes no value"));
    return null;
  }

  private void megatron(String name, String value) {
    String why = MegatronFlags.MUST_BE_ONE.get(name);
    if (why == null) {
      ignored(name);
      return;
    }
    Object size = convert(SpecField.TENSOR, name, value); // read like any parallel size
    if (size != null && (Integer) size != 1) {
      error(name, name + " " + value + " is not supported: " + why + ", so it must be 1");
    }
  }

  private void ignored(String name) {
    warnings.add(new Violation("/args", name, "ARGS", Severity.WARNING, "ARGS: " + name + " is a Megatron or"
        + " MindSpeed flag that does not change the MoE layer the engine runs: accepted and ignored"
        + " (not kept in the job spec)"));
  }

  /** The value in its field's type, or null after an error naming the flag and the value. */
  private Object convert(SpecField field, String name, String value) {
    try {
      if (field.type == Integer.class) {
        return Integer.valueOf(value);
      } else if (field.type == Long.class) {
        return Long.valueOf(value);
      } else if (field.type == Double.class) {
        return Double.valueOf(value);
      }
      return value;
    } catch (NumberFormatException e) {
      String kind = field.type == Double.class ? "a number" : field.type == Long.class ? "a 64-bit integer" : "an integer";
      error(name, name + ": '" + value + "' is not " + kind);
      return null;
    }
  }

  private void set(Flag flag, Object value) {
    if (value == null) {
      return;
    }
    SpecField field = flag.field();
    String earlier = setBy.putIfAbsent(field, flag.name());
    if (earlier != null) {
      error(flag.name(), flag.name() + " conflicts with " + earlier + ": both set " + field.path);
      return;
    }
    values.put(field, value);
  }

  private void error(String flag, String message) {
    errors.add(new Violation("/args", flag, "ARGS", Severity.ERROR, "ARGS: " + message));
  }

  private String nextValue() {
    return nextIsValue() ? tokens.get(next++) : null;
  }

  private boolean nextIsValue() {
    return next < tokens.size() && !isFlag(tokens.get(next)) && !tokens.get(next).equals("\\");
  }

  private void skipValues() {
    while (nextIsValue()) {
      next++;
    }
  }

  private static boolean isFlag(String token) {
    return token.startsWith("--") && token.length() > 2;
  }

  /** Spellings of other stacks (DeepSpeed, Megatron-DeepSpeed) too far from ours for edit distance. */
  private static final Map<String, String> FOREIGN = Map.of(
      "--moe-expert-parallel-size", "--expert-model-parallel-size",
      "--ep-size", "--expert-model-parallel-size",
      "--moe-loss-coeff", "--moe-aux-loss-coeff",
      "--topk", "--moe-router-topk",
      "--train-steps", "--train-iters");

  /** "; did you mean --x?" for the closest known flag within a few edits, else "". */
  static String suggestion(String name) {
    if (FOREIGN.containsKey(name)) {
      return "; did you mean " + FOREIGN.get(name) + "?";
    }
    List<String> known = Stream.of(MindSpeedArgs.FLAGS.keySet(), MegatronFlags.WITH_VALUE,
        MegatronFlags.SWITCHES, MegatronFlags.MUST_BE_ONE.keySet()).flatMap(Set::stream).sorted().toList();
    String best = Names.closest(name, known, Math.max(2, name.length() / 5));
    return best == null ? "" : "; did you mean " + best + "?";
  }
}
