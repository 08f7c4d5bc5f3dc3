package calculon.config;

/**
 * The parallel dimensions of an execution as data: each has a degree, the network tier its group
 * communicates over, what it splits, and whether it spans the dense side of a block (attention,
 * dense MLPs), the expert side (routed experts), or both. Megatron-Core builds its process groups
 * the same way from one rank order (tp-cp-ep-dp-pp, {@code parallel_state.RankGenerator}); code
 * that treats every group alike iterates {@link #values()} instead of naming them one by one.
 */
public enum ParallelDim {
  /** Tensor parallel: the hidden dimension of weights and activations (Megatron column/row splits). */
  TP("weights and activations along the hidden dimension", true, false) {
    @Override public int degree(Execution e) { return e.tensorPar(); }
    @Override public int tier(Execution e) { return e.tensorParNet(); }
  },
  /** Context parallel: the sequence (corrected model). */
  CP("every activation along the sequence", true, false) {
    @Override public int degree(Execution e) { return e.contextPar(); }
    @Override public int tier(Execution e) { return e.contextParNet(); }
  },
  /** Pipeline parallel: the blocks, in consecutive stages. */
  PP("blocks, in consecutive stages", true, true) {
    @Override public int degree(Execution e) { return e.pipelinePar(); }
    @Override public int tier(Execution e) { return e.pipelineParNet(); }
  },
  /** Data parallel over the dense weights: the batch (and, under ZeRO, the training state). */
  DP("the batch; the dense weights' training state under ZeRO", true, false) {
    @Override public int degree(Execution e) { return e.dataPar(); }
    @Override public int tier(Execution e) { return e.dataParNet(); }
  },
  /** Expert parallel: the routed experts. */
  EP("the routed experts", false, true) {
    @Override public int degree(Execution e) { return e.expertPar(); }
    @Override public int tier(Execution e) { return e.expertParNet(); }
  },
  /** Expert slicing (expert tensor parallel): each expert's weights. */
  ES("each expert's weights (expert tensor parallel)", false, true) {
    @Override public int degree(Execution e) { return e.expertSlice(); }
    @Override public int tier(Execution e) { return e.expertSliceNet(); }
  },
  /** Data parallel over the experts' replicas. */
  DP_EXP("the batch, for the routed experts; their training state under ZeRO", false, true) {
    @Override public int degree(Execution e) { return e.dataParExp(); }
    @Override public int tier(Execution e) { return e.dataParExpNet(); }
  };

  /** What this dimension splits across its ranks. */
  public final String splits;
  /** Whether the group spans the dense side of a block (attention, dense MLP). */
  public final boolean denseSide;
  /** Whether the group spans the routed experts of a MoE block. */
  public final boolean expertSide;

  ParallelDim(String splits, boolean denseSide, boolean expertSide) {
    this.splits = splits;
    this.denseSide = denseSide;
    this.expertSide = expertSide;
  }

  /** Ranks in one group of this dimension. */
  public abstract int degree(Execution e);

  /** Index of the network tier the group communicates over. */
  public abstract int tier(Execution e);

  /**
   * The execution-file key of this dimension's degree ({@code tensor_par}, ...); its tier's key
   * adds {@code _net}.
   */
  public String executionKey() {
    return switch (this) {
      case TP -> "tensor_par";
      case CP -> "context_par";
      case PP -> "pipeline_par";
      case DP -> "data_par";
      case EP -> "expert_par";
      case ES -> "expert_slice";
      case DP_EXP -> "data_par_exp";
    };
  }

  private static final ParallelDim[] ALL = values();

  /** All dimensions, shared (do not modify). */
  public static ParallelDim[] all() { return ALL; }
}
