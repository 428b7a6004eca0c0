package dev.pipemoe.nativebridge;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemoryLayout;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What the binding reads from the library instead of copying pipemoe.h: op kinds, statuses, layouts. */
class AbiTest {

  @BeforeAll
  static void load() {
    NativeLibrary.lookup();
  }

  @Test
  void opKindNamesComeFromTheLibrary() {
    assertThat(PipemoeLib.OP_KIND_NAMES).startsWith("fill", "random", "copy", "gemm")
        .contains("gelu_backward", "all_to_all", "all_gather", "reduce_scatter", "all_reduce", "event_wait")
        .doesNotHaveDuplicates();
    assertThat(PipemoeLib.opKind("all_reduce")).isEqualTo(PipemoeLib.OP_KIND_NAMES.indexOf("all_reduce"));
    assertThat(PipemoeLib.opKind("no_such_op")).isEqualTo(-1);
  }

  @Test
  void statusCodesComeFromTheLibrary() {
    assertThat(PipemoeLib.PM_ERR_ARG).isEqualTo(1);
    assertThat(PipemoeLib.PM_ERR_HANDLE).isEqualTo(2);
    assertThat(PipemoeLib.status("PM_ERR_TIMEOUT")).isEqualTo(5);
    assertThatThrownBy(() -> PipemoeLib.status("PM_ERR_NOPE")).isInstanceOf(LinkageError.class)
        .hasMessageContaining("no status PM_ERR_NOPE");
  }

  @Test
  void theLayoutsInUseMatchTheLibrary() {
    assertThat(PipemoeLib.OP_RECORD.byteSize()).isEqualTo(56);
    assertThat(PipemoeLib.ERROR.byteSize()).isEqualTo(516);
    assertThat(PipemoeLib.ERROR_MESSAGE_OFFSET).isEqualTo(4);
  }

  @Test
  void aLayoutThatDriftedFromTheHeaderFailsNamingTheField() {
    // pm_op_record with seq as an int: every later field moves
    MemoryLayout drifted = MemoryLayout.structLayout(JAVA_INT.withName("queue"), JAVA_INT.withName("kind"),
        JAVA_INT.withName("seq"), MemoryLayout.paddingLayout(4), JAVA_LONG.withName("start_ns"),
        JAVA_LONG.withName("end_ns"), JAVA_LONG.withName("bytes"), JAVA_LONG.withName("modelled_ns"),
        JAVA_INT.withName("label"), JAVA_INT.withName("reserved"));
    assertThatThrownBy(() -> PipemoeLib.checked("pm_op_record", drifted)).isInstanceOf(LinkageError.class)
        .hasMessageContaining("pm_op_record").hasMessageContaining("seq at 8 size 4 but C has it at 8 size 8");
    MemoryLayout unknown = MemoryLayout.structLayout(JAVA_INT.withName("code"), JAVA_INT.withName("line"));
    assertThatThrownBy(() -> PipemoeLib.checked("pm_error", unknown)).isInstanceOf(LinkageError.class)
        .hasMessageContaining("line: C has no such field").hasMessageContaining("size 8 but C has 516");
  }
}
