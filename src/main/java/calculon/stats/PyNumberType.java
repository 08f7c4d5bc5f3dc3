package calculon.stats;

import calculon.config.Datatype;
import calculon.config.Execution;
import calculon.config.TpCommType;
import calculon.config.TpOverlap;
import java.util.EnumSet;
import java.util.Set;

/**
 * Whether the reference (Calculon-MoE, Python) holds a stats value as an {@code int} or a
 * {@code float}, so that a stats file is written as it writes it ({@code 5992816640}, not
 * {@code 5992816640.0}). Python keeps an int while only ints are added and multiplied; a true
 * division ({@code /}), an efficiency or a time makes a float. From the reference source
 * (calculon/llm/llm.py, layers.py at e3eb609) and checked against its 994 accepted golden cases:
 *
 * <ul>
 *   <li>{@link #BYTES}: element counts times the datatype's bytes, summed (layers.py:248-268,
 *       the {@code *_size} of the comm layers): ints, except under float4 (0.5 bytes per element,
 *       system.py:25-31) where they are floats;
 *   <li>{@link #COUNTS}: integer counts whatever the datatype (recompute flops are summed layer
 *       flops; wgrad flops are 2·m·n·k products; the unsharded gradient space is elements times
 *       an integer factor);
 *   <li>{@link #NEVER_ASSIGNED}: left at their literal {@code 0} (spec quirks: EP recompute
 *       communication and DP_exp exposure are never computed);
 *   <li>{@link #ACTIVATIONS}: activation spaces are ints unless a layer divides them: the
 *       sequence-parallel TP communication layer ({@code activation * bytes / num_peers},
 *       layers.py:909-911, used with rs_ag and no TP overlap) and the MoE layers;
 *   <li>{@link #COMPUTED_ZERO}: times and rates that are computed (a float) even when zero;
 *   <li>every other value is a float, except a zero, which is the literal {@code 0} the
 *       reference starts each sum from when nothing is added (recompute, offload, unused groups).
 * </ul>
 *
 * The few keys whose type depends on code paths not named here (block_fw_flops, block_agrad_flops,
 * useful_flops, the memory requirements, some recompute times that are computed as 0.0) are
 * written as floats unless zero; GoldenStatsTextTest counts what still differs from the
 * reference's text.
 */
public final class PyNumberType {
  private PyNumberType() {}

  static final Set<StatField> BYTES = EnumSet.of(
      StatField.BLOCK_FW_MEM_ACCESSED, StatField.BLOCK_RE_MEM_ACCESSED, StatField.BLOCK_AGRAD_MEM_ACCESSED,
      StatField.BLOCK_WGRAD_MEM_ACCESSED,
      StatField.BASEBLOCK_FW_TP_SIZE, StatField.EDGEBLOCK_FW_TP_SIZE, StatField.BASEBLOCK_FW_EP_SIZE,
      StatField.EDGEBLOCK_FW_EP_SIZE, StatField.BASEBLOCK_FW_ES_SIZE, StatField.EDGEBLOCK_FW_ES_SIZE,
      StatField.BASEBLOCK_BW_TP_SIZE, StatField.EDGEBLOCK_BW_TP_SIZE, StatField.BASEBLOCK_BW_EP_SIZE,
      StatField.EDGEBLOCK_BW_EP_SIZE, StatField.BASEBLOCK_BW_ES_SIZE, StatField.EDGEBLOCK_BW_ES_SIZE,
      StatField.BASEBLOCK_TP_RECOMM_SIZE, StatField.EDGEBLOCK_TP_RECOMM_SIZE, StatField.BASEBLOCK_ES_RECOMM_SIZE,
      StatField.EDGEBLOCK_ES_RECOMM_SIZE, StatField.BASEBLOCK_EP_RECOMM_SIZE, StatField.EDGEBLOCK_EP_RECOMM_SIZE,
      StatField.BLOCK_FW_PP_SIZE, StatField.BLOCK_BW_PP_SIZE, StatField.BLOCK_DP_SIZE, StatField.BLOCK_DP_EXP_SIZE,
      StatField.BLOCK_WEIGHT_SPACE, StatField.BLOCK_ACT_CHECKPOINT_SIZE, StatField.WEIGHT_SPACE_WITH_OFFLOAD,
      StatField.WEIGHT_SPACE, StatField.TOTAL_WEIGHTS_SPACE, StatField.ACT_CHECKPOINT_SIZE_WITH_OFFLOAD,
      StatField.ACT_CHECKPOINT_SIZE);

  static final Set<StatField> COUNTS = EnumSet.of(
      StatField.BLOCK_RE_FLOPS, StatField.BLOCK_WGRAD_FLOPS, StatField.BLOCK_WEIGHT_GRAD_SPACE_NO_SHARDING);

  static final Set<StatField> NEVER_ASSIGNED = EnumSet.of(
      StatField.EP_RECOMM_LINK_TIME, StatField.EP_RECOMM_EXPOSED_TIME, StatField.DP_EXP_COMM_EXPOSED_TIME);

  static final Set<StatField> ACTIVATIONS = EnumSet.of(
      StatField.BLOCK_ACT_WORKING_SPACE, StatField.BLOCK_ACT_STORAGE_SPACE, StatField.BLOCK_ACT_GRAD_SPACE,
      StatField.ACT_SPACE, StatField.ACT_SPACE_WITH_OFFLOAD, StatField.ACT_GRAD_SPACE,
      StatField.ACT_GRAD_SPACE_WITH_OFFLOAD);

  static final Set<StatField> COMPUTED_ZERO = EnumSet.of(
      StatField.BLOCK_FW_FLOPS_TIME, StatField.BLOCK_FW_MEM_TIME, StatField.BLOCK_FW_TIME, StatField.FW_TIME,
      StatField.TOTAL_TIME, StatField.BUBBLE_TIME, StatField.PP_COMM_LINK_TIME, StatField.PP_COMM_EXPOSED_TIME,
      StatField.ACT_OFFLOAD_BW_REQ, StatField.WEIGHT_OFFLOAD_BW_REQ,
      StatField.OFFLOAD_MEM_BW_REQ);

  /**
   * Whether the reference writes {@code value} of {@code field} as an int for this execution.
   * Only a whole number can be an int; a value that is not is always a float.
   */
  public static boolean isInt(StatField field, double value, Execution exe) {
    if (!(value == Math.rint(value)) || Double.isInfinite(value) || Math.abs(value) >= 0x1p63) {
      return false;
    }
    boolean halfBytes = exe.datatype() == Datatype.FLOAT4;
    if (COUNTS.contains(field) || NEVER_ASSIGNED.contains(field)) {
      return true;
    }
    if (BYTES.contains(field)) {
      return !halfBytes || value == 0;
    }
    if (ACTIVATIONS.contains(field)) {
      boolean divided = exe.modelMoE() || halfBytes
          || exe.tensorParCommType() == TpCommType.RS_AG && exe.tensorParOverlap() == TpOverlap.NONE;
      return !divided || value == 0;
    }
    return value == 0 && !COMPUTED_ZERO.contains(field);
  }
}
