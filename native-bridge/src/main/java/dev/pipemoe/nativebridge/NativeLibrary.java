package dev.pipemoe.nativebridge;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads libpipemoe.so. The jar carries it with the OpenBLAS libraries it needs under {@code
 * /native/linux-x86_64/}, listed in {@code index.txt}; they are copied into one private temporary
 * folder (the library's RUNPATH is {@code $ORIGIN}, so the dynamic loader finds its neighbours
 * there) and opened once per JVM. Resources are read as streams, never as files of the jar, so this
 * works from a jar nested in a Spring Boot fat jar too.
 */
public final class NativeLibrary {
  private static final String RESOURCES = "/native/linux-x86_64/";

  private static Path directory;
  private static SymbolLookup lookup;
  private static RuntimeException failure;

  private NativeLibrary() {}

  /** The symbols of libpipemoe.so; throws, with the reason, when it cannot be loaded. */
  public static synchronized SymbolLookup lookup() {
    if (lookup == null && failure == null) {
      try {
        directory = extract();
        lookup = SymbolLookup.libraryLookup(directory.resolve("libpipemoe.so"), Arena.global());
      } catch (IllegalCallerException e) {
        failure = new IllegalStateException("pipemoe: native access is denied to this module; run java with "
            + "--enable-native-access=ALL-UNNAMED (or the Enable-Native-Access manifest entry)", e);
      } catch (IOException | RuntimeException e) {
        failure = new IllegalStateException("pipemoe: cannot load the native runtime: " + e.getMessage()
            + (NativeLibrary.class.getModule().isNativeAccessEnabled() ? ""
                : " (native access is not enabled: pass --enable-native-access=ALL-UNNAMED)"), e);
      }
    }
    if (failure != null) {
      throw failure;
    }
    return lookup;
  }

  /** The folder the libraries were extracted to (the benchmark opens OpenBLAS from there). */
  public static synchronized Path directory() {
    lookup();
    return directory;
  }

  private static Path extract() throws IOException {
    String os = System.getProperty("os.name"), arch = System.getProperty("os.arch");
    List<String> names = new ArrayList<>();
    try (InputStream in = NativeLibrary.class.getResourceAsStream(RESOURCES + "index.txt")) {
      if (in == null) {
        throw new IOException("the jar has no " + RESOURCES + "index.txt; it is built for linux-x86_64 only, this is "
            + os + "/" + arch);
      }
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (!line.isBlank()) {
          names.add(line.strip());
        }
      }
    }
    Path dir = Files.createTempDirectory("pipemoe-native-",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    dir.toFile().deleteOnExit();
    for (String name : names) {
      Path target = dir.resolve(name);
      try (InputStream in = NativeLibrary.class.getResourceAsStream(RESOURCES + name)) {
        if (in == null) {
          throw new IOException("the jar lists " + name + " in index.txt but does not contain it");
        }
        Files.copy(in, target);
      }
      target.toFile().deleteOnExit();  // the mapped file stays usable after its name is gone
    }
    return dir;
  }
}
