package calculon.config;

/**
 * Which framework's context-parallel attention runs (execution key {@code context_par_impl};
 * corrected model). Both split the attention into one kernel call per CP step and do
 * element-wise work between the calls (merging the partial outputs forward, accumulating the
 * gradients backward); what that work reads and writes differs, and
 * {@link calculon.model.ContextParallelMerge} counts it, with its sources.
 */
public enum ContextParallelImpl {
  /**
   * Transformer Engine's {@code AttnFuncWithCPAndKVP2P}, {@code AttnFuncWithCPAndKVAllGather}
   * and {@code AttnFuncWithCPAndQKVOA2A} (transformer_engine/pytorch/attention.py), what
   * Megatron-Core and NeMo run: the partial outputs are corrected in the activation datatype by
   * TorchScript-fused kernels, the gradients accumulated in it.
   */
  TRANSFORMER_ENGINE("transformer_engine"),
  /**
   * PyTorch's {@code context_parallel} (torch/distributed/tensor/experimental/_attention.py,
   * torch 2.6: {@code _templated_ring_attention}, {@code _SDPAMerger},
   * {@code _templated_ring_attention_backward}), what torchtitan runs: the merge and the gradient
   * accumulation in fp32 ({@code _cp_options.convert_to_f32}), for both of its rotate methods
   * ({@code allgather}: {@code context_par_comm_type} {@code all_gather}; {@code alltoall}, a ring
   * of point-to-point permutes: {@code p2p}). It has no Ulysses all-to-all.
   */
  PYTORCH("pytorch");

  public final String jsonName;

  ContextParallelImpl(String jsonName) { this.jsonName = jsonName; }
}
