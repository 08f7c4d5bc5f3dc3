package calculon.config;

/**
 * A submodule whose activations selective recompute discards and recomputes in the backward pass:
 * the choices of Megatron-Core's {@code --recompute-modules} ({@code TransformerConfig.recompute_modules},
 * megatron/core/transformer/transformer_config.py). Each keeps its input checkpoint.
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
  MLA_UP_PROJ("mla_up_proj");

  public final String jsonName;

  RecomputeModule(String jsonName) { this.jsonName = jsonName; }

  /** @return the module with this JSON name, or null */
  public static RecomputeModule fromJson(String name) {
    for (RecomputeModule m : values()) { if (m.jsonName.equals(name)) { return m; } }
    return null;
  }
}
