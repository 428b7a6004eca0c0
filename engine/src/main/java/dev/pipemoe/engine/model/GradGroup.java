package dev.pipemoe.engine.model;

import dev.pipemoe.engine.device.Communicator;
import dev.pipemoe.engine.moe.Param;
import java.util.List;

/** Parameters whose gradients are summed (all-reduced in place) over {@code comm}'s ranks. */
public record GradGroup(Communicator comm, List<Param> params) {}
