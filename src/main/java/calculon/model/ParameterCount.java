package calculon.model;

import calculon.config.ActivationFunction;
import calculon.config.Application;
import calculon.config.Architecture;
import calculon.config.Architecture.Mla;
import calculon.config.Architecture.Moe;
import calculon.config.Execution;

/**
 * Parameters of a model: all of them, and those one token passes through (for MoE, the top-k
 * routed experts plus the shared ones). For a Calculon model file this is Calculon's count
 * (Narayanan et al. 2021 eq. 2: biases, two layer norms per block, one 51,200 x H embedding and
 * learned positions); Calculon ignores experts. {@link #of} is that count for any model file (what
 * {@code --model-version calculon-moe} reports); {@link #corrected} adds the final norm before the
 * output layer of a model file that models its vocabulary, as the corrected model runs it.
 *
 * @param total  every parameter
 * @param active parameters used for one token
 */
public record ParameterCount(long total, long active) {

  /** The count for a model file, experts as the file declares them (none: dense). */
  public static ParameterCount of(Application app) {
    Architecture a = app.architecture();
    long shared = app.numBlocks() * (attention(app) + norms(app)) + embeddings(app);
    Moe moe = a.moe();
    if (moe == null) {
      long p = shared + app.numBlocks() * mlp(app, app.feedforward());
      return new ParameterCount(p, p);
    }
    long total = shared, active = shared;
    long routed = mlp(app, moe.expertFeedforward());
    long alwaysOn = (long) moe.sharedExperts() * mlp(app, moe.sharedFeedforward());
    for (long b = 0; b < app.numBlocks(); b++) {
      if (moe.isMoeBlock(b)) {
        long router = app.hidden() * moe.numExperts();
        total += router + alwaysOn + moe.numExperts() * routed;
        active += router + alwaysOn + moe.topK() * routed;
      } else {
        total += mlp(app, app.feedforward());
        active += mlp(app, app.feedforward());
      }
    }
    return new ParameterCount(total, active);
  }

  /**
   * The corrected model's count of a model file: {@link #of} plus {@link #finalNorm}, the norm
   * before the output layer (Llama 3 8B: 8,030,257,152 + 4,096 = 8,030,261,248, its checkpoint's
   * count). A Calculon model file (no {@code vocab_size}) has no final norm here, as in Calculon's
   * count, so this equals {@link #of} for it. What {@code lpc} prints.
   */
  public static ParameterCount corrected(Application app) {
    return plusFinalNorm(of(app), app);
  }

  /**
   * The corrected model's count of the model a run evaluates: {@link #corrected} for the model
   * file, or, when the file has no {@code moe} object and the execution is a MoE run
   * ({@code model_MoE} true), {@link #withExperts} with the execution's {@code num_experts} and
   * {@code top_k_experts}, SwiGLU experts under {@code activation_function} silu (Calculon-MoE's
   * way, {@link BlockBuilder#expertMlp}), plus the final norm. What {@code lpc -e} prints and the
   * corrected model's "Total Weight Params" counts.
   */
  public static ParameterCount ofRun(Application app, Execution exe) {
    if (exe.modelMoE() && app.architecture().moe() == null) {
      return plusFinalNorm(withExperts(app, exe.numExperts(), exe.topKExperts(),
          exe.activationFunction() == ActivationFunction.SILU), app);
    }
    return corrected(app);
  }

  /** {@code p} with the final norm of {@code app} added to its total and its active count (every token passes it). */
  private static ParameterCount plusFinalNorm(ParameterCount p, Application app) {
    long n = finalNorm(app);
    return new ParameterCount(p.total() + n, p.active() + n);
  }

  /**
   * The final norm before the output layer (Megatron-Core {@code TransformerBlock}'s
   * {@code final_layernorm}; Llama's {@code model.norm}): a scale per hidden channel for RMSNorm,
   * a scale and a bias for LayerNorm ({@link Architecture.Norm#paramsPerChannel}). Only a model
   * file with {@code vocab_size} has one: the corrected model runs it with the output layer
   * ({@code BlockBuilder}'s {@code Head_FinalNorm}); a Calculon model file models no output layer,
   * and Calculon's count (Narayanan et al. 2021 eq. 2) has no final norm. The multi-token-prediction
   * modules' own norms are not counted (their modules are not: they are outside DeepSeek-V3's 671B).
   *
   * @return parameters (elements): hidden or 2 x hidden, or 0 for a model file without vocab_size
   */
  public static long finalNorm(Application app) {
    Architecture a = app.architecture();
    return a.modelsVocabulary() ? (long) a.norm().paramsPerChannel * app.hidden() : 0;
  }

  /** The count with experts taken from a Calculon-MoE execution (the model file has none). */
  public static ParameterCount withExperts(Application app, int experts, int topK, boolean gated) {
    return of(withExpertsApp(app, experts, topK, gated));
  }

  /** The model with Calculon-MoE's experts: E experts of the dense FFN width, every block MoE. */
  private static Application withExpertsApp(Application app, int experts, int topK, boolean gated) {
    Architecture a = app.architecture();
    Architecture.MlpKind kind = gated ? Architecture.MlpKind.SWIGLU : a.mlp();
    Architecture withMoe = new Architecture(a.numKvHeads(), kind, a.vocabSize(), a.tiedEmbeddings(),
        a.learnedPositions(), a.linearBiases(), a.norm(), a.mla(),
        new Moe(experts, topK, app.feedforward(), 0, app.feedforward(), 0, 1, 1.0));
    return new Application(app.name(), app.hidden(), app.feedforward(), app.seqSize(), app.attnHeads(),
        app.attnSize(), app.numBlocks(), withMoe);
  }

