package calculon.config;

/**
 * How context-parallel ranks obtain the keys and values of the sequence parts they do not hold.
 * {@code p2p}: ring attention, KV blocks passed around the CP ring, each transfer overlapped with
 * the attention of the block already received (Liu et al. 2023, arXiv 2310.01889; Megatron-Core
 * {@code cp_comm_type="p2p"}). {@code a2a}: DeepSpeed-Ulysses, all-to-alls that trade the
 * sequence split for a head split around the attention core (Jacobs et al. 2023,
 * arXiv 2309.14509; Megatron-Core {@code cp_comm_type="a2a"}).
 */
public enum CpCommType {
  P2P("p2p"), A2A("a2a");

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
