package calculon.config;

/**
 * A submodule whose activations selective recompute discards and recomputes in the backward pass:
 * the choices of Megatron-Core's {@code --recompute-modules} ({@code TransformerConfig.recompute_modules},
 * megatron/core/transformer/transformer_config.py). Each keeps its input checkpoint. One entry,
 * {@link #OP_SAC}, is TorchTitan's per-op policy rather than a Megatron module.
 */
public enum RecomputeModule {
  /** Core attention (scores, softmax, dropout, context); {@code activation_recompute: attn_only} means this. */
  CORE_ATTN("core_attn"),
  /** The two pre-norms ({@code input_layernorm}, {@code pre_mlp_layernorm}): outputs discarded, recomputed. */
  LAYERNORM("layernorm"),
  /** The dense MLP: only its input is kept. */
  MLP("mlp"),
  /** The routed experts' activation function: its output (the second expert GEMM's input) is discarded. */
  MOE_ACT("moe_act"),
  /** The whole MoE layer (router, dispatch, experts, combine): only its input is kept. */
  MOE("moe"),
  /** The shared experts of a MoE layer: only their input is kept. */
  SHARED_EXPERTS("shared_experts"),
  /** Multi-head latent attention's up-projections: their outputs (the heads' queries, keys, values) are discarded. */
  MLA_UP_PROJ("mla_up_proj"),
  /**
   * TorchTitan's per-op selective activation checkpointing ({@code [activation_checkpoint] mode =
   * "selective"}, {@code selective_ac_option = "op"}; {@code _custom_policy} and {@code _save_list}
   * in torchtitan's llama3 {@code parallelize.py}): a block keeps its input, the outputs of its
   * 1st, 3rd, 5th ... matmul (wq, wv, w1, w2 of a Llama block), the attention kernel's output and
   * statistics and the tensor-parallel reduce-scatters' outputs; everything else (the norms, wk,
   * wo, w3, the rotary embedding, the activation function, the all-gathers) runs again in the
   * backward pass. Dense blocks with a fused attention kernel only.
   */
  OP_SAC("op_sac");

  public final String jsonName;

  RecomputeModule(String jsonName) { this.jsonName = jsonName; }
}
