package calculon.config;

/**
 * How context-parallel ranks obtain the keys and values of the sequence parts they do not hold.
 * {@code p2p}: ring attention, KV blocks passed around the CP ring, each transfer overlapped with
 * the attention of the block already received (Liu et al. 2023, arXiv 2310.01889; Megatron-Core
 * {@code cp_comm_type="p2p"}). {@code a2a}: DeepSpeed-Ulysses, all-to-alls that trade the
 * sequence split for a head split around the attention core (Jacobs et al. 2023,
 * arXiv 2309.14509; Megatron-Core {@code cp_comm_type="a2a"}; PyTorch's context_parallel has none, so the
 * reader refuses it with {@code context_par_impl: pytorch}). {@code all_gather}: every rank
 * all-gathers the whole sequence's keys and values, then attends its own queries to them (the
 * Llama 3 paper, arXiv 2407.21783, Section 3.3.2; Megatron-Core {@code cp_comm_type="all_gather"};
 * PyTorch's {@code _AllGatherRotater}, torchtitan's default {@code context_parallel_rotate_method}).
 */
public enum CpCommType {
  P2P("p2p"), A2A("a2a"), ALL_GATHER("all_gather");

  public final String jsonName;

  CpCommType(String jsonName) { this.jsonName = jsonName; }

  public static CpCommType fromJson(String name) {
    for (CpCommType r : values()) {
      if (r.jsonName.equals(name)) {
        return r;
      }
    }
    return null;
  }
}
