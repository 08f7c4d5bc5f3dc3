package calculon.config;

/**
 * Overlap of tensor-parallel communication with the neighbouring matrix multiply: none, Calculon's
 * tiled {@code ring} and {@code pipe}, PyTorch's async TP ({@code async_tp}, corrected model),
 * Megatron-Core's backward overlap without userbuffers ({@code backward}, corrected model) and
 * Transformer Engine's userbuffers overlap ({@code userbuffers}, corrected model).
 */
public enum TpOverlap {
  NONE("none"), RING("ring"), PIPE("pipe"),
  /**
   * PyTorch's async tensor parallelism (torchtitan {@code enable_async_tensor_parallel}; the
   * inductor pass {@code torch/_inductor/fx_passes/micro_pipeline_tp.py}): an all-gather feeding
   * matmuls and a reduce-scatter fed by one matmul are decomposed into TP chunks and overlapped as
   * in {@link #RING}. The backward reduce-scatter of a column-parallel layer's input gradient is fed
   * by the sum of several matmuls (wq, wk, wv; w1, w3), which the pass does not fuse
   * ({@code fuse_matmul_reduce_scatter} needs a single producer matmul, {@code _find_producer_matmul}):
   * it stays exposed.
   */
  ASYNC_TP("async_tp"),
  /**
   * Megatron-Core's column-parallel linear without {@code --tp-comm-overlap}
   * ({@code LinearWithGradAccumulationAndAsyncCommunication} in
   * {@code megatron/core/tensor_parallel/layers.py}; Megatron-Core API guide, "tensor_parallel"):
   * the forward collectives and the row-parallel layer's backward all-gather run alone, as with
   * {@link #NONE}, but in the backward pass the re-all-gather of a sequence-parallel input runs
   * while the input-gradient matmul computes, and the input gradient's reduce-scatter (all-reduce
   * without SP) while the weight-gradient matmul computes (CUDA_DEVICE_MAX_CONNECTIONS=1 orders the
   * launches). Each is exposed only beyond the matmuls it overlaps.
   */
  BACKWARD("backward"),
  /**
   * Transformer Engine's userbuffers overlap as Megatron-Core's {@code --tp-comm-overlap} and
   * NeMo's {@code tp_comm_overlap} run it with TE's default configuration ({@code initialize_ub},
   * {@code transformer_engine/pytorch/module/base.py}): {@code ring_exchange} (TP chunks through
   * the copy engines) for the all-gathers feeding the QKV and FC1 matmuls and the gradient
   * all-gathers feeding the projection's and FC2's input-gradient matmuls, as {@link #RING};
   * {@code pipeline} (4 splits, 16 SMs for the communication, the GEMM launched with that SM
   * margin) for the reduce-scatter after the projection and FC2; {@code bulk} (16 SMs, SM margin)
   * for a column-parallel layer's input-gradient reduce-scatter beside its weight-gradient matmul
   * and its input's re-all-gather beside its input-gradient matmul.
   */
  USERBUFFERS("userbuffers");

  /**
   * SMs Transformer Engine's {@code pipeline} and {@code bulk} userbuffers overlaps give their
   * communication by default ({@code num_sm = 16}, {@code initialize_ub} in
   * {@code transformer_engine/pytorch/module/base.py}).
   */
  public static final int USERBUFFERS_COMM_SMS = 16;

  /** Whether the TP collectives are separate layers (no tiled or decomposed matmul). */
  public boolean separateCollectives() { return this == NONE || this == BACKWARD; }

  /** Whether only the corrected model has this mode (Calculon-MoE has none, ring and pipe). */
  public boolean correctedOnly() { return this == ASYNC_TP || this == BACKWARD || this == USERBUFFERS; }

  /**
   * Whether the mode stores only the 1/TP shard of a sequence-parallel input and gathers it again
   * in the backward pass whatever {@code seq_par_ag_redo} says (corrected model): Megatron-Core's
   * {@code LinearWithGradAccumulationAndAsyncCommunication} ({@code backward}) and Transformer
   * Engine's {@code LayerNormLinear} ({@code userbuffers}); see
   * {@code calculon.model.BlockBuilder#redoesSequenceParallelGather}.
   */
  public boolean alwaysRegathersSequenceParallelInput() { return this == BACKWARD || this == USERBUFFERS; }

  public final String jsonName;

  TpOverlap(String jsonName) { this.jsonName = jsonName; }

  public static TpOverlap fromJson(String name) {
    for (TpOverlap r : values()) { if (r.jsonName.equals(name)) { return r; } }
    return null;
  }
}
