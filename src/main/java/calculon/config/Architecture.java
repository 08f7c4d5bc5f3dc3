package calculon.config;

/**
 * What a model file may say beyond Calculon's six keys, for models of the last two years. Every
 * field's default is Calculon's behaviour, so a Calculon model file means what it always meant.
 *
 * @param numKvHeads        key/value heads: equal to the attention heads is multi-head attention,
 *                          fewer is grouped-query, 1 is multi-query (key {@code num_kv_heads})
 * @param mlp               the dense MLP (key {@code mlp}: {@code gelu}, {@code swiglu}, {@code geglu}, {@code squared_relu})
 * @param vocabSize         vocabulary entries (key {@code vocab_size}); 0 when absent: Calculon's fixed
 *                          51,200 in the parameter count, and no embedding or logits layers modelled
 * @param tiedEmbeddings    the output projection shares the input embedding (key {@code tied_embeddings};
 *                          Calculon counts one embedding matrix)
 * @param learnedPositions  a learned position embedding of seq_size x hidden (Calculon); false for
 *                          rotary embeddings (key {@code position_embedding}: {@code learned}, {@code rope})
 * @param linearBiases      linear layers have biases (Calculon); Llama-style models have none (key {@code bias})
 * @param norm              layer or RMS normalisation (key {@code norm}: {@code layernorm}, {@code rmsnorm})
 * @param mla               multi-head latent attention (key {@code mla}), or null
 * @param moe               mixture of experts (key {@code moe}), or null for a dense model
 * @param dropout           dropout probabilities (keys {@code attention_dropout}, {@code hidden_dropout})
 * @param slidingWindow     sliding-window attention (keys {@code sliding_window},
 *                          {@code sliding_window_pattern}, {@code layer_types}), or null
 * @param mtpLayers         multi-token-prediction modules after the last block (key {@code mtp_layers};
 *                          DeepSeek-V3 has 1), 0 for none; charged on the last pipeline stage by the
 *                          corrected model
 */
