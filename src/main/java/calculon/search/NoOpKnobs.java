package calculon.search;

import calculon.config.Execution;
import calculon.config.Recompute;
import calculon.config.TpCommType;
import calculon.config.TpOverlap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Execution knobs the search enumerates that have no effect in some executions, so that their
 * values give one execution several times (issue 13: "the top 3 is one execution three times").
 * A search of the corrected model merges them into one entry ({@link SearchSpace} with
 * {@code mergeNoOps}); the Calculon-MoE parity mode keeps the reference's enumeration.
 *
 * <p>Derived from the model, not observed: the <b>TP comm type at TP 1</b> ({@code ar},
 * {@code p2p_rs_ag}, {@code rs_ag} without {@code seq_par_ag_redo}). Every TP collective is a
 * {@code Layers.TpComm} with one peer: it moves 0 bytes ({@code commBytes} returns 0 for one peer)
 * and its input, output, flops, memory traffic and stored activation are 0 whatever the type.
 * Sequence parallelism divides activations by TP = 1 ({@code BlockBuilder}:
 * {@code seqParActivation = batchSeq / tp * hidden}), and the pipeline p2p message with
 * {@code p2p_rs_ag} / {@code rs_ag} is the sequence-parallel activation, again divided by TP = 1
 * ({@code BlockStats}).
 *
 * <p>Also derived from the model: <b>{@code seq_par_ag_redo} false at TP &gt; 1 under
 * {@code tensor_par_overlap} {@code backward} or {@code userbuffers}</b> with sequence parallelism
 * and without full recompute, which the model re-gathers anyway
 * ({@link TpOverlap#alwaysRegathersSequenceParallelInput}): the {@code true} execution stands for it.
 *
 * <p>Not a duplicate although it looks like one: {@code seq_par_ag_redo} at TP 1. The model
 * stores less activation memory with it ({@code BlockBuilder}: {@code recomputeAg} drops the
 * stored all-gather input) while the all-gather it re-runs costs nothing at TP 1, so it changes
 * memory and offload time; those executions stay in the search.
 *
 * <p>The knobs the reference already leaves out where they do nothing are not repeated here: TP
 * overlap at TP 1, DP overlap and optimizer sharding at DP 1, interleaving at PP 1, activation
 * offload with full recompute ({@code SearchSpace.prefixes}). MoE runs with TP &gt; 1 force
 * {@code rs_ag} in the model itself, in both versions ({@link Execution#effectiveTpCommType()}).
 * {@code NoOpDuplicatesTest} evaluates every merged execution and asserts stats identical to its
 * kept twin, in the real model.
 */
public final class NoOpKnobs {
  private NoOpKnobs() {}

  /** Whether the TP comm type (seq_par_ag_redo aside) has no effect at this TP degree. */
  public static boolean tpCommTypeHasNoEffect(int tensorPar) {
    return tensorPar == 1;
  }

  /**
   * The executions a merged search stands {@code e} for, besides {@code e} itself: each as the
   * execution keys in which it differs. Empty when {@code e} has no no-op knob.
   */
  public static List<Map<String, Object>> equivalents(Execution e) {
    List<Map<String, Object>> out = new ArrayList<>();
    if (tpCommTypeHasNoEffect(e.tensorPar())) {
      if (!e.seqParAgRedo()) {
        for (TpCommType t : TpCommType.values()) {
          if (t != e.tensorParCommType()) {
            out.add(Map.of("tensor_par_comm_type", t.jsonName));
          }
        }
      }
    } else if (!e.modelMoE() && e.seqParAgRedo() && e.sequenceParallel()
        && e.activationRecompute() != Recompute.FULL && e.tensorParOverlap().alwaysRegathersSequenceParallelInput()) {
      // backward and userbuffers re-gather the sequence-parallel input whatever the flag says
      out.add(Map.of("seq_par_ag_redo", false));
    } else if (e.modelMoE()) {
      // the model runs rs_ag whatever the file says (both versions); the reference tries all three
      for (TpCommType t : TpCommType.values()) {
        if (t != e.effectiveTpCommType()) {
          out.add(Map.of("tensor_par_comm_type", t.jsonName));
        }
      }
    }
    return out;
  }
}
