package dev.pipemoe.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * Where the service is and which token to use. Each value comes from the first place that has it:
 * the command line ({@code --url}, {@code --token}), the environment ({@code PIPEMOE_URL},
 * {@code PIPEMOE_TOKEN}, {@code PIPEMOE_ADMIN_TOKEN}), then the config file ({@code url},
 * {@code token}, {@code admin-token}), which {@code ./pipemoe up} writes for its session. The file is
 * {@code $PIPEMOE_CONFIG}, else {@code $XDG_CONFIG_HOME/pipemoe/config}, else
 * {@code ~/.config/pipemoe/config}.
 */
record Settings(String url, String token, String adminToken, Path file) {
  static final String DEFAULT_URL = "http://localhost:8080";

  static Settings resolve(String urlFlag, String tokenFlag, Map<String, String> env) {
    Path file = configFile(env);
    Properties props = read(file);
    String url = first(urlFlag, env.get("PIPEMOE_URL"), props.getProperty("url"), DEFAULT_URL);
    String token = first(tokenFlag, env.get("PIPEMOE_TOKEN"), props.getProperty("token"), null);
    // token administration takes an admin token: --token if given, else the admin's own settings
    String admin = first(tokenFlag, env.get("PIPEMOE_ADMIN_TOKEN"), props.getProperty("admin-token"), null);
    return new Settings(url, token, admin, file);
  }

  static Path configFile(Map<String, String> env) {
    if (notBlank(env.get("PIPEMOE_CONFIG"))) {
      return Path.of(env.get("PIPEMOE_CONFIG"));
    }
    Path base = notBlank(env.get("XDG_CONFIG_HOME")) ? Path.of(env.get("XDG_CONFIG_HOME"))
        : Path.of(System.getProperty("user.home"), ".config");
    return base.resolve("pipemoe").resolve("config");
  }

  private static Properties read(Path file) {
    Properties p = new Properties();
    if (Files.isRegularFile(file)) {
      try (Reader r = Files.newBufferedReader(file)) {
        p.load(r);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the config file " + file, e);
      }
    }
    return p;
  }

  private static String first(String... values) {
    for (String v : values) {
      if (notBlank(v)) {
        return v.strip();
      }
    }
    return null;
  }

  private static boolean notBlank(String s) {
    return s != null && !s.isBlank();
  }
}
