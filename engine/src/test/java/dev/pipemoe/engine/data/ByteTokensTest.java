package dev.pipemoe.engine.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ByteTokensTest {

  @TempDir Path dir;

  @Test
  void everyByteIsOneTokenId() throws IOException {
    Path file = Files.write(dir.resolve("t.txt"), new byte[] {'a', (byte) 0xC3, (byte) 0xA9, '\n'});
    byte[] tokens = ByteTokens.read(file);
    assertThat(tokens).hasSize(4);
    assertThat(ByteTokens.id(tokens[0])).isEqualTo(97);
    assertThat(ByteTokens.id(tokens[1])).isEqualTo(195); // UTF-8 bytes, not characters
  }

  @Test
  void missingEmptyAndDirectoryAreErrorsNamingTheFile() throws IOException {
    assertThatThrownBy(() -> ByteTokens.read(dir.resolve("nope.txt"))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nope.txt").hasMessageContaining("--data-path").hasMessageContaining("does not exist");
    Path empty = Files.createFile(dir.resolve("empty.txt"));
    assertThatThrownBy(() -> ByteTokens.read(empty)).hasMessageContaining("empty.txt").hasMessageContaining("is empty");
    assertThatThrownBy(() -> ByteTokens.read(dir)).hasMessageContaining("not a regular file");
  }
}
