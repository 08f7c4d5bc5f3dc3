package calculon.config;

/**
 * Overlap of tensor-parallel communication with the neighbouring matrix multiply: none, Calculon's
 * tiled {@code ring} and {@code pipe}, and PyTorch's async TP ({@code async_tp}, corrected model).
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
  ASYNC_TP("async_tp");

  public final String jsonName;

  TpOverlap(String jsonName) { this.jsonName = jsonName; }

  public static TpOverlap fromJson(String name) {
    for (TpOverlap r : values()) { if (r.jsonName.equals(name)) { return r; } }
    return null;
  }
}
