/**
 * Job configs: what a user writes and what the engine runs. docs/config.md is the reference.
 *
 * <pre>
 *   JSON body ──(service maps fields)──┐
 *                                      ├──> JobSpec ──Validator.validate──> Validation
 *   "--use-pipe-experts ..." ──MindSpeedArgs.read──┘        errors, warnings, notes,
 *                                                           EngineConfig effective (null on errors)
 * </pre>
 *
 * <ul>
 *   <li>{@link dev.pipemoe.engine.config.JobSpec}: as written, every field optional, unchecked.
 *   <li>{@link dev.pipemoe.engine.config.EngineConfig}: as run, typed, complete, self-checking;
 *       {@link dev.pipemoe.engine.config.EngineConfig#schedule()} says serial, mindspeed or improved.
 *   <li>{@link dev.pipemoe.engine.config.Validator}: MindSpeed's V1-V11 and our P-* rules, all at
 *       once; the rule groups are {@code Inputs} (each field alone), {@code LayoutRules},
 *       {@code PipeExpertsRules} and {@code FeatureRules}, run in that order over effective values.
 *   <li>{@link dev.pipemoe.engine.config.MindSpeedArgs}: the argument-string form, round-trip exact.
 *   <li>{@code SpecField}: the one table of JSON pointer, flag and type for every field.
 * </ul>
 */
package dev.pipemoe.engine.config;
