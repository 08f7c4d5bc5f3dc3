package calculon.robustness;

import calculon.model.ModelVersion;
import calculon.stats.LayerField;
import calculon.stats.StatField;
import calculon.stats.Stats;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What every stats value of an accepted, feasible configuration must satisfy: finite (no NaN, no
 * infinity), not negative (they are all times, sizes, flops, bandwidths or ratios), and the three
 * efficiencies at most 100%. The fields allowed to break a rule are listed below, each with its reason.
 */
final class StatsChecks {
  /** Slack for the efficiency bound: the ratios are sums of many terms. */
  static final double EFFICIENCY_SLACK = 1e-9;

  static final Set<StatField> EFFICIENCIES =
      EnumSet.of(StatField.COMPUTE_EFFICIENCY, StatField.SYSTEM_EFFICIENCY, StatField.TOTAL_EFFICIENCY);

  /**
   * Fields that may be negative in {@link ModelVersion#CALCULON_MOE} only, all from spec quirk 21:
   * the MoE router's SelTopK and TensorTrans layers and both EXPComm layers subtract stored
   * activation bytes they never added, so the block's activation storage can go below zero, and
   * everything summed from it follows: the activation offload bandwidth, which moves that storage.
   */
  static final Set<StatField> CALCULON_MOE_MAY_BE_NEGATIVE = EnumSet.of(
      StatField.BLOCK_ACT_STORAGE_SPACE, StatField.ACT_OFFLOAD_BW_REQ);

  /** Whether quirk 21 explains a negative {@code f}: Calculon-MoE's block storage is negative. */
  static boolean storageQuirk(Stats s, StatField f, ModelVersion version) {
    return version == ModelVersion.CALCULON_MOE && CALCULON_MOE_MAY_BE_NEGATIVE.contains(f)
        && s.get(StatField.BLOCK_ACT_STORAGE_SPACE) < 0;
  }

  /**
   * Offload bandwidth requirements divide by a window, the pass's block time less its memory time.
   * Communication layers have processing time 0 but their memory traffic counts in the memory time
   * (spec quirk 25, kept by both versions), so when memory dominates the window is zero or negative
   * and these come out negative or infinite. Allowed only then: memory time at least the block time.
   */
  static final Set<StatField> FW_WINDOW_RATIOS = EnumSet.of(
      StatField.ACT_OFFLOAD_BW_REQ, StatField.WEIGHT_OFFLOAD_BW_REQ, StatField.OFFLOAD_MEM_BW_REQ);
  static final Set<StatField> BW_WINDOW_RATIOS = EnumSet.of(
      StatField.OPTIM_OFFLOAD_BW_REQ, StatField.OFFLOAD_MEM_BW_REQ);

  private StatsChecks() {}

  /** Whether quirk 25 can make {@code f} negative or infinite in these stats (see {@link #FW_WINDOW_RATIOS}). */
  static boolean windowQuirk(Stats s, StatField f) {
    boolean fw = s.get(StatField.BLOCK_FW_MEM_TIME) >= s.get(StatField.BLOCK_FW_TIME);
    boolean bw = s.get(StatField.BLOCK_AGRAD_MEM_TIME) + s.get(StatField.BLOCK_WGRAD_MEM_TIME)
        >= s.get(StatField.BLOCK_AGRAD_TIME) + s.get(StatField.BLOCK_WGRAD_TIME);
    return FW_WINDOW_RATIOS.contains(f) && fw || BW_WINDOW_RATIOS.contains(f) && bw;
  }

  /** The broken rules, one line each; empty when the stats are physical. */
  static List<String> violations(Stats s, ModelVersion version) {
    return violations(s, version, new java.util.HashMap<>());
  }

  /** As {@link #violations(Stats, ModelVersion)}, counting in {@code exempted} each allowed exception used. */
  static List<String> violations(Stats s, ModelVersion version, java.util.Map<String, Integer> exempted) {
    List<String> out = new ArrayList<>();
    for (StatField f : StatField.all()) {
      if (s.isNull(f)) {
        // act_checkpoint_size_with_offload for inference: JSON null as the reference (spec quirk 28)
        continue;
      }
      double v = s.get(f);
      if (!Double.isNaN(v) && windowQuirk(s, f)) {
        if (!(v >= 0 && Double.isFinite(v))) {
          exempted.merge(f.key + " negative/infinite (quirk 25 window)", 1, Integer::sum);
        }
        continue;
      }
      boolean storageQuirk = v < 0 && storageQuirk(s, f, version);
      if (storageQuirk) {
        exempted.merge(f.key + " negative (calculon-moe, quirk 21)", 1, Integer::sum);
      }
      if (!Double.isFinite(v)) {
        out.add(f.key + " is " + v);
      } else if (v < 0 && !storageQuirk) {
        out.add(f.key + " is negative: " + v);
      } else if (EFFICIENCIES.contains(f) && v > 1 + EFFICIENCY_SLACK) {
        out.add(f.key + " is above 100%: " + v);
      }
    }
    if (s.layers() != null) {
      for (Stats.LayerStats l : s.layers()) {
        for (LayerField f : LayerField.all()) {
          double v = l.values()[f.ordinal()];
          // arithmetic intensity is legitimately infinite for a layer with flops and no memory traffic
          if (Double.isNaN(v)) {
            out.add("layer " + l.name() + " " + f + " is NaN");
          }
        }
      }
    }
    return out;
  }
}