public record Architecture(int numKvHeads, MlpKind mlp, long vocabSize, boolean tiedEmbeddings,
                           boolean learnedPositions, boolean linearBiases, Norm norm, Mla mla, Moe moe,
                           Dropout dropout, SlidingWindow slidingWindow, int mtpLayers) {

  /** An architecture without multi-token prediction. */
  public Architecture(int numKvHeads, MlpKind mlp, long vocabSize, boolean tiedEmbeddings,
                      boolean learnedPositions, boolean linearBiases, Norm norm, Mla mla, Moe moe,
                      Dropout dropout, SlidingWindow slidingWindow) {
    this(numKvHeads, mlp, vocabSize, tiedEmbeddings, learnedPositions, linearBiases, norm, mla, moe,
        dropout, slidingWindow, 0);
  }

  /** An architecture with Calculon's dropout and no sliding window. */
  public Architecture(int numKvHeads, MlpKind mlp, long vocabSize, boolean tiedEmbeddings,
                      boolean learnedPositions, boolean linearBiases, Norm norm, Mla mla, Moe moe) {
    this(numKvHeads, mlp, vocabSize, tiedEmbeddings, learnedPositions, linearBiases, norm, mla, moe,
        Dropout.CALCULON, null);
  }

  /** Calculon's transformer: multi-head, GeLU MLP, 51,200-entry vocabulary, learned positions, biases, LayerNorm. */
  public static Architecture calculon(long attnHeads) {
    return new Architecture((int) attnHeads, MlpKind.GELU, 0, true, true,
        true, Norm.LAYERNORM, null, null);
  }

  /**
   * Dropout probabilities (0 to 1). Calculon models dropout everywhere Megatron-LM applies it
   * (attention probabilities and the two residual branches), each with a one-byte mask; its
   * defaults are Megatron-LM's {@code --attention-dropout 0.1}, {@code --hidden-dropout 0.1}.
   * Models trained without dropout (Llama 3: {@code attention_dropout: 0.0} in its Hugging Face
   * config) set 0: no mask stored and no dropout work.
   *
   * @param attention dropout on the attention probabilities (key {@code attention_dropout})
   * @param hidden    dropout on the attention and MLP outputs before the residual add (key {@code hidden_dropout})
   */
  public record Dropout(double attention, double hidden) {
    /** Megatron-LM's defaults, which Calculon's layer lists assume. */
    public static final Dropout CALCULON = new Dropout(0.1, 0.1);
  }

  /**
   * Sliding-window (local) attention: each query of a windowed block attends to at most
   * {@code tokens} keys (itself and the ones before it). Mistral 7B windows every layer
   * ({@code sliding_window: 4096}); Gemma 2 and GPT-OSS alternate windowed and full layers, Gemma 3
   * has five windowed per full one ({@code sliding_window_pattern: 6}); Hugging Face's newer
   * configs list {@code layer_types}.
   *
   * @param tokens    the window, in tokens
   * @param blocks    the model's blocks
   * @param fullEvery every k-th block (1-based) attends to the whole sequence; 0: every block is windowed
   * @param layerTypes for each block (0-based) whether it is windowed, when the file lists
   *                  {@code layer_types}; else empty and {@code fullEvery} decides
   */
  public record SlidingWindow(long tokens, long blocks, long fullEvery, java.util.List<Boolean> layerTypes) {
    public SlidingWindow {
      layerTypes = java.util.List.copyOf(layerTypes);
    }

    /** Whether block {@code index} (0-based) uses the window. */
    public boolean isWindowed(long index) {
      if (!layerTypes.isEmpty()) {
        return layerTypes.get((int) index);
      }
      return fullEvery == 0 || (index + 1) % fullEvery != 0;
    }

    /** The fraction of blocks that use the window. */
    public double windowedFraction() {
      if (!layerTypes.isEmpty()) {
        return (double) layerTypes.stream().filter(b -> b).count() / layerTypes.size();
      }
      return fullEvery == 0 ? 1 : (double) (blocks - blocks / fullEvery) / blocks;
    }
  }

  /**
   * Dense MLP kinds: two matrices with GeLU or with squared ReLU (relu(x)^2, So et al. 2021,
   * "Primer", arXiv 2109.08668; Nemotron-4), or three with a gate (SwiGLU / GeGLU, Shazeer 2020).
   * Squared ReLU is the corrected model's only (Calculon-MoE has no such activation).
   */
  public enum MlpKind {
    GELU("gelu", false), SWIGLU("swiglu", true), GEGLU("geglu", true), SQUARED_RELU("squared_relu", false);

    public final String jsonName;
    public final boolean gated;

    MlpKind(String jsonName, boolean gated) {
      this.jsonName = jsonName;
      this.gated = gated;
    }
  }

  /** Normalisation layers: LayerNorm has a scale and a bias per channel, RMSNorm a scale only. */
  public enum Norm {
    LAYERNORM("layernorm", 2), RMSNORM("rmsnorm", 1);

    public final String jsonName;
    public final int paramsPerChannel;

    Norm(String jsonName, int paramsPerChannel) {
      this.jsonName = jsonName;
      this.paramsPerChannel = paramsPerChannel;
    }
  }

  /**
   * Multi-head latent attention (DeepSeek-V2, arXiv 2405.04434; DeepSeek-V3, arXiv 2412.19437):
   * queries and keys/values pass through low-rank latents; each head has a no-rotary part and a
   * decoupled rotary part shared by the keys.
   *
   * @param qLoraRank      query latent rank (0: queries projected directly from the hidden state)
   * @param kvLoraRank     key/value latent rank
   * @param qkNopeHeadDim  per-head query/key width without rotary embedding
   * @param qkRopeHeadDim  per-head (query) and shared (key) rotary width
   * @param vHeadDim       per-head value width
   */
  public record Mla(long qLoraRank, long kvLoraRank, long qkNopeHeadDim, long qkRopeHeadDim, long vHeadDim) {}

  /**
   * Mixture of experts as a property of the model.
   *
   * @param numExperts          routed experts per MoE layer
   * @param topK                routed experts per token
   * @param expertFeedforward   one routed expert's FFN width (fine-grained experts are narrower than {@code feedforward})
   * @param sharedExperts       experts every token passes through (DeepSeekMoE), each of {@code sharedFeedforward}
   * @param sharedFeedforward   one shared expert's FFN width
   * @param firstDenseLayers    the first blocks use a dense MLP of {@code feedforward} instead
   * @param layerInterval       every k-th block (after the dense ones) is MoE, the others dense
   * @param capacityFactor      routing imbalance: the busiest expert gets this many times the mean load
   */
  public record Moe(int numExperts, int topK, long expertFeedforward, int sharedExperts, long sharedFeedforward,
                    int firstDenseLayers, int layerInterval, double capacityFactor) {

    /** Whether block {@code index} (0-based) has experts. */
    public boolean isMoeBlock(long index) {
      return index >= firstDenseLayers && (index - firstDenseLayers) % layerInterval == 0;
    }
  }

  /** Whether the model has embedding and logits layers (the file gives a vocabulary). */
  public boolean modelsVocabulary() { return vocabSize > 0; }

  /** Whether every block is alike (no dense blocks mixed with MoE blocks). */
  public boolean uniformBlocks() {
    return moe == null || (moe.firstDenseLayers() == 0 && moe.layerInterval() == 1);
  }
}
