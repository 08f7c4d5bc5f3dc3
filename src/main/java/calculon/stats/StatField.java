package calculon.stats;

/** The 122 stats keys of Calculon-MoE, in its output order (reference llm.py:625-753). */
public enum StatField {
  BLOCK_FW_FLOPS("block_fw_flops"),
  BLOCK_FW_FLOPS_TIME("block_fw_flops_time"),
  BLOCK_FW_MEM_ACCESSED("block_fw_mem_accessed"),
  BLOCK_FW_MEM_TIME("block_fw_mem_time"),
  BLOCK_FW_TIME("block_fw_time"),
  BASEBLOCK_FW_TP_TIME("baseblock_fw_tp_time"),
  EDGEBLOCK_FW_TP_TIME("edgeblock_fw_tp_time"),
  BASEBLOCK_FW_TP_TIME_EXPOSED("baseblock_fw_tp_time_exposed"),
  EDGEBLOCK_FW_TP_TIME_EXPOSED("edgeblock_fw_tp_time_exposed"),
  BLOCK_RE_FLOPS("block_re_flops"),
  BLOCK_RE_FLOPS_TIME("block_re_flops_time"),
  BLOCK_RE_MEM_ACCESSED("block_re_mem_accessed"),
  BLOCK_RE_MEM_TIME("block_re_mem_time"),
  BLOCK_RE_TIME("block_re_time"),
  BASEBLOCK_TP_RECOMM_TIME("baseblock_tp_recomm_time"),
  EDGEBLOCK_TP_RECOMM_TIME("edgeblock_tp_recomm_time"),
  BASEBLOCK_TP_RECOMM_TIME_EXPOSED("baseblock_tp_recomm_time_exposed"),
  EDGEBLOCK_TP_RECOMM_TIME_EXPOSED("edgeblock_tp_recomm_time_exposed"),
  BLOCK_AGRAD_FLOPS("block_agrad_flops"),
  BLOCK_AGRAD_FLOPS_TIME("block_agrad_flops_time"),
  BLOCK_AGRAD_MEM_ACCESSED("block_agrad_mem_accessed"),
  BLOCK_AGRAD_MEM_TIME("block_agrad_mem_time"),
  BLOCK_AGRAD_TIME("block_agrad_time"),
  BASEBLOCK_AGRAD_TP_TIME("baseblock_agrad_tp_time"),
  EDGEBLOCK_AGRAD_TP_TIME("edgeblock_agrad_tp_time"),
  BASEBLOCK_AGRAD_TP_TIME_EXPOSED("baseblock_agrad_tp_time_exposed"),
  EDGEBLOCK_AGRAD_TP_TIME_EXPOSED("edgeblock_agrad_tp_time_exposed"),
  BLOCK_WGRAD_FLOPS("block_wgrad_flops"),
  BLOCK_WGRAD_FLOPS_TIME("block_wgrad_flops_time"),
  BLOCK_WGRAD_MEM_ACCESSED("block_wgrad_mem_accessed"),
  BLOCK_WGRAD_MEM_TIME("block_wgrad_mem_time"),
  BLOCK_WGRAD_TIME("block_wgrad_time"),
  BLOCK_OPTIM_FLOPS("block_optim_flops"),
  BLOCK_OPTIM_FLOPS_TIME("block_optim_flops_time"),
  BLOCK_OPTIM_MEM_ACCESSED("block_optim_mem_accessed"),
  BLOCK_OPTIM_MEM_TIME("block_optim_mem_time"),
  BLOCK_OPTIM_TIME("block_optim_time"),
  BASEBLOCK_FW_TP_SIZE("baseblock_fw_tp_size"),
  EDGEBLOCK_FW_TP_SIZE("edgeblock_fw_tp_size"),
  BASEBLOCK_FW_EP_SIZE("baseblock_fw_ep_size"),
  EDGEBLOCK_FW_EP_SIZE("edgeblock_fw_ep_size"),
  BASEBLOCK_FW_ES_SIZE("baseblock_fw_es_size"),
  EDGEBLOCK_FW_ES_SIZE("edgeblock_fw_es_size"),
  BASEBLOCK_BW_TP_SIZE("baseblock_bw_tp_size"),
  EDGEBLOCK_BW_TP_SIZE("edgeblock_bw_tp_size"),
  BASEBLOCK_BW_EP_SIZE("baseblock_bw_ep_size"),
  EDGEBLOCK_BW_EP_SIZE("edgeblock_bw_ep_size"),
  BASEBLOCK_BW_ES_SIZE("baseblock_bw_es_size"),
  EDGEBLOCK_BW_ES_SIZE("edgeblock_bw_es_size"),
  BASEBLOCK_TP_RECOMM_SIZE("baseblock_tp_recomm_size"),
  EDGEBLOCK_TP_RECOMM_SIZE("edgeblock_tp_recomm_size"),
  BASEBLOCK_ES_RECOMM_SIZE("baseblock_es_recomm_size"),
  EDGEBLOCK_ES_RECOMM_SIZE("edgeblock_es_recomm_size"),
  BASEBLOCK_EP_RECOMM_SIZE("baseblock_ep_recomm_size"),
  EDGEBLOCK_EP_RECOMM_SIZE("edgeblock_ep_recomm_size"),
  BLOCK_FW_PP_SIZE("block_fw_pp_size"),
  BLOCK_BW_PP_SIZE("block_bw_pp_size"),
  BLOCK_DP_SIZE("block_dp_size"),
  BLOCK_DP_EXP_SIZE("block_dp_exp_size"),
  TP_BW_OVERLAP_REQ("tp_bw_overlap_req"),
  DP_BW_OVERLAP_REQ_CHUNK("dp_bw_overlap_req_chunk"),
  DP_BW_OVERLAP_REQ_TAIL("dp_bw_overlap_req_tail"),
  BLOCK_WEIGHT_SPACE("block_weight_space"),
  BLOCK_ACT_WORKING_SPACE("block_act_working_space"),
  BLOCK_ACT_STORAGE_SPACE("block_act_storage_space"),
  BLOCK_ACT_CHECKPOINT_SIZE("block_act_checkpoint_size"),
  BLOCK_WEIGHT_GRAD_SPACE("block_weight_grad_space"),
  BLOCK_WEIGHT_GRAD_SPACE_NO_SHARDING("block_weight_grad_space_no_sharding"),
  BLOCK_ACT_GRAD_SPACE("block_act_grad_space"),
  BLOCK_OPTIMIZER_SPACE("block_optimizer_space"),
  WEIGHT_SPACE_WITH_OFFLOAD("weight_space_with_offload"),
  ACT_SPACE_WITH_OFFLOAD("act_space_with_offload"),
  ACT_CHECKPOINT_SIZE_WITH_OFFLOAD("act_checkpoint_size_with_offload"),
  ACT_GRAD_SPACE_WITH_OFFLOAD("act_grad_space_with_offload"),
  WEIGHT_GRAD_SPACE_WITH_OFFLOAD("weight_grad_space_with_offload"),
  OPTIMIZER_SPACE_WITH_OFFLOAD("optimizer_space_with_offload"),
  WEIGHT_SPACE("weight_space"),
  TOTAL_WEIGHTS_SPACE("total_weights_space"),
  ACT_SPACE("act_space"),
  ACT_CHECKPOINT_SIZE("act_checkpoint_size"),
  ACT_GRAD_SPACE("act_grad_space"),
  WEIGHT_GRAD_SPACE("weight_grad_space"),
  OPTIMIZER_SPACE("optimizer_space"),
  FW_TIME("fw_time"),
  BW_TIME("bw_time"),
  OPTIM_STEP_TIME("optim_step_time"),
  RECOMPUTE_TIME("recompute_time"),
  TP_RECOMM_LINK_TIME("tp_recomm_link_time"),
  TP_RECOMM_EXPOSED_TIME("tp_recomm_exposed_time"),
  EP_RECOMM_LINK_TIME("ep_recomm_link_time"),
  EP_RECOMM_EXPOSED_TIME("ep_recomm_exposed_time"),
  ES_RECOMM_LINK_TIME("es_recomm_link_time"),
  ES_RECOMM_EXPOSED_TIME("es_recomm_exposed_time"),
  RECOMM_LINK_TIME("recomm_link_time"),
  RECOMM_EXPOSED_TIME("recomm_exposed_time"),
  BUBBLE_TIME("bubble_time"),
  TP_COMM_LINK_TIME("tp_comm_link_time"),
  EP_COMM_LINK_TIME("ep_comm_link_time"),
  ES_COMM_LINK_TIME("es_comm_link_time"),
  PP_COMM_LINK_TIME("pp_comm_link_time"),
  DP_COMM_LINK_TIME("dp_comm_link_time"),
  DP_EXP_COMM_LINK_TIME("dp_exp_comm_link_time"),
  TP_COMM_EXPOSED_TIME("tp_comm_exposed_time"),
  EP_COMM_EXPOSED_TIME("ep_comm_exposed_time"),
  ES_COMM_EXPOSED_TIME("es_comm_exposed_time"),
  PP_COMM_EXPOSED_TIME("pp_comm_exposed_time"),
  DP_COMM_EXPOSED_TIME("dp_comm_exposed_time"),
  DP_EXP_COMM_EXPOSED_TIME("dp_exp_comm_exposed_time"),
  FW_OFFLOAD_EXPOSED_TIME("fw_offload_exposed_time"),
  BW_OFFLOAD_EXPOSED_TIME("bw_offload_exposed_time"),
  TOTAL_TIME("total_time"),
  ACT_OFFLOAD_BW_REQ("act_offload_bw_req"),
  WEIGHT_OFFLOAD_BW_REQ("weight_offload_bw_req"),
  OPTIM_OFFLOAD_BW_REQ("optim_offload_bw_req"),
  OFFLOAD_MEM_BW_REQ("offload_mem_bw_req"),
  PROC_MEM_TIER1_CAP_REQ("proc_mem_tier1_cap_req"),
  PROC_MEM_TIER2_CAP_REQ("proc_mem_tier2_cap_req"),
  USEFUL_FLOPS("useful_flops"),
  COMPUTE_EFFICIENCY("compute_efficiency"),
  SYSTEM_EFFICIENCY("system_efficiency"),
  TOTAL_EFFICIENCY("total_efficiency"),
  SAMPLE_RATE("sample_rate"),
  // ---- fields of the corrected model's mechanisms, written only when not zero ----
  /** Context parallelism's KV exchange, link time of a step (seconds; forward and backward). */
  CP_COMM_LINK_TIME("cp_comm_link_time", true),
  /** Context parallelism's KV exchange not hidden behind attention compute (seconds per step). */
  CP_COMM_EXPOSED_TIME("cp_comm_exposed_time", true),
  /** Expert all-to-all link time of a step on tier 0 (the part whose peers share the sender's tier-0 domain; seconds). */
  EP_A2A_TIER0_LINK_TIME("ep_a2a_tier0_link_time", true),
  /** Expert all-to-all link time of a step on the EP group's tier above tier 0 (seconds). */
  EP_A2A_UPPER_TIER_LINK_TIME("ep_a2a_upper_tier_link_time", true),
  /** Expert all-to-all time of a step hidden behind another microbatch's compute (seconds; the exposed part is ep_comm_exposed_time). */
  EP_COMM_OVERLAPPED_TIME("ep_comm_overlapped_time", true),
  /** Pipeline transfer time of a step hidden behind the other direction's compute (DualPipe; seconds). */
  PP_COMM_OVERLAPPED_TIME("pp_comm_overlapped_time", true),
  /**
   * PyTorch FSDP2's copies around its all-gathers and reduce-scatters on the compute stream
   * ({@code fsdp_impl: pytorch}; seconds per step, inside fw_time and bw_time).
   */
  FSDP_COPY_TIME("fsdp_copy_time", true);

  /** The key as the reference writes it. */
  public final String key;
  /**
   * A field the reference does not have: kept out of {@link #all()} (so the reference's 122
   * keys, in its order, stay what every output and comparison iterates) and written after them
   * only when not zero ({@link #extensions()}).
   */
  public final boolean extension;

  StatField(String key) { this(key, false); }

  StatField(String key, boolean extension) {
    this.key = key;
    this.extension = extension;
  }

  private static final StatField[] ALL = java.util.Arrays.stream(values()).filter(f -> !f.extension)
      .toArray(StatField[]::new);
  private static final StatField[] EXTENSIONS = java.util.Arrays.stream(values()).filter(f -> f.extension)
      .toArray(StatField[]::new);

  /** The reference's fields, in output order (a shared array: do not modify). */
  public static StatField[] all() { return ALL; }

  /** Fields beyond the reference's, written only when not zero (a shared array: do not modify). */
  public static StatField[] extensions() { return EXTENSIONS; }
}
