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
 * @param architecture what the file says beyond the six keys (Calculon's defaults when absent)
 */
public record Application(String name, long hidden, long feedforward, long seqSize, long attnHeads,
                          long attnSize, long numBlocks, Architecture architecture) {

  /** A Calculon model: the six keys and nothing else. */
  public Application(String name, long hidden, long feedforward, long seqSize, long attnHeads,
                     long attnSize, long numBlocks) {
    this(name, hidden, feedforward, seqSize, attnHeads, attnSize, numBlocks, Architecture.calculon(attnHeads));
  }

  /** Vocabulary size Calculon hard-codes in its parameter count (reference llm.py:51). */
  public static final long CALCULON_VOCAB_SIZE = 51_200;
}
