package dev.pipemoe.service.jobs;

import dev.pipemoe.engine.config.JobSpec;
import tools.jackson.databind.node.ObjectNode;

/**
 * A POST /api/v1/jobs body that parsed: well-formed, no unknown fields, right JSON types. Its
 * values are not validated yet.
 *
 * @param name the job's name as given (null when absent; the validation step refuses that)
 * @param sections the spec fields as given (JSON and YAML forms), for storing; null in the args form
 * @param spec the spec the sections bind to; null in the args form
 * @param args the argument string (args form only)
 * @param requestHash SHA-256 of the body's canonical JSON: the same fields in any order, in JSON or
 *     YAML, hash alike (Idempotency-Key compares it); null when the request has no key
 */
record Submission(SpecForm form, String name, ObjectNode sections, JobSpec spec, String args, byte[] requestHash) {}
