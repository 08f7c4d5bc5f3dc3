package calculon.stats;

import calculon.config.Application;
import calculon.config.Execution;
import calculon.model.ModelVersion;
import calculon.util.PyFormat;
import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * The text report of {@code llm ... -}, line for line as Calculon-MoE's display_stats prints it
 * (llm.py:3624-3687): times with 4 decimals, sizes and bandwidths through human_format,
 * efficiencies as percentages with 2 decimals.
 */
public final class Summary {
  private Summary() {}

  private static final String RULE = "=".repeat(80);
  private static final long BILLION = 1_000_000_000L;
  private static final int TIME_DECIMALS = 4;
  private static final int PERCENT_DECIMALS = 2;
  /**
   * The corrected model's label of {@code act_checkpoint_size}: the block inputs kept for
   * recomputation (activation checkpoints). The fork prints {@code Act CP}, which beside
   * {@code CP=} (context parallelism) reads as the context-parallel share of the activations.
   */
  static final String CHECKPOINT_LABEL = "Act recompute checkpoints";

  /**
   * The report as the reference logs it, without the newline its logger appends: it starts with a
   * line of 80 '=' and ends with {@code "Sample rate: 27.12;\n"}. For calculon-moe, Calculon-MoE's
   * text byte for byte. For the corrected model the parallel block also lists CP (with its network
   * tier and comm type when CP &gt; 1) and the ZeRO stage, SP is what the model ran (TP with
   * sequence parallelism, else 1; the fork prints TP whatever the comm type), the Execution
   * line holds every choice the run made, given or defaulted, with the MLP kinds the run computes
   * in place of {@code activation_function} ({@link ExecutionDict#asRun}), the activation
   * checkpoints are {@value #CHECKPOINT_LABEL} (not the fork's {@code Act CP}, which reads as
   * context parallelism), and sizes below 1 KiB are whole bytes ({@code 0 B}, not {@code 0.000 iB}).
   */
  public static String text(Stats s, ModelVersion version) {
    Application app = s.application();
    Execution exe = s.execution();
    boolean corrected = version.corrected();
    StringBuilder b = new StringBuilder(4096);
    b.append(RULE).append('\n');
    b.append("blocks=").append(app.numBlocks()).append(", hidden=").append(app.hidden())
        .append(", feedforward=").append(app.feedforward()).append('\n');
    b.append("num attn heads: ").append(app.attnHeads()).append(", attn_size=").append(app.attnSize()).append('\n');
    b.append("Run on ").append(exe.numProcs()).append(" processors with:\n");
    b.append("TP=").append(exe.tensorPar()).append('\n');
    if (corrected) {
      b.append("CP=").append(exe.contextPar());
      if (exe.contextPar() > 1) {
        b.append(" (network tier ").append(exe.contextParNet()).append(", ")
            .append(exe.parallel().contextParCommType().jsonName).append(')');
      }
      b.append('\n');
    }
    b.append("PP=").append(exe.pipelinePar()).append('\n');
    b.append("DP=").append(exe.dataPar()).append('\n');
    if (corrected) {
      b.append("ZeRO stage=").append(exe.zeroStage()).append('\n');
    }
    // The fork sets sequence_par = tensor_par unconditionally (llm.py:107) and prints that; the
    // corrected model splits the sequence over TP only with rs_ag (Execution.sequenceParallel).
    b.append("SP=").append(!corrected || exe.sequenceParallel() ? exe.tensorPar() : 1).append('\n');
    b.append("EP=").append(exe.expertPar()).append('\n');
    b.append("ES=").append(exe.expertSlice()).append('\n');
    b.append("Blocks per processor: ").append(s.blocksPerProc()).append('\n');
    b.append("Execution: ").append(PyFormat.reprValue(ExecutionDict.asRun(exe, app, s.system(), version))).append(";\n");
    b.append("System: ").append(PyFormat.reprValue(s.system().raw())).append(";\n");
    bytes(b, "Weights", s, StatField.WEIGHT_SPACE, corrected);
    b.append("Total Weight Params: ")
        .append(corrected ? billionsTwoDecimals(s.totalWeightParams()) : Long.toString(billions(s.totalWeightParams())))
        .append(" Billion;\n");
    bytes(b, "Act", s, StatField.ACT_SPACE, corrected);
    // the fork's "Act CP" (activation checkpoints) reads as context parallelism beside CP=
    bytes(b, corrected ? CHECKPOINT_LABEL : "Act CP", s, StatField.ACT_CHECKPOINT_SIZE, corrected);
    bytes(b, "Act grad", s, StatField.ACT_GRAD_SPACE, corrected);
    bytes(b, "Weight grad", s, StatField.WEIGHT_GRAD_SPACE, corrected);
    bytes(b, "Optim space", s, StatField.OPTIMIZER_SPACE, corrected);
    time(b, "Batch FW time", s, StatField.FW_TIME);
    time(b, "Batch BW time", s, StatField.BW_TIME);
    time(b, "Batch optim time", s, StatField.OPTIM_STEP_TIME);
    time(b, "Batch FW offload overhead", s, StatField.FW_OFFLOAD_EXPOSED_TIME);
    time(b, "Batch BW offload overhead", s, StatField.BW_OFFLOAD_EXPOSED_TIME);
    time(b, "Batch recompute overhead", s, StatField.RECOMPUTE_TIME);
    time(b, "Batch recomm overhead", s, StatField.RECOMM_EXPOSED_TIME);
    time(b, "Batch bubble overhead", s, StatField.BUBBLE_TIME);
    time(b, "Batch TP comm overhead", s, StatField.TP_COMM_EXPOSED_TIME);
    time(b, "Batch EP comm overhead", s, StatField.EP_COMM_EXPOSED_TIME);
    time(b, "Batch ES comm overhead", s, StatField.ES_COMM_EXPOSED_TIME);
    time(b, "Batch PP comm overhead", s, StatField.PP_COMM_EXPOSED_TIME);
    if (corrected) {
      // context parallelism's K/V exchange: part of the step like the other groups' (Evaluator)
      time(b, "Batch CP comm overhead", s, StatField.CP_COMM_EXPOSED_TIME);
    }
    time(b, "Batch DP (DP+DP_exp) comm overhead", s, StatField.DP_COMM_EXPOSED_TIME);
    time(b, "Batch TP comm time on link", s, StatField.TP_COMM_LINK_TIME);
    time(b, "Batch EP comm time on link", s, StatField.EP_COMM_LINK_TIME);
    time(b, "Batch ES comm time on link", s, StatField.ES_COMM_LINK_TIME);
    time(b, "Batch PP comm time on link", s, StatField.PP_COMM_LINK_TIME);
    if (corrected) {
      time(b, "Batch CP comm time on link", s, StatField.CP_COMM_LINK_TIME);
    }
    time(b, "Batch DP (DP+DP_exp) comm time on link", s, StatField.DP_COMM_LINK_TIME);
    time(b, "Batch total time", s, StatField.TOTAL_TIME);
    bandwidth(b, "Activation offload required BW", s, StatField.ACT_OFFLOAD_BW_REQ);
    bandwidth(b, "Weight offload required BW", s, StatField.WEIGHT_OFFLOAD_BW_REQ);
    bandwidth(b, "Optimizer offload required BW", s, StatField.OPTIM_OFFLOAD_BW_REQ);
    bandwidth(b, "Total offload required BW", s, StatField.OFFLOAD_MEM_BW_REQ);
    bytes(b, "Mem tier1 capacity requirement", s, StatField.PROC_MEM_TIER1_CAP_REQ, corrected);
    bytes(b, "Mem tier2 capacity requirement", s, StatField.PROC_MEM_TIER2_CAP_REQ, corrected);
    bandwidth(b, "Mem tier2 BW for offload", s, StatField.OFFLOAD_MEM_BW_REQ);
    percent(b, "Compute efficiency", s, StatField.COMPUTE_EFFICIENCY);
    percent(b, "System efficiency", s, StatField.SYSTEM_EFFICIENCY);
    percent(b, "Total efficiency", s, StatField.TOTAL_EFFICIENCY);
    b.append("Sample rate: ").append(PyFormat.fixed(s.get(StatField.SAMPLE_RATE), PERCENT_DECIMALS)).append(";\n");
    return b.toString();
  }

