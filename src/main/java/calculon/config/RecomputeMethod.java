package calculon.config;

/**
 * How full activation recompute ({@code activation_recompute: full}) divides a pipeline chunk's
 * blocks: Megatron-Core's {@code --recompute-method} (megatron/training/arguments.py;
 * {@code checkpointed_forward} in megatron/core/recompute.py, called by
 * {@code TransformerBlock._checkpointed_forward}), with {@code --recompute-num-layers} N
 * (execution key {@code recompute_num_layers}). The chunk is one pipeline stage's virtual stage
 * (Megatron's {@code TransformerBlock} holds one, {@code num_layers_per_pipeline_rank = len(self.layers)}).
 */
public enum RecomputeMethod {
  /**
   * Checkpoints the input of every group of N consecutive blocks of the chunk (the last group
   * may be shorter) and recomputes the group whole in the backward pass; N = 1 is
   * {@code activation_recompute: full} as Calculon models it.
   */
  UNIFORM("uniform"),
  /**
   * Checkpoints the input of each of the chunk's first N blocks and recomputes each alone in the
   * backward pass; the chunk's other blocks run without recompute and keep all their activations.
   */
  BLOCK("block");

  public final String jsonName;

  RecomputeMethod(String jsonName) { this.jsonName = jsonName; }
}
