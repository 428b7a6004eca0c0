package dev.pipemoe.nativebridge;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.pipemoe.engine.device.DeviceException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * pipemoe.h as Java sees it: one downcall handle per C function, named after it, bound once when
 * the class loads. Handles are passed as longs. Enqueue calls are short, never block and never call
 * back, so they are linked {@code critical}: no thread-state transition (the enqueue overhead
 * budget is 1 µs). Host I/O is critical with heap access, so Java arrays go to C without a copy.
 * Calls that may block (synchronize, free, collectives' peers) are linked plainly, so a waiting
 * thread never holds up the garbage collector.
 */
final class PipemoeLib {
  private PipemoeLib() {}

  private static final Linker LINKER = Linker.nativeLinker();
  static final Linker.Option CRITICAL = Linker.Option.critical(false);
  private static final Linker.Option CRITICAL_HEAP = Linker.Option.critical(true);

  private static final FunctionDescriptor S_J = FunctionDescriptor.of(JAVA_INT, JAVA_LONG);
  private static final FunctionDescriptor S_JJ = FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG);
  static final FunctionDescriptor S_JJJ = FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final FunctionDescriptor S_JJJJ =
      FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
  static final FunctionDescriptor S_JJJJJ =
      FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
  private static final FunctionDescriptor S_JA = FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS);

  // ---- status, op kinds, layouts: read from the library, never copied from pipemoe.h ----
  static final MethodHandle pm_last_error = bind("pm_last_error", FunctionDescriptor.of(ADDRESS));
  static final MethodHandle pm_status_count = bind("pm_status_count", FunctionDescriptor.of(JAVA_INT));
  static final MethodHandle pm_status_name = bind("pm_status_name", FunctionDescriptor.of(ADDRESS, JAVA_INT));
  static final MethodHandle pm_op_kind_count = bind("pm_op_kind_count", FunctionDescriptor.of(JAVA_INT));
  static final MethodHandle pm_op_kind_name = bind("pm_op_kind_name", FunctionDescriptor.of(ADDRESS, JAVA_INT));
  static final MethodHandle pm_struct_layout =
      bind("pm_struct_layout", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));

  /** pm_status names by code ("PM_OK", "PM_ERR_ARG", ...). */
  private static final List<String> STATUS_NAMES = names(pm_status_count, pm_status_name);
  static final int PM_ERR_ARG = status("PM_ERR_ARG"), PM_ERR_HANDLE = status("PM_ERR_HANDLE");
  /** pm_op_kind names by value, as timelines show them ("gemm", "all_to_all"). */
  static final List<String> OP_KIND_NAMES = names(pm_op_kind_count, pm_op_kind_name);

  /** struct pm_error (the message's capacity read from the library); checked like every layout here. */
  static final MemoryLayout ERROR = checked("pm_error", MemoryLayout.structLayout(JAVA_INT.withName("code"),
      MemoryLayout.sequenceLayout(cLayout("pm_error", "message")[1], JAVA_BYTE).withName("message")));
  static final long ERROR_MESSAGE_OFFSET = offset(ERROR, "message");

  /** struct pm_op_record. */
  static final MemoryLayout OP_RECORD = checked("pm_op_record", MemoryLayout.structLayout(
      JAVA_INT.withName("queue"), JAVA_INT.withName("kind"), JAVA_LONG.withName("seq"),
      JAVA_LONG.withName("start_ns"), JAVA_LONG.withName("end_ns"), JAVA_LONG.withName("bytes"),
      JAVA_LONG.withName("modelled_ns"), JAVA_INT.withName("label"), JAVA_INT.withName("reserved")));
  /** Byte offsets of the pm_op_record fields Java reads, from the layout's names. */
  static final long RECORD_QUEUE = offset(OP_RECORD, "queue"), RECORD_KIND = offset(OP_RECORD, "kind"),
      RECORD_START_NS = offset(OP_RECORD, "start_ns"), RECORD_END_NS = offset(OP_RECORD, "end_ns"),
      RECORD_BYTES = offset(OP_RECORD, "bytes"), RECORD_MODELLED_NS = offset(OP_RECORD, "modelled_ns"),
      RECORD_LABEL = offset(OP_RECORD, "label");

  // ---- status, fabric, device, stream, event ----
  static final MethodHandle pm_fabric_new =
      bind("pm_fabric_new", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_DOUBLE, ADDRESS));
  static final MethodHandle pm_fabric_set_link =
      bind("pm_fabric_set_link", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_DOUBLE, JAVA_DOUBLE));
  static final MethodHandle pm_fabric_set_timeout =
      bind("pm_fabric_set_timeout", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_DOUBLE));
  static final MethodHandle pm_fabric_now = bind("pm_fabric_now", S_JA, CRITICAL_HEAP);
  static final MethodHandle pm_fabric_free = bind("pm_fabric_free", S_J);
  static final MethodHandle pm_device_new =
      bind("pm_device_new", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS));
  static final MethodHandle pm_device_free = bind("pm_device_free", S_J);
  static final MethodHandle pm_device_stream = bind("pm_device_stream", S_JA);
  static final MethodHandle pm_device_synchronize = bind("pm_device_synchronize", S_J);
  static final MethodHandle pm_stream_new = bind("pm_stream_new", S_JA);
  static final MethodHandle pm_stream_synchronize = bind("pm_stream_synchronize", S_J);
  static final MethodHandle pm_stream_id = bind("pm_stream_id", S_JA);
  static final MethodHandle pm_event_new = bind("pm_event_new", S_JA);
  static final MethodHandle pm_event_free = bind("pm_event_free", S_J);
  static final MethodHandle pm_event_record = bind("pm_event_record", S_JJ, CRITICAL);
  static final MethodHandle pm_event_wait = bind("pm_event_wait", S_JJ, CRITICAL);
  static final MethodHandle pm_event_query = bind("pm_event_query", S_JA, CRITICAL_HEAP);
  static final MethodHandle pm_event_synchronize = bind("pm_event_synchronize", S_J);

  // ---- tensors ----
  static final MethodHandle pm_tensor_new =
      bind("pm_tensor_new", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
  static final MethodHandle pm_tensor_view = bind("pm_tensor_view",
      FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle pm_tensor_free = bind("pm_tensor_free", S_J, CRITICAL);
  static final MethodHandle pm_tensor_write =
      bind("pm_tensor_write", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG), CRITICAL_HEAP);
  static final MethodHandle pm_tensor_read =
      bind("pm_tensor_read", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG), CRITICAL_HEAP);

  // ---- communicators and collectives ----
  static final MethodHandle pm_comm_new = bind("pm_comm_new",
      FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
  static final MethodHandle pm_comm_free = bind("pm_comm_free", S_J);
  static final MethodHandle pm_comm_queue_id = bind("pm_comm_queue_id", S_JA);

  // ---- the link model's arithmetic ----
  static final MethodHandle pm_collective_bytes = bind("pm_collective_bytes",
      FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_DOUBLE, ADDRESS));
  static final MethodHandle pm_link_model_eval = bind("pm_link_model_eval", FunctionDescriptor.of(JAVA_INT,
      JAVA_DOUBLE, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));

  // ---- timeline, threading ----
  static final MethodHandle pm_device_set_label =
      bind("pm_device_set_label", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT), CRITICAL);
  static final MethodHandle pm_device_timeline = bind("pm_device_timeline",
      FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
  static final MethodHandle pm_set_blas_threads =
      bind("pm_set_blas_threads", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

  /** The code of the pm_status named {@code name}; fails the load when the library has none. */
  static int status(String name) {
    int code = STATUS_NAMES.indexOf(name);
    if (code < 0) {
      throw new LinkageError("libpipemoe.so has no status " + name + "; it has " + STATUS_NAMES);
    }
    return code;
  }

  /** The pm_op_kind named {@code name} (as timelines show it), or -1. */
  static int opKind(String name) {
    return OP_KIND_NAMES.indexOf(name);
  }

  private static List<String> names(MethodHandle count, MethodHandle name) {
    try {
      int n = (int) count.invokeExact();
      List<String> out = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        out.add(((MemorySegment) name.invokeExact(i)).reinterpret(Long.MAX_VALUE).getString(0));
      }
      return List.copyOf(out);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * Returns {@code layout} after checking its size and every named member's offset and size against
   * what the library was compiled with: a header changed without its binding fails the load here,
   * naming the field, instead of reading garbage later.
   */
  static MemoryLayout checked(String struct, MemoryLayout layout) {
    List<String> wrong = new ArrayList<>();
    long[] c = cLayout(struct, null);
    if (c[1] != layout.byteSize()) {
      wrong.add("size " + layout.byteSize() + " but C has " + c[1]);
    }
    for (MemoryLayout m : ((GroupLayout) layout).memberLayouts()) {
      if (m.name().isEmpty()) {
        continue;  // padding
      }
      String field = m.name().get();
      long[] f = cLayout(struct, field);
      long offset = offset(layout, field);
      if (f == null) {
        wrong.add(field + ": C has no such field");
      } else if (f[0] != offset || f[1] != m.byteSize()) {
        wrong.add(field + " at " + offset + " size " + m.byteSize() + " but C has it at " + f[0] + " size " + f[1]);
      }
    }
    if (!wrong.isEmpty()) {
      throw new LinkageError("pipemoe: the Java layout of " + struct + " does not match libpipemoe.so ("
          + String.join("; ", wrong) + "): PipemoeLib must follow pipemoe.h");
    }
    return layout;
  }

  /** {offset, size} of struct.field (field null: {0, sizeof struct}); null for an unknown field. */
  private static long[] cLayout(String struct, String field) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment out = a.allocate(JAVA_LONG, 2);
      MemorySegment cStruct = a.allocateFrom(struct), cField = field == null ? MemorySegment.NULL : a.allocateFrom(field);
      int status = (int) pm_struct_layout.invokeExact(cStruct, cField, out, out.asSlice(8));
      if (status != 0 && field != null) {
        return null;
      }
      if (status != 0) {
        throw new LinkageError("pipemoe: libpipemoe.so does not know struct " + struct);
      }
      return new long[] {out.get(JAVA_LONG, 0), out.get(JAVA_LONG, 8)};
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private static long offset(MemoryLayout layout, String field) {
    return layout.byteOffset(MemoryLayout.PathElement.groupElement(field));
  }

  static MethodHandle bind(String name, FunctionDescriptor fd, Linker.Option... options) {
    MemorySegment symbol = NativeLibrary.lookup().find(name)
        .orElseThrow(() -> new LinkageError("libpipemoe.so has no function " + name));
    return LINKER.downcallHandle(symbol, fd, options);
  }

  /** A downcall returning a pm_status; {@code invokeExact} declares Throwable, hence the interface. */
  @FunctionalInterface
  interface Downcall {
    int call() throws Throwable;
  }

  /**
   * Makes one downcall and throws the runtime's error when it fails: the one place every binding
   * call goes through. The lambda is not allocated on the op path once the JIT inlines this.
   */
  static void call(Downcall downcall) {
    int status;
    try {
      status = downcall.call();
    } catch (Throwable t) {
      throw rethrow(t);
    }
    check(status);
  }

  /**
   * A free whose status does not matter: the handle may be gone already with its device, which is
   * what the caller wanted.
   */
  static void release(Downcall free) {
    try {
      int ignored = free.call();
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** Throws the native error of this thread's last failed call when status is not PM_OK. */
  static void check(int status) {
    if (status != 0) {
      throw lastError(status);
    }
  }

  static DeviceException lastError(int status) {
    try {
      // pm_last_error is thread-local; this is the thread that just made the failing call
      MemorySegment e = ((MemorySegment) pm_last_error.invokeExact()).reinterpret(ERROR.byteSize());
      return new DeviceException(status, e.getString(ERROR_MESSAGE_OFFSET));
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** For the catch of an invokeExact: our own exceptions pass, the impossible rest is a bug. */
  static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      return r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    throw new AssertionError("a downcall threw a checked exception", t);
  }
}
