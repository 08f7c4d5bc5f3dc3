package calculon.config;

/**
 * Whose fully sharded data parallelism runs ZeRO stage 3 (execution key {@code fsdp_impl};
 * corrected model). Both gather each block's weights and reduce-scatter its gradients as
 * {@code zero_stage} 3 describes; they differ in the copies around the collectives, which
 * {@code calculon.schedule.DataParallelSync#fsdpCopies} charges.
 */
public enum FsdpImpl {
  /**
   * Megatron-FSDP (Megatron-Core {@code --use-megatron-fsdp},
   * megatron/core/distributed/fsdp/src/README.md: "Zero copy communication is achieved by
   * reorganizing the storage of parameters and main grad with {@code ParamAndGradBuffer}"): the
   * weights are gathered into, and the gradients reduced from, the buffers the parameters and
   * their gradients live in, so nothing is copied around a collective. The default: what the
   * model charged for {@code zero_stage} 3 before the key existed.
   */
  MEGATRON("megatron"),
  /**
   * PyTorch's FSDP2 ({@code fully_shard}; torch/distributed/fsdp/_fully_shard/_fsdp_collectives.py
   * and _fsdp_param_group.py, torch 2.6 to 2.8), what torchtitan runs: every all-gather is copied
   * out of its flat output into the parameters on the compute stream
   * ({@code foreach_all_gather_copy_out}, {@code split_with_sizes_copy}), and every
   * reduce-scatter's input is written from the gradients on the compute stream
   * ({@code foreach_reduce_scatter_copy_in}, {@code _chunk_cat}, casting to the reduce
   * datatype); with the reduction deferred (pipeline stages) the unsharded gradients are
   * accumulated in the reduce datatype every microbatch ({@code FSDPParam.to_accumulated_grad_if_needed},
   * {@code accumulate_unsharded_grad_if_needed}).
   */
  PYTORCH("pytorch");

  public final String jsonName;

  FsdpImpl(String jsonName) { this.jsonName = jsonName; }
}
