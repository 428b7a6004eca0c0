package dev.pipemoe.worker.bench;

import dev.pipemoe.engine.device.OpRecord;

/**
 * The cost model's op classes (docs/engine.md, "The cost model"), to say which one a simulation
 * gets wrong: GEMMs, collectives (the records of communicator queues), and the memory-bound rest.
 */
enum OpClass {
  GEMM, MEMORY, COLLECTIVE;

  static OpClass of(OpRecord r) {
    if (r.stream().startsWith("comm:")) {
      return COLLECTIVE;
    }
    return r.op().equals("gemm") ? GEMM : MEMORY;
  }
}