  /**
   * Parameters one GPU holds under an execution: the largest pipeline stage's share, in the
   * Megatron-Core layout (Shoeybi et al. 2019 §3 for TP; megatron/core/transformer/moe for EP
   * and expert TP). Pipeline stage s holds blocks [floor(s*L/PP), floor((s+1)*L/PP)). In a
   * block, attention and dense MLP matrices are split over TP, the norms and the router are
   * replicated, shared experts are split over TP, and each of the E/EP routed experts a rank
   * holds is split over ES. The input embedding is split over TP (vocabulary-parallel) on the
   * first stage with the learned positions; the output projection is split over TP on the last
   * stage, which also keeps its own copy of a tied embedding when PP &gt; 1 (Megatron's
   * share_embeddings_and_output_weights), and the final norm ({@link #finalNorm}, replicated).
   * ZeRO sharding changes optimizer state, not this count.
   *
   * @param app the model; a Calculon model file without a moe key gets the execution's experts
   *            ({@link #withExperts}) when the execution is a MoE run
   * @param exe the execution: tensor_par, pipeline_par, expert_par, expert_slice are used
   * @param gatedExperts Calculon-MoE's activation_function silu (SwiGLU experts), for a model file without moe
   * @return parameters held by one GPU of the largest stage (elements, not bytes)
   */
  public static long perGpu(Application app, Execution exe, boolean gatedExperts) {
    Application m = exe.modelMoE() && app.architecture().moe() == null
        ? withExpertsApp(app, exe.numExperts(), exe.topKExperts(), gatedExperts) : app;
    Architecture a = m.architecture();
    Moe moe = a.moe();
    long tp = exe.tensorPar(), pp = exe.pipelinePar(), ep = exe.expertPar(), es = exe.expertSlice();
    long common = norms(m) + attention(m) / tp;
    long dense = common + mlp(m, m.feedforward()) / tp;
    long sparse = moe == null ? dense : common + m.hidden() * (long) moe.numExperts()
        + moe.sharedExperts() * mlp(m, moe.sharedFeedforward()) / tp
        + (moe.numExperts() / ep) * mlp(m, moe.expertFeedforward()) / es;
    long entries = a.modelsVocabulary() ? a.vocabSize() : Application.CALCULON_VOCAB_SIZE;
    long table = entries * m.hidden() / tp;
    long positions = a.learnedPositions() ? m.seqSize() * m.hidden() : 0;
    long largest = 0;
    for (long s = 0; s < pp; s++) {
      long stage = 0;
      for (long b = s * m.numBlocks() / pp; b < (s + 1) * m.numBlocks() / pp; b++) {
        stage += moe != null && moe.isMoeBlock(b) ? sparse : dense;
      }
      if (s == 0) {
        stage += table + positions;
      }
      if (s == pp - 1 && (!a.tiedEmbeddings() || pp > 1)) {
        stage += table;
      }
      if (s == pp - 1) {
        stage += finalNorm(m);
      }
      largest = Math.max(largest, stage);
    }
    return largest;
  }

  /** Attention projections of one block, with their biases when the model has biases. */
  static long attention(Application app) {
    Architecture a = app.architecture();
    long h = app.hidden(), heads = app.attnHeads(), d = app.attnSize();
    Mla mla = a.mla();
    if (mla != null) {
      long qk = mla.qkNopeHeadDim() + mla.qkRopeHeadDim();
      long perChannel = a.norm().paramsPerChannel;
      long q = mla.qLoraRank() > 0
          ? h * mla.qLoraRank() + mla.qLoraRank() * perChannel + mla.qLoraRank() * heads * qk
          : h * heads * qk;
      long kv = h * (mla.kvLoraRank() + mla.qkRopeHeadDim()) + mla.kvLoraRank() * perChannel
          + mla.kvLoraRank() * heads * (mla.qkNopeHeadDim() + mla.vHeadDim());
      long out = heads * mla.vHeadDim() * h;
      return q + kv + out;
    }
    long qWidth = heads * d, kvWidth = (long) a.numKvHeads() * d;
    long weights = h * qWidth + 2 * h * kvWidth + qWidth * h;
    long biases = a.linearBiases() ? qWidth + 2 * kvWidth + h : 0;
    return weights + biases;
  }

  /** The two normalisation layers of a block. */
  static long norms(Application app) {
    return 2L * app.architecture().norm().paramsPerChannel * app.hidden();
  }

  /** One MLP (or expert) of FFN width {@code ff}: two matrices, or three with a gate; biases when the model has them. */
  static long mlp(Application app, long ff) {
    Architecture a = app.architecture();
    long h = app.hidden();
    if (a.mlp().gated) {
      return 3 * h * ff + (a.linearBiases() ? 2 * ff + h : 0);
    }
    return 2 * h * ff + (a.linearBiases() ? ff + h : 0);
  }

  /**
   * The input embedding table: a token reads one row of it, so some publishers (DeepSeek, OpenAI)
   * leave it out of the active count while others (Mistral, Qwen) keep it.
   */
  public static long inputEmbedding(Application app) {
    Architecture a = app.architecture();
    return (a.modelsVocabulary() ? a.vocabSize() : Application.CALCULON_VOCAB_SIZE) * app.hidden();
  }

  /** Input embedding, the output projection unless tied, and learned positions. */
  static long embeddings(Application app) {
    Architecture a = app.architecture();
    long entries = a.modelsVocabulary() ? a.vocabSize() : Application.CALCULON_VOCAB_SIZE;
    long vocab = entries * app.hidden() * (a.tiedEmbeddings() ? 1 : 2);
    return vocab + (a.learnedPositions() ? app.seqSize() * app.hidden() : 0);
  }
}
