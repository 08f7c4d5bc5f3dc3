package calculon.search;

import calculon.config.CpCommType;
import calculon.config.PipelineScheduleKind;
import calculon.config.Recompute;
import calculon.config.TpCommType;

/**
 * One slice of a search space: what the reference hands one pool task (the split, interleaving,
 * batch, recompute, optimizer sharding and TP comm type). Everything below it (redo, overlaps,
 * offloads, fused activation, microbatch size, network tiers) is enumerated by
 * {@link SearchSpace#plan(Partition)}. Partitions are independent and small: another executor can
 * evaluate them anywhere and merge the results by {@link #index()}.
 *
 * @param index          position in the enumeration order (0-based, dense)
 * @param ep             expert parallelism (1 for dense)
 * @param es             expert slicing (1 for dense)
 * @param tp             tensor parallelism
 * @param pp             pipeline parallelism
 * @param dp             data parallelism of the non-expert layers
 * @param dpe            data parallelism of the expert layers (1 for dense)
 * @param ppint          pipeline interleaving
 * @param batch          global batch size
 * @param recompute      activation recompute
 * @param zeroStage      ZeRO stage 0-3 ({@code optimizer_sharding} is {@code zeroStage >= 1}; the
 *                       reference's sharding true / false is stage 1 / 0)
 * @param cp             context parallelism (1: none; corrected model only)
 * @param cpComm         the CP comm type (p2p when CP is 1)
 * @param commType       the TP comm type the model runs (for MoE with TP &gt; 1 always rs_ag)
 * @param referenceTasks how many reference tasks this partition stands for: 3 for MoE with
 *                       TP &gt; 1 (the reference runs ar, p2p_rs_ag and rs_ag, which the model
 *                       forces to the same rs_ag run), 3 at TP 1 when no-op duplicates are merged
 *                       ({@link NoOpKnobs}), else 1
 * @param referenceWeight how many reference executions each execution of this partition stands
 *                       for: {@code referenceTasks}, plus one at TP 1 when the merged rs_ag task
 *                       would also have run each execution with seq_par_ag_redo; an execution
 *                       with a corrected-model TP overlap mode ({@link Prefix#calculonKnobs()})
 *                       stands for none
 * @param noOpCopies     of those, how many are no-op duplicates this implementation merged
 *                       ({@link NoOpKnobs}; 0 in the reference's enumeration)
 * @param schedule       the pipeline schedule the executions name, or null for Calculon's choice
 *                       (1F1B, interleaved when ppint &gt; 1); a partition with a schedule, a ZeRO
 *                       stage above 1 or CP &gt; 1 stands for no reference task (its reference
 *                       counts are 0)
 */
public record Partition(int index, int ep, int es, int tp, int pp, int dp, int dpe, int ppint,
                        int batch, Recompute recompute, int zeroStage, int cp, CpCommType cpComm,
                        TpCommType commType, int referenceTasks, int referenceWeight, int noOpCopies,
                        PipelineScheduleKind schedule) {

  /** A partition of the reference's kinds of knobs, with a schedule (ZeRO stage 1 or 0, no CP). */
  public Partition(int index, int ep, int es, int tp, int pp, int dp, int dpe, int ppint, int batch,
                   Recompute recompute, boolean sharding, TpCommType commType, int referenceTasks,
                   int referenceWeight, int noOpCopies, PipelineScheduleKind schedule) {
    this(index, ep, es, tp, pp, dp, dpe, ppint, batch, recompute, sharding ? 1 : 0, 1, CpCommType.P2P,
        commType, referenceTasks, referenceWeight, noOpCopies, schedule);
  }

  /** Optimizer sharding ({@code optimizer_sharding}): ZeRO stage 1 or more. */
  public boolean sharding() { return zeroStage >= 1; }

  /**
   * Whether this partition's executions stand for reference executions (its weight is above 0):
   * one of the reference's tasks, or rs_ag's seq_par_ag_redo variants counted with the merged
   * TP-1 task; not a partition with ZeRO stage 2 or 3, CP &gt; 1 or a named pipeline schedule. Its
   * executions with a corrected-model TP overlap mode still stand for none.
   */
  public boolean standsForReference() { return referenceWeight > 0; }

  /** Whether this partition runs only knobs of the reference's space (so it may stand for its tasks). */
  boolean calculonKnobs() { return zeroStage <= 1 && cp == 1 && schedule == null; }

  /** A partition of Calculon's schedule choice. */
  public Partition(int index, int ep, int es, int tp, int pp, int dp, int dpe, int ppint, int batch,
                   Recompute recompute, boolean sharding, TpCommType commType, int referenceTasks,
                   int referenceWeight, int noOpCopies) {
    this(index, ep, es, tp, pp, dp, dpe, ppint, batch, recompute, sharding, commType, referenceTasks,
        referenceWeight, noOpCopies, null);
  }

  /** The same partition at another position, running {@code s} (standing for no reference task). */
  Partition withSchedule(int newIndex, PipelineScheduleKind s) {
    return new Partition(newIndex, ep, es, tp, pp, dp, dpe, ppint, batch, recompute, zeroStage, cp, cpComm,
        commType, 0, 0, 0, s);
  }

  /** A partition of the reference's enumeration ({@code referenceWeight == referenceTasks}, nothing merged). */
  public Partition(int index, int ep, int es, int tp, int pp, int dp, int dpe, int ppint, int batch,
                   Recompute recompute, boolean sharding, TpCommType commType, int referenceTasks) {
    this(index, ep, es, tp, pp, dp, dpe, ppint, batch, recompute, sharding, commType, referenceTasks,
        referenceTasks, 0);
  }
}
