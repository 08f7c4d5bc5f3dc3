package calculon.config;

/**
 * What a model file may say beyond Calculon's six keys, for models of the last two years. Every
 * field's default is Calculon's behaviour, so a Calculon model file means what it always meant.
 *
 * @param numKvHeads        key/value heads: equal to the attention heads is multi-head attention,
 *                          fewer is grouped-query, 1 is multi-query (key {@code num_kv_heads})
 * @param mlp               the dense MLP (key {@code mlp}: {@code gelu}, {@code swiglu}, {@code geglu})
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
 */
public record Architecture(int numKvHeads, MlpKind mlp, long vocabSize, boolean tiedEmbeddings,
                           boolean learnedPositions, boolean linearBiases, Norm norm, Mla mla, Moe moe) {

  /** Calculon's transformer: multi-head, GeLU MLP, 51,200-entry vocabulary, learned positions, biases, LayerNorm. */
  public static Architecture calculon(long attnHeads) {
    return new Architecture((int) attnHeads, MlpKind.GELU, 0, true, true,
        true, Norm.LAYERNORM, null, null);
  }

  /** Dense MLP kinds: two matrices, or three with a gate (SwiGLU / GeGLU, Shazeer 2020). */
  public enum MlpKind {
    GELU("gelu", false), SWIGLU("swiglu", true), GEGLU("geglu", true);

    public final String jsonName;
    public final boolean gated;

    MlpKind(String jsonName, boolean gated) {
      this.jsonName = jsonName;
      this.gated = gated;
    }

    public static MlpKind fromJson(String s) {
      for (MlpKind k : values()) { if (k.jsonName.equals(s)) { return k; } }
      return null;
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

    public static Norm fromJson(String s) {
      for (Norm k : values()) { if (k.jsonName.equals(s)) { return k; } }
      return null;
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
