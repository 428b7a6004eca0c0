package dev.pipemoe.engine.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class NamesTest {

  @Test
  void closestWithinTheEditBudgetIgnoringCase() {
    List<String> known = List.of("numExperts", "numLayers", "hiddenSize");
    assertThat(Names.closest("numexperts", known, 2)).isEqualTo("numExperts");
    assertThat(Names.closest("numExpert", known, 2)).isEqualTo("numExperts");
    assertThat(Names.closest("numLayer", known, 2)).isEqualTo("numLayers");
    assertThat(Names.closest("something", known, 2)).isNull();
  }

  @Test
  void levenshteinByHand() {
    assertThat(Names.distance("kitten", "sitting")).isEqualTo(3);
    assertThat(Names.distance("", "abc")).isEqualTo(3);
    assertThat(Names.distance("flaw", "lawn")).isEqualTo(2);
  }
}
