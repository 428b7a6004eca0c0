package dev.pipemoe.worker.spool;

import dev.pipemoe.engine.protocol.AttemptRef;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Spool file names: {@code <job id>.a<attempt>}. Job ids are UUIDs, which pass unchanged; any other
 * character is percent-encoded (UTF-8), so every name is safe on disk and decodes to its attempt.
 */
final class FileNames {
  private static final Pattern NAME = Pattern.compile("([A-Za-z0-9_%-]+)\\.a([0-9]{1,9})");

  private FileNames() {}

  static String base(AttemptRef ref) {
    StringBuilder sb = new StringBuilder();
    for (byte b : ref.jobId().getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if (c < 128 && (Character.isLetterOrDigit(c) || c == '-' || c == '_')) {
        sb.append(c);
      } else {
        sb.append('%').append(String.format("%02X", b & 0xff));
      }
    }
    return sb.append(".a").append(ref.attempt()).toString();
  }

  /** The attempt a base name stands for, or empty when it is not one of ours. */
  static Optional<AttemptRef> parse(String base) {
    Matcher m = NAME.matcher(base);
    if (!m.matches()) {
      return Optional.empty();
    }
    ByteArrayOutputStream job = new ByteArrayOutputStream();
    String enc = m.group(1);
    for (int i = 0; i < enc.length(); i++) {
      char c = enc.charAt(i);
      if (c != '%') {
        job.write(c);
      } else if (i + 2 < enc.length() && hex(enc.charAt(i + 1)) && hex(enc.charAt(i + 2))) {
        job.write(Integer.parseInt(enc.substring(i + 1, i + 3), 16));
        i += 2;
      } else {
        return Optional.empty();
      }
    }
    if (job.size() == 0) {
      return Optional.empty();
    }
    return Optional.of(new AttemptRef(job.toString(StandardCharsets.UTF_8),
        Integer.parseInt(m.group(2))));
  }

  private static boolean hex(char c) {
    return Character.digit(c, 16) >= 0;
  }
}
