package calculon.search;

import calculon.config.TpOverlap;

/**
 * The options enumerated inside a partition before the microbatch size, in the reference's loop
 * order: seq_par_ag_redo, data_par_overlap, tensor_par_overlap, weight_offload,
 * activations_offload, optimizer_offload, fused_activation.
 */
public record Prefix(boolean seqParAgRedo, boolean dataParOverlap, TpOverlap tensorParOverlap,
                     boolean weightOffload, boolean activationsOffload, boolean optimizerOffload,
                     boolean fusedActivation) {

  /**
   * Whether this prefix runs only knobs of the reference's space, so its executions may stand for
   * reference executions: not a corrected-model TP overlap mode (async_tp, backward, userbuffers).
   */
  boolean calculonKnobs() { return !tensorParOverlap.correctedOnly(); }
}
