/**
 * The worker protocol's messages: what a worker and the service say to each other over HTTP JSON
 * (docs/worker-protocol.md). Both sides use these records, so the contract exists once. JSON names
 * are the record component names; durations travel as ISO-8601 strings ("PT10S"); instants as
 * ISO-8601 UTC timestamps.
 */
package dev.pipemoe.engine.protocol;
