package dev.pipemoe.service.jobs;

/**
 * A submission that passed validation, in the form it is stored: JSON texts for the spec as given,
 * the effective config, the warnings and the notes, plus the columns later issues filter on.
 */
record Prepared(
    SpecForm form,
    String name,
    String specJson,
    String args,
    String effectiveJson,
    String warningsJson,
    String notesJson,
    String schedule,
    String deviceType,
    int devices) {}
