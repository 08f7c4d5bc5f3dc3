package calculon.schedule;

import calculon.config.Execution;
import calculon.config.MoeDispatcher;
import calculon.config.PipelineScheduleKind;
import calculon.hardware.Hardware;

/**
 * Megatron-Core's expert-parallel all-to-all overlap ({@code moe_a2a_overlap}, Megatron-LM
 * {@code --overlap-moe-expert-parallel-comm}; corrected model, schedules other than DualPipe):
 * each step of the steady state runs one microbatch's forward and another's backward together,
 * layer by layer, and each of the four all-to-alls of the pair runs on a communication stream
 * beside exactly one compute node of the other microbatch
 * ({@code megatron/core/models/common/model_chunk_schedule_plan.py},
 * {@code TransformerLayerSchedulePlan.run}):
 *
 * <pre>
 *   comm stream:  combine_bwd | dispatch_fwd -> dispatch_bwd      | combine_fwd
 *   comp stream:  attn_fwd    | mlp_bwd (+ dw) -> mlp_fwd         | attn_bwd
 * </pre>
 *
 * The forward microbatch's nodes and the backward's each wait for their own previous node (one
 * CUDA event per model chunk), so {@code mlp_fwd} waits for {@code dispatch_fwd}, {@code
 * dispatch_bwd} for {@code mlp_bwd}, and the next layer's first pair waits for this layer's last:
 * one layer of the pair takes
 *
 * <pre>
 *   T = piece(attn_fwd, combine_bwd) + piece(mlp_bwd, dispatch_fwd)
 *     + piece(mlp_fwd, dispatch_bwd) + piece(attn_bwd, combine_fwd)
 * </pre>
 *
 * where the attention node is everything up to the dispatch (attention, norm, router, permutation),
 * the MLP node what lies between the dispatch and the combine, and {@code piece(c, a)} is {@code c}
 * seconds of compute beside {@code a} seconds of transfer whose kernels take a share {@code s} of
 * the GPU's SMs while they run: {@code max(a, c + a s)}. An all-to-all longer than the compute it
 * is paired with stays exposed; no all-to-all hides behind another layer's compute.
 *
 * <p>The warm-up forwards and the cool-down backwards run alone, their all-to-alls exposed
 * ({@link PipelineSchedule#a2aUnpairedForwards}; Megatron-Core's interleaved schedule adds one
 * warm-up microbatch for the pairing, {@code get_pp_rank_microbatches}). A full recompute's
 * forward and its all-to-alls run before the paired backward, outside the pairs (Megatron-Core's
 * VPP-stage recompute, {@code recompute_model_chunk_schedule_plan}: "exposed (not overlapped) by
 * design"); a selective recompute runs inside its module's node and is that node's compute.
 */
public final class EpA2aOverlap {
  /**
   * SMs DeepEP's normal kernels take under Megatron-Core's flex dispatcher: {@code
   * --moe-deepep-num-sms}, default 20 (Megatron-LM {@code megatron/training/arguments.py}; the
   * DeepEP README's {@code Buffer.set_num_sms(24)} example for its own benchmarks).
   */
  static final int DEEPEP_SMS = 20;

  private EpA2aOverlap() {}

  /**
   * Whether a step pairs its passes for this overlap: a corrected-model MoE run with
   * {@code moe_a2a_overlap} on a schedule other than DualPipe's (which overlaps by itself). The
   * one test the block split ({@link BlockStats#of}), the extra warm-up forward
   * ({@link PipelineSchedule#of}) and the step ({@code Evaluator}) share.
   */
  static boolean pairs(Execution exe, boolean corrected) {
    if (!corrected || !exe.modelMoE() || !exe.scheduleOptions().a2aOverlap()) {
      return false;  // every run without the key stops here (the evaluation's hot path)
    }
    PipelineScheduleKind kind = exe.pipelineSchedule();
    return kind != PipelineScheduleKind.DUALPIPE && kind != PipelineScheduleKind.DUALPIPE_V;
  }

