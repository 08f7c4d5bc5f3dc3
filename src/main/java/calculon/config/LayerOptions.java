package calculon.config;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * How the layers of a block run, beyond Calculon's execution keys: optional execution keys
 * {@code flash_attention}, {@code recompute_modules} and {@code attention_kernel} (docs/reference.md).
 *
 * @param flashAttention   a fused attention kernel (FlashAttention-2, arXiv 2307.08691) that stores
 *                         no score matrix; null when the file does not say, which means the model
 *                         version's default (on in the corrected model, off in calculon-moe)
 * @param recomputeModules submodules recomputed in the backward pass besides what
 *                         {@code activation_recompute} says; empty when absent
 * @param attentionKernel  which of the system's {@code attention_kernels} the fused attention runs
 *                         (e.g. {@code cudnn}, {@code flash2}, {@code flash3}); null when the file
 *                         does not say, which means the system's default kernel
 * @param repeatKv         the keys and values are repeated to every query head before the
 *                         attention kernel (key {@code repeat_kv}; torchtitan's Llama and Hugging
 *                         Face's eager attention call {@code repeat_kv} before
 *                         {@code scaled_dot_product_attention}), so the kernel stores, and context
 *                         parallelism exchanges, the query heads' count of keys and values; false
 *                         when absent (the grouped-query kernels of Transformer Engine)
 * @param eagerElementwise the element-wise layers run as PyTorch eager tensor ops, one kernel per
 *                         op (key {@code elementwise_kernels: eager}); false ({@code fused}, the
 *                         default): one kernel per layer, as Transformer Engine and torch.compile run them
 * @param givenLossKernel  how the logits' cross-entropy runs (key {@code loss_kernel}); null when
 *                         the file does not say, which means {@link #lossKernel()}'s default
 * @param givenContextParImpl which framework's context-parallel attention runs (key
 *                         {@code context_par_impl}); null when the file does not say, which means
 *                         {@link #contextParImpl()}'s default
 * @param givenFsdpImpl    whose FSDP runs ZeRO stage 3 (key {@code fsdp_impl}); null when the file
 *                         does not say, which means {@link #fsdpImpl()}'s default
 * @param givenRecomputeMethod how full recompute divides a pipeline chunk's blocks (key
 *                         {@code recompute_method}, Megatron-Core's {@code --recompute-method});
 *                         null when the file does not say, which means {@link RecomputeMethod#UNIFORM}
 * @param givenRecomputeNumLayers N of {@code recompute_num_layers} (Megatron-Core's
 *                         {@code --recompute-num-layers}), 1 or more; 0 when the file does not say,
 *                         which means 1
 * @param givenOptimizerKernel how the optimizer step and its gradient clipping run (key
 *                         {@code optimizer_kernel}); null when the file does not say, which means
 *                         {@link #optimizerKernel()}'s default
 */
public record LayerOptions(Boolean flashAttention, Set<RecomputeModule> recomputeModules, String attentionKernel,
                           boolean repeatKv, boolean eagerElementwise, LossKernel givenLossKernel,
                           ContextParallelImpl givenContextParImpl, FsdpImpl givenFsdpImpl,
                           RecomputeMethod givenRecomputeMethod, int givenRecomputeNumLayers,
                           OptimizerKernel givenOptimizerKernel) {

  /** Without {@code optimizer_kernel}: its default. */
  public LayerOptions(Boolean flashAttention, Set<RecomputeModule> recomputeModules, String attentionKernel,
                      boolean repeatKv, boolean eagerElementwise, LossKernel givenLossKernel,
                      ContextParallelImpl givenContextParImpl, FsdpImpl givenFsdpImpl,
                      RecomputeMethod givenRecomputeMethod, int givenRecomputeNumLayers) {
    this(flashAttention, recomputeModules, attentionKernel, repeatKv, eagerElementwise, givenLossKernel,
        givenContextParImpl, givenFsdpImpl, givenRecomputeMethod, givenRecomputeNumLayers, null);
  }

  /** Without {@code recompute_method} and {@code recompute_num_layers}: full recompute of every block alone. */
  public LayerOptions(Boolean flashAttention, Set<RecomputeModule> recomputeModules, String attentionKernel,
                      boolean repeatKv, boolean eagerElementwise, LossKernel givenLossKernel,
                      ContextParallelImpl givenContextParImpl, FsdpImpl givenFsdpImpl) {
    this(flashAttention, recomputeModules, attentionKernel, repeatKv, eagerElementwise, givenLossKernel,
        givenContextParImpl, givenFsdpImpl, null, 0);
  }

  /** Without {@code fsdp_impl}: its default. */
  public LayerOptions(Boolean flashAttention, Set<RecomputeModule> recomputeModules, String attentionKernel,
                      boolean repeatKv, boolean eagerElementwise, LossKernel givenLossKernel,
                      ContextParallelImpl givenContextParImpl) {
    this(flashAttention, recomputeModules, attentionKernel, repeatKv, eagerElementwise, givenLossKernel,
        givenContextParImpl, null);
  }

  /** Without {@code context_par_impl}: its default. */
  public LayerOptions(Boolean flashAttention, Set<RecomputeModule> recomputeModules, String attentionKernel,
                      boolean repeatKv, boolean eagerElementwise, LossKernel givenLossKernel) {
    this(flashAttention, recomputeModules, attentionKernel, repeatKv, eagerElementwise, givenLossKernel, null);
  }

  /** Without {@code loss_kernel}: its default. */
  public LayerOptions(Boolean flashAttention, Set<RecomputeModule> recomputeModules, String attentionKernel,
                      boolean repeatKv, boolean eagerElementwise) {
    this(flashAttention, recomputeModules, attentionKernel, repeatKv, eagerElementwise, null);
  }

  /** Without {@code repeat_kv}, fused element-wise kernels. */
  public LayerOptions(Boolean flashAttention, Set<RecomputeModule> recomputeModules, String attentionKernel) {
    this(flashAttention, recomputeModules, attentionKernel, false, false);
  }

  /** Nothing said: the model version's defaults. */
  public static final LayerOptions DEFAULTS = new LayerOptions(null, Set.of(), null);

  /** The optional execution keys. */
  public static final String[] KEYS = {"flash_attention", "recompute_modules", "attention_kernel", "repeat_kv",
      "elementwise_kernels", "loss_kernel", "context_par_impl", "fsdp_impl", "recompute_method",
      "recompute_num_layers", "optimizer_kernel"};

  public LayerOptions {
    recomputeModules = recomputeModules.isEmpty() ? Set.of()
        : Collections.unmodifiableSet(EnumSet.copyOf(recomputeModules));
  }

  /**
   * The loss kernel the run uses: the file's {@code loss_kernel}, else {@code eager} when the
   * element-wise layers are (torchtitan's eager {@code cross_entropy(pred.float())}), else
   * {@code fused} (Calculon's softmax costing).
   */
  public LossKernel lossKernel() {
    if (givenLossKernel != null) {
      return givenLossKernel;
    }
    return eagerElementwise ? LossKernel.EAGER : LossKernel.FUSED;
  }

  /**
   * The context-parallel attention the run uses: the file's {@code context_par_impl}, else
   * Transformer Engine's (Megatron-Core's).
   */
  public ContextParallelImpl contextParImpl() {
    return givenContextParImpl != null ? givenContextParImpl : ContextParallelImpl.TRANSFORMER_ENGINE;
  }

  /**
   * Whose FSDP runs ZeRO stage 3: the file's {@code fsdp_impl}, else Megatron-FSDP's, which copies
   * nothing around its collectives (what the model charged before the key).
   */
  public FsdpImpl fsdpImpl() {
    return givenFsdpImpl != null ? givenFsdpImpl : FsdpImpl.MEGATRON;
  }

  /**
   * How the optimizer step and its gradient clipping run: the file's {@code optimizer_kernel},
   * else Calculon's count ({@link OptimizerKernel#CALCULON}: the optimizer state read once, what
   * the model charged before the key).
   */
  public OptimizerKernel optimizerKernel() {
    return givenOptimizerKernel != null ? givenOptimizerKernel : OptimizerKernel.CALCULON;
  }

  /** A copy with {@code flash_attention} set (null: the version's default). */
  public LayerOptions withFlashAttention(Boolean on) {
    return new LayerOptions(on, recomputeModules, attentionKernel, repeatKv, eagerElementwise, givenLossKernel,
        givenContextParImpl, givenFsdpImpl, givenRecomputeMethod, givenRecomputeNumLayers, givenOptimizerKernel);
  }

  /** A copy without recomputed modules (an execution with full recompute). */
  public LayerOptions withoutRecomputeModules() {
    return new LayerOptions(flashAttention, Set.of(), attentionKernel, repeatKv, eagerElementwise, givenLossKernel,
        givenContextParImpl, givenFsdpImpl, givenRecomputeMethod, givenRecomputeNumLayers, givenOptimizerKernel);
  }

  /**
   * A copy without {@code recompute_method} and {@code recompute_num_layers} (an execution without
   * full recompute, where they do not apply; a block a partial recompute runs without recompute).
   */
  public LayerOptions withoutRecomputeMethod() {
    return givenRecomputeMethod == null && givenRecomputeNumLayers == 0 ? this
        : new LayerOptions(flashAttention, recomputeModules, attentionKernel, repeatKv, eagerElementwise,
            givenLossKernel, givenContextParImpl, givenFsdpImpl, null, 0, givenOptimizerKernel);
  }

  /** How full recompute divides a chunk's blocks: the file's {@code recompute_method}, else uniform. */
  public RecomputeMethod recomputeMethod() {
    return givenRecomputeMethod != null ? givenRecomputeMethod : RecomputeMethod.UNIFORM;
  }

  /** N of {@code recompute_num_layers}: the file's, else 1. */
  public int recomputeNumLayers() {
    return givenRecomputeNumLayers > 0 ? givenRecomputeNumLayers : 1;
  }

  /**
   * Whether full recompute is anything but Calculon's one checkpoint per block, every block
   * recomputed: {@code block} (some blocks run without recompute) or {@code uniform} with N &gt; 1
   * (a checkpoint per group of blocks). With {@code activation_recompute: full} only.
   */
  public boolean partialRecompute() {
    return recomputeMethod() == RecomputeMethod.BLOCK || recomputeNumLayers() > 1;
  }
}
