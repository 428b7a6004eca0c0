/**
 * Tokens for whole-model jobs: {@link dev.pipemoe.engine.data.ByteTokens} reads a text file as
 * byte-level tokens, {@link dev.pipemoe.engine.data.GeneratedCorpus} writes a deterministic text
 * when no file is given, and {@link dev.pipemoe.engine.data.TokenWindows} serves both as the
 * {@link dev.pipemoe.engine.data.TokenSource} that feeds each data rank disjoint samples from a
 * seed (docs/config.md, "Data").
 */
package dev.pipemoe.engine.data;
