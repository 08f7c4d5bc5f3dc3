package calculon.stats;

/** Per-layer stats keys, in the reference order (layers.py:62-118). */
public enum LayerField {
  NAME("name"),
  INPUTS_SIZE("inputs_size"),
  OUTPUTS_SIZE("outputs_size"),
  FW_FLOPS("fw_flops"),
  FW_MEM_ACCESSED("fw_mem_accessed"),
  FW_ARITHMETIC_INTENSITY("fw_arithmetic_intensity"),
  FW_PROCESSING_TIME("fw_processing_time"),
  BASEBLOCK_FW_TP_COMM_TILE("baseblock_fw_tp_comm_tile"),
  EDGEBLOCK_FW_TP_COMM_TILE("edgeblock_fw_tp_comm_tile"),
  BASEBLOCK_FW_TP_COMM_SIZE("baseblock_fw_tp_comm_size"),
  EDGEBLOCK_FW_TP_COMM_SIZE("edgeblock_fw_tp_comm_size"),
  BASEBLOCK_FW_TP_COMM_TIME("baseblock_fw_tp_comm_time"),
  EDGEBLOCK_FW_TP_COMM_TIME("edgeblock_fw_tp_comm_time"),
  BASEBLOCK_FW_TP_COMM_TIME_EXPOSED("baseblock_fw_tp_comm_time_exposed"),
  EDGEBLOCK_FW_TP_COMM_TIME_EXPOSED("edgeblock_fw_tp_comm_time_exposed"),
  AGRAD_FLOPS("agrad_flops"),
  AGRAD_MEM_ACCESSED("agrad_mem_accessed"),
  AGRAD_ARITHMETIC_INTENSITY("agrad_arithmetic_intensity"),
  AGRAD_PROCESSING_TIME("agrad_processing_time"),
  BASEBLOCK_BW_TP_COMM_TILE("baseblock_bw_tp_comm_tile"),
  EDGEBLOCK_BW_TP_COMM_TILE("edgeblock_bw_tp_comm_tile"),
  BASEBLOCK_BW_TP_COMM_SIZE("baseblock_bw_tp_comm_size"),
  EDGEBLOCK_BW_TP_COMM_SIZE("edgeblock_bw_tp_comm_size"),
  BASEBLOCK_BW_TP_COMM_TIME("baseblock_bw_tp_comm_time"),
  EDGEBLOCK_BW_TP_COMM_TIME("edgeblock_bw_tp_comm_time"),
  BASEBLOCK_BW_TP_COMM_TIME_EXPOSED("baseblock_bw_tp_comm_time_exposed"),
  EDGEBLOCK_BW_TP_COMM_TIME_EXPOSED("edgeblock_bw_tp_comm_time_exposed"),
  WGRAD_FLOPS("wgrad_flops"),
  WGRAD_MEM_ACCESSED("wgrad_mem_accessed"),
  WGRAD_ARITHMETIC_INTENSITY("wgrad_arithmetic_intensity"),
  WGRAD_PROCESSING_TIME("wgrad_processing_time"),
  BASEBLOCK_RECOMM_TILE("baseblock_recomm_tile"),
  EDGEBLOCK_RECOMM_TILE("edgeblock_recomm_tile"),
  BASEBLOCK_RECOMM_SIZE("baseblock_recomm_size"),
  EDGEBLOCK_RECOMM_SIZE("edgeblock_recomm_size"),
  BASEBLOCK_RECOMM_TIME("baseblock_recomm_time"),
  EDGEBLOCK_RECOMM_TIME("edgeblock_recomm_time"),
  BASEBLOCK_RECOMM_TIME_EXPOSED("baseblock_recomm_time_exposed"),
  EDGEBLOCK_RECOMM_TIME_EXPOSED("edgeblock_recomm_time_exposed"),
  OPTIM_FLOPS("optim_flops"),
  OPTIM_MEM_ACCESSED("optim_mem_accessed"),
  OPTIM_ARITHMETIC_INTENSITY("optim_arithmetic_intensity"),
  OPTIM_PROCESSING_TIME("optim_processing_time"),
  WEIGHT("weight"),
  ACTIVATION("activation"),
  WEIGHT_GRAD("weight_grad"),
  ACTIVATION_GRAD("activation_grad"),
  OPTIMIZER("optimizer");

  /** The key as the reference writes it. */
  public final String key;

  LayerField(String key) { this.key = key; }

  private static final LayerField[] ALL = values();

  /** All fields, in output order (a shared array: do not modify). */
  public static LayerField[] all() { return ALL; }
}
