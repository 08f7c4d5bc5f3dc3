package calculon.report;

import calculon.config.Execution;
import calculon.stats.StatField;
import calculon.stats.Stats;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-GPU memory by kind, split over the two memory tiers as the model places it
 * (schedule/Evaluator's capacity check): without offload everything is in tier 1; an offloaded
 * kind keeps its resident part ({@code *_with_offload}) in tier 1 and its whole in tier 2.
 * Whatever the kinds do not explain of a tier's requirement is shown as "other", so each tier's
 * parts always add up to {@code proc_mem_tierN_cap_req}.
 */
public final class MemoryBreakdown {
  private MemoryBreakdown() {}

  /** One kind's bytes in one tier. */
  public record Part(String label, double bytes) {}

  /** Below this share of the requirement a residual is rounding, not a missing kind. */
  private static final double RESIDUAL_TOLERANCE = 1e-9;

  public static final String WEIGHTS = "weights";
  public static final String ACTIVATIONS = "activations";
  public static final String CHECKPOINTS = "checkpoints";
  public static final String ACT_GRADS = "activation gradients";
  public static final String WEIGHT_GRADS = "weight gradients";
  public static final String OPTIMIZER = "optimizer";
  public static final String OTHER = "other";
  /** The single part shown when the tier split is unknown (offload without an execution file). */
  public static final String UNSPLIT = "required (split unknown without the execution)";
  static final List<String> KINDS = List.of(WEIGHTS, ACTIVATIONS, CHECKPOINTS, ACT_GRADS, WEIGHT_GRADS, OPTIMIZER, OTHER, UNSPLIT);

  /**
   * Tier-1 parts. {@code exe} may be null: then the split is known only when nothing went to
   * tier 2 (no offload), and otherwise the one part is {@link #UNSPLIT}.
   */
  public static List<Part> tier1(Stats s, Execution exe) {
    double req = s.get(StatField.PROC_MEM_TIER1_CAP_REQ);
    if (exe == null && s.get(StatField.PROC_MEM_TIER2_CAP_REQ) > 0) {
      return List.of(new Part(UNSPLIT, req));
    }
    boolean w = exe != null && exe.weightOffload();
    boolean a = exe != null && exe.activationsOffload();
    boolean o = exe != null && exe.optimizerOffload();
    List<Part> parts = new ArrayList<>();
    parts.add(new Part(WEIGHTS, s.get(w ? StatField.WEIGHT_SPACE_WITH_OFFLOAD : StatField.WEIGHT_SPACE)));
    parts.add(new Part(ACTIVATIONS, s.get(a ? StatField.ACT_SPACE_WITH_OFFLOAD : StatField.ACT_SPACE)));
    parts.add(new Part(CHECKPOINTS, a ? value(s, StatField.ACT_CHECKPOINT_SIZE_WITH_OFFLOAD) : s.get(StatField.ACT_CHECKPOINT_SIZE)));
    parts.add(new Part(ACT_GRADS, s.get(StatField.ACT_GRAD_SPACE)));
    parts.add(new Part(WEIGHT_GRADS, s.get(o ? StatField.WEIGHT_GRAD_SPACE_WITH_OFFLOAD : StatField.WEIGHT_GRAD_SPACE)));
    parts.add(new Part(OPTIMIZER, s.get(o ? StatField.OPTIMIZER_SPACE_WITH_OFFLOAD : StatField.OPTIMIZER_SPACE)));
    return withResidual(parts, req, OTHER);
  }

  /** Tier-2 parts (empty when nothing is offloaded); {@code exe} may be null as for {@link #tier1}. */
  public static List<Part> tier2(Stats s, Execution exe) {
    double req = s.get(StatField.PROC_MEM_TIER2_CAP_REQ);
    if (req == 0) {
      return List.of();
    }
    if (exe == null) {
      return List.of(new Part(UNSPLIT, req));
    }
    List<Part> parts = new ArrayList<>();
    if (exe.weightOffload()) {
      parts.add(new Part(WEIGHTS, s.get(StatField.WEIGHT_SPACE)));
    }
    if (exe.activationsOffload()) {
      // with full recompute only the checkpoints move out, else the stored activations do
      double checkpoints = s.get(StatField.ACT_CHECKPOINT_SIZE);
      parts.add(checkpoints > 0 ? new Part(CHECKPOINTS, checkpoints) : new Part(ACTIVATIONS, s.get(StatField.ACT_SPACE)));
    }
    if (exe.optimizerOffload()) {
      parts.add(new Part(OPTIMIZER, s.get(StatField.OPTIMIZER_SPACE)));
      // the model offloads the sharded gradients of every block; what remains of the requirement is theirs
      double rest = req - parts.stream().mapToDouble(Part::bytes).sum();
      parts.add(new Part(WEIGHT_GRADS, Math.max(0, rest)));
    }
    return withResidual(parts, req, OTHER);
  }

  private static double value(Stats s, StatField f) {
    return s.isNull(f) ? 0 : s.get(f);
  }

  private static List<Part> withResidual(List<Part> parts, double req, String label) {
    double sum = parts.stream().mapToDouble(Part::bytes).sum();
    double residual = req - sum;
    if (Math.abs(residual) > RESIDUAL_TOLERANCE * Math.max(req, 1)) {
      parts.add(new Part(label, residual));
    }
    return parts;
  }
}
