package calculon.config;

/**
 * The model being trained (Calculon calls it the "application"): the six keys of a Calculon model file.
 *
 * @param name        the file's base name, for messages and reports
 * @param hidden      H, the model width
 * @param feedforward F, the MLP inner width
 * @param seqSize     S, tokens per sample
 * @param attnHeads   A, attention heads
 * @param attnSize    d, width of one head
 * @param numBlocks   L, transformer blocks
 */
public record Application(String name, long hidden, long feedforward, long seqSize, long attnHeads,
                          long attnSize, long numBlocks) {

  /** Vocabulary size Calculon hard-codes in its parameter count (reference llm.py:51). */
  public static final long CALCULON_VOCAB_SIZE = 51_200;

  /**
   * Dense parameter count as Calculon reports it (Narayanan et al. 2021, eq. 2, with biases and
   * layer norms, a fixed vocabulary and learned position embeddings); experts are not counted.
   */
  public long numParametersDense() {
    long h = hidden, f = feedforward, a = attnHeads, d = attnSize;
    long perBlock = 2 * h * f + 4 * h * a * d + h + f + 3 * a * d + h + 4 * h;
    return perBlock * numBlocks + (CALCULON_VOCAB_SIZE + seqSize) * h;
  }
}