  /**
   * What a corrected-model run with {@code moe_a2a_overlap} should be told when Megatron-Core
   * would not run that overlap as the execution asks ({@code TransformerConfig.__post_init__}:
   * expert parallelism above 1, the {@code alltoall} or {@code flex} dispatcher, interleaving when
   * PP &gt; 1; {@code combined_1f1b.py} pairs the passes of its 1F1B schedules only), or when the
   * key changes nothing (DualPipe overlaps by itself): a note without the {@code calculon
   * COMMAND: } prefix, naming {@code exeFile}; null when there is nothing to say, the key is off
   * or the run is not a MoE training run.
   */
  public static String unsupportedNote(Execution exe, Object exeFile) {
    if (!exe.modelMoE() || !exe.training() || !exe.scheduleOptions().a2aOverlap()) {
      return null;
    }
    PipelineScheduleKind kind = exe.pipelineSchedule();
    String why;
    if (kind == PipelineScheduleKind.DUALPIPE || kind == PipelineScheduleKind.DUALPIPE_V) {
      return "note: moe_a2a_overlap in " + exeFile + " changes nothing under pipeline_schedule "
          + kind.jsonName + ", which overlaps the all-to-alls by itself (docs/moe.md)";
    } else if (exe.expertPar() == 1) {
      why = "it needs expert_par above 1 (with EP 1 there is no all-to-all to hide)";
    } else if (exe.scheduleOptions().moeDispatcher() == MoeDispatcher.ALLGATHER) {
      why = "it needs the alltoall or flex moe_dispatcher";
    } else if (exe.pipelinePar() > 1 && (kind == PipelineScheduleKind.ZB_H1 || kind == PipelineScheduleKind.ZB_V)) {
      why = "it pairs the passes of 1F1B and interleaved 1F1B only";
    } else if (exe.pipelinePar() > 1 && kind != PipelineScheduleKind.INTERLEAVED) {
      why = "with pipeline_par above 1 it needs pipeline_interleaving above 1";
    } else {
      return null;
    }
    return "note: moe_a2a_overlap in " + exeFile + " is a setting Megatron-Core refuses (" + why
        + "); the run pairs the passes as docs/moe.md says";
  }

  /**
   * The share of the GPU's compute an overlapped all-to-all takes: {@link #DEEPEP_SMS} of the
   * system's {@code streaming_multiprocessors} for the {@code flex} dispatcher (DeepEP's kernels),
   * else the EP tier's {@code processor_usage} (NCCL's kernels, as Calculon charges every
   * overlapped transfer).
   *
   * @return a share in [0, 1)
   */
  static double commComputeShare(Execution exe, Hardware hw) {
    if (exe.scheduleOptions().moeDispatcher() == MoeDispatcher.FLEX) {
      return Math.min(1.0, (double) DEEPEP_SMS / hw.streamingMultiprocessors());
    }
    return hw.network(exe.expertParNet()).processorUsage();
  }

  /**
   * {@code compute} seconds of compute beside {@code transfer} seconds of transfer that takes
   * {@code share} of the compute's SMs while it runs: the compute runs at 1 - share until the
   * transfer ends, then at full speed; the piece ends when both have.
   */
  static double piece(double compute, double transfer, double share) {
    return Math.max(transfer, compute + transfer * share);
  }

  /**
   * Seconds one layer's forward-backward pair takes beyond its compute (the class comment's
   * {@code T} minus the four compute nodes), at least 0 and at most the pair's all-to-alls.
   *
   * @param side    compute seconds of one microbatch [pass FWD/BWD][ATTN/MLP] (the block's split, {@code BlockStats})
   * @param a2a     all-to-all seconds of one microbatch [pass FWD/BWD][DISPATCH/COMBINE] (same)
   * @param share   {@link #commComputeShare}
   */
  static double pairExtraSeconds(double[][] side, double[][] a2a, double share) {
    int f = BlockStats.FWD, b = BlockStats.BWD, attn = BlockStats.ATTN, mlp = BlockStats.MLP;
    int dispatch = BlockStats.DISPATCH, combine = BlockStats.COMBINE;
    double t = piece(side[f][attn], a2a[b][combine], share)
        + piece(side[b][mlp], a2a[f][dispatch], share)
        + piece(side[f][mlp], a2a[b][dispatch], share)
        + piece(side[b][attn], a2a[f][combine], share);
    return t - (side[f][attn] + side[b][mlp] + side[f][mlp] + side[b][attn]);
  }
}