  /**
   * The corrected summary's count in billions with two decimals ({@code 1.75} for Megatron-LM's
   * 1.7B GPT, {@code 8.03} for Llama 3 8B), where the fork's floor division printed 1 and 8: a
   * model under a billion parameters printed 0.
   *
   * @param params parameters (count)
   * @return {@code params / 1e9}, rounded half-up to two decimals
   */
  static String billionsTwoDecimals(double params) {
    return BigDecimal.valueOf(params / BILLION).setScale(2, RoundingMode.HALF_UP).toPlainString();
  }

  /** {@code params // 10**9} on the reference's integer count (the fork's line). */
  static long billions(double params) {
    return Math.floorDiv((long) params, BILLION);
  }

  /** Bytes through human_format (the fork's text), or {@link PyFormat#bytes} for the corrected model. */
  private static void bytes(StringBuilder b, String label, Stats s, StatField f, boolean corrected) {
    double v = s.get(f);
    b.append(label).append(": ").append(corrected ? PyFormat.bytes(v) : PyFormat.humanFormat(v, "bytes")).append(";\n");
  }

  private static void bandwidth(StringBuilder b, String label, Stats s, StatField f) {
    b.append(label).append(": ").append(PyFormat.humanFormat(s.get(f), "bandwidth")).append(";\n");
  }

  private static void time(StringBuilder b, String label, Stats s, StatField f) {
    b.append(label).append(": ").append(PyFormat.fixed(s.get(f), TIME_DECIMALS)).append(";\n");
  }

  private static void percent(StringBuilder b, String label, Stats s, StatField f) {
    b.append(label).append(": ").append(PyFormat.fixed(s.get(f) * 100, PERCENT_DECIMALS)).append("%;\n");
  }
}
