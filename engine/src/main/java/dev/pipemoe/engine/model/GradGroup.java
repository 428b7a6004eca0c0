package dev.pipemoe.engine.model;

import dev.pipemoe.engine.device.Communicator;
import dev.pipemoe.engine.moe.Param;
import java.util.List;

/** Parameters whose gradients are summed (all-reduced in place) over {@code comm}'s ranks. */
public record GradGroup(Communicator comm, List<Param> params) {

  /** Adds the group to {@code groups} unless {@code comm} is null (no other rank holds them). */
  static void addIfShared(List<GradGroup> groups, Communicator comm, List<Param> params) {
    if (comm != null && !params.isEmpty()) {
      groups.add(new GradGroup(comm, params));
    }
  }
}
