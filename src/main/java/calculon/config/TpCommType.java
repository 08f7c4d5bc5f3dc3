package calculon.config;

/** How tensor-parallel activations are communicated: all-reduce, p2p with RS/AG at the edges, or RS/AG (sequence parallel). */
public enum TpCommType {
  AR("ar"), P2P_RS_AG("p2p_rs_ag"), RS_AG("rs_ag");

  public final String jsonName;

  TpCommType(String jsonName) { this.jsonName = jsonName; }

  /**
   * Whether a block's TP collectives are reduce-scatter/all-gather (split) rather than all-reduce:
   * always with rs_ag, with p2p_rs_ag only in the edge blocks (Calculon's TP comm layers, spec
   * "split = type=='rs_ag' or (type=='p2p_rs_ag' and edge block)").
   *
   * @param baseBlock the block is a base (not an edge) block of its pipeline stage
   */
  public boolean split(boolean baseBlock) {
    return this == RS_AG || (this == P2P_RS_AG && !baseBlock);
  }
}
