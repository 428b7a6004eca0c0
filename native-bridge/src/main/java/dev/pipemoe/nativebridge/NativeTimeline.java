package dev.pipemoe.nativebridge;

import static dev.pipemoe.nativebridge.PipemoeLib.call;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.pipemoe.engine.device.OpRecord;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The timeline bookkeeping of one {@link NativeDevice}: the names of its queues and labels (the
 * runtime knows ids only) and the drain of pm_op_record batches into {@link OpRecord}s, with op
 * names from the library's own op kind list.
 */
final class NativeTimeline implements AutoCloseable {
  private static final int BATCH = 256;

  private final long device;
  private final Map<Integer, String> queueNames = new HashMap<>();
  private final Map<String, Integer> labelIds = new HashMap<>();
  private final List<String> labelNames = new ArrayList<>(List.of(""));  // id 0: no label
  private final Arena arena = Arena.ofShared();  // the record buffer; any thread may close the device
  private final MemorySegment records = arena.allocate(PipemoeLib.OP_RECORD, BATCH);
  private int label;

  NativeTimeline(long device) {
    this.device = device;
  }

  /** Names queue {@code id} in records from now on. */
  void nameQueue(int id, String name) {
    queueNames.put(id, name);
  }

  boolean hasQueueNamed(String name) {
    return queueNames.containsValue(name);
  }

  /** Tags the ops enqueued from now on with {@code name} (null: none). */
  void label(String name) {
    int id = name == null ? 0 : labelIds.computeIfAbsent(name, n -> {
      labelNames.add(n);
      return labelNames.size() - 1;
    });
    if (id == label) {
      return;  // the common case on the op path: no call
    }
    call(() -> (int) PipemoeLib.pm_device_set_label.invokeExact(device, id));
    label = id;
  }

  /** The finished ops since the last drain, by start time. */
  List<OpRecord> drain() {
    List<OpRecord> out = new ArrayList<>();
    long size = PipemoeLib.OP_RECORD.byteSize();
    try (Arena a = Arena.ofConfined()) {
      MemorySegment n = a.allocate(JAVA_LONG);
      long got;
      do {
        call(() -> (int) PipemoeLib.pm_device_timeline.invokeExact(device, records, (long) BATCH, n));
        got = n.get(JAVA_LONG, 0);
        for (long i = 0; i < got; i++) {
          out.add(toRecord(records.asSlice(i * size, size)));
        }
      } while (got == BATCH);
    }
    out.sort(Comparator.comparingLong(OpRecord::startNanos));
    return out;
  }

  private OpRecord toRecord(MemorySegment r) {
    int queue = r.get(JAVA_INT, PipemoeLib.RECORD_QUEUE), kind = r.get(JAVA_INT, PipemoeLib.RECORD_KIND);
    int lbl = r.get(JAVA_INT, PipemoeLib.RECORD_LABEL);
    List<String> ops = PipemoeLib.OP_KIND_NAMES;
    String op = kind >= 0 && kind < ops.size() ? ops.get(kind) : "op#" + kind;
    return new OpRecord(queueNames.getOrDefault(queue, "queue#" + queue), op,
        lbl > 0 && lbl < labelNames.size() ? labelNames.get(lbl) : null, r.get(JAVA_LONG, PipemoeLib.RECORD_START_NS),
        r.get(JAVA_LONG, PipemoeLib.RECORD_END_NS), r.get(JAVA_LONG, PipemoeLib.RECORD_BYTES),
        r.get(JAVA_LONG, PipemoeLib.RECORD_MODELLED_NS));
  }

  @Override
  public void close() {
    arena.close();
  }
}
