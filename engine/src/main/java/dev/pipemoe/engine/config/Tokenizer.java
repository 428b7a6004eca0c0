package dev.pipemoe.engine.config;

/**
 * How text becomes token ids ({@code --tokenizer-type}). Only byte-level tokens exist: every byte
 * of the text is one token, so the vocabulary is 256 and no tokenizer files are needed.
 */
public enum Tokenizer implements Named {
  BYTE("byte", 256);

  private final String jsonName;
  private final int vocabSize;

  Tokenizer(String jsonName, int vocabSize) {
    this.jsonName = jsonName;
    this.vocabSize = vocabSize;
  }

  @Override
  public String jsonName() {
    return jsonName;
  }

  /** Distinct token ids, before the model pads its vocabulary. */
  public int vocabSize() {
    return vocabSize;
  }
}
