package calculon.cli;

import calculon.config.Application;
import calculon.config.ConfigError;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.JsonFiles;
import calculon.config.ParallelDim;
import calculon.config.ParallelOptions;
import calculon.config.Recompute;
import calculon.config.RunChecks;
import calculon.hardware.Hardware;
import calculon.model.Infeasible;
import calculon.model.ModelVersion;
import calculon.schedule.Evaluator;
import calculon.stats.StatField;
import calculon.stats.Stats;
import calculon.util.PyFormat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The line {@code llm} prints after {@code ERROR: } when the corrected model finds an execution
 * that cannot run: for the rules whose cause is a few execution keys (network tiers,
 * interleaving, offload) it names the execution file, the keys, their values and the rule, and
 * the system file where a tier's size decides, e.g. {@code calculon llm: exe.json: tensor_par 8 x
 * pipeline_par 4 = 32 GPUs on tier 0 (tensor_par_net 0, pipeline_par_net 0) but tier 0 of
 * sys.json holds 8}; for memory, the system file's {@code mem1.GiB} (or {@code mem2.GiB}), the
 * model's message (the reference's, with the pipeline stage that needs the most), the parts of
 * the need, the keys that shrink the largest and the single changes (one key, or a trade of two
 * parallel degrees that keeps num_procs) that make the run fit. The pipeline-schedule rule keeps the model's
 * message, which names its counts. calculon-moe keeps the reference's {@code Llm.Error} text (the
 * golden cases record it), so this class is used for the corrected model only. The exit status
 * stays {@link Main#EXIT_INFEASIBLE} (255, the reference's -1) for every rule: the files are well
 * formed, the run does not fit.
 */
final class InfeasibleLine {
  private InfeasibleLine() {}

  /**
   * The message for {@code e}, or null when the model's own message stays (rules this class does
   * not rewrite, or a rejection that carries no finding).
   *
   * @param command the command's full name, as error lines start ({@code llm})
   */
  static String of(Infeasible e, String command, Application app, Execution exe, Hardware hw,
                   String executionFile, String systemFile) {
    String why = why(e, app, exe, hw, executionFile, systemFile);
    return why == null ? null : "calculon " + command + ": " + executionFile + ": " + why;
  }

  /**
   * Why the files cannot run, for a command that says it inside its own line ({@code report}):
   * {@code exe.json: does not fit mem1.GiB of sys.json: ...} with the corrected model, the model's
   * message with calculon-moe or where this class does not rewrite the rule.
   */
  static String reason(Infeasible e, ModelVersion version, Application app, Execution exe, Hardware hw,
                       String executionFile, String systemFile) {
    String why = version.corrected() ? why(e, app, exe, hw, executionFile, systemFile) : null;
    return why == null ? e.getMessage() : executionFile + ": " + why;
  }

  /** The line after the execution file's name, or null (see {@link #of}). */
  private static String why(Infeasible e, Application app, Execution exe, Hardware hw, String executionFile,
                            String systemFile) {
    return switch (e.rule()) {
      case NETWORK_TIER_SIZE, NETWORK_TIER_FILL -> tier(e.tier(), exe, systemFile);
      case MEMORY_TIER1, MEMORY_TIER2 -> memory(e, app, exe, hw, executionFile, systemFile);
      case INTERLEAVING -> e.figure() < 0 ? null : "pipeline_interleaving: " + exe.pipelineInterleaving()
          + (exe.pipelineInterleaving() > e.figure() ? " must be at most" : " must divide")
          + " the blocks per pipeline stage (" + e.figure() + stageBlocks(app, exe) + ")";
      case OFFLOAD_BLOCKS -> e.figure() < 0 ? null : offloadKeys(exe)
          + " needs at least 3 blocks per pipeline stage, got " + e.figure() + stageBlocks(app, exe);
      default -> null;
    };
  }

  /**
   * A tier too small for the run: the system file's key, the model's message (the reference's
   * {@code Mem tier1 needs X but only has Y}, with the pipeline stage that needs the most when PP
   * > 1), the parts of the need largest first, and the keys that would shrink the two largest, e.g.
   * {@code does not fit mem1.GiB of sys.json: Mem tier1 needs 796.986 GiB but only has 80.000 GiB;
   * by part: optimizer state 567.011 GiB, ...; try zero_stage 1 (optimizer_sharding true), ...;
   * alone, zero_stage 3 (43.959 GiB) fits} ({@link #fitsAlone}). Null when the rejection carries no measurement.
   */
  private static String memory(Infeasible e, Application app, Execution exe, Hardware hw, String executionFile,
                               String systemFile) {
    Infeasible.MemoryShortfall m = e.memory();
    if (m == null || m.parts().isEmpty()) {
      return null;
    }
    List<String> parts = new ArrayList<>();
    for (Infeasible.MemoryPart p : m.parts()) {
      parts.add(p.kind().words + " " + PyFormat.bytes(p.bytes()));
    }
    return "does not fit mem" + m.tier() + ".GiB of " + systemFile + ": " + e.getMessage() + "; by part: "
        + String.join(", ", parts) + "; try " + String.join(", ", levers(m.parts(), m.tier(), exe.asRun(app.numBlocks()), hw))
        + fitsAlone(app, exe, hw, executionFile, systemFile, m.tier());
  }

  /**
   * Which single changes of the execution file make the run fit, each tried alone with the
   * corrected model (the run is checked and evaluated again as {@code llm} would, microseconds to
   * milliseconds each), with the need each leaves in memory tier {@code tier}: {@code ; alone,
   * zero_stage 3 (70.112 GiB) fits}, or {@code ; no one of zero_stage 1, ... fits alone} when none
   * does. Tried, in this order: each higher ZeRO stage (with {@code optimizer_sharding} true),
   * selective recompute ({@code attn_only}, where the file recomputes nothing and names no
   * {@code recompute_modules}), full
   * activation recompute (with {@code seq_par_ag_redo} false and no {@code recompute_modules},
   * which the reader requires), microbatch 1, each offload the system's second memory tier allows;
   * then the split trades of {@link #trades} (at most {@link #MAX_TRADES} of those that fit, the
   * fastest by the re-evaluated step time first). A change the model's or the reader's rules reject
   * (a network tier too small, a degree that does not divide the model, ...) is neither suggested
   * nor named as tried. Empty when nothing valid is tried or the file cannot be read again.
   */
  private static String fitsAlone(Application app, Execution exe, Hardware hw, String executionFile,
                                  String systemFile, int tier) {
    JsonNode node;
    try {
      node = JsonFiles.read(Path.of(executionFile));
    } catch (ConfigError | RuntimeException unreadable) {
      return "";
    }
    if (!(node instanceof ObjectNode file)) {
      return "";
    }
    Map<String, Consumer<ObjectNode>> changes = new LinkedHashMap<>();
    if (exe.training() && (long) exe.dataPar() * exe.contextPar() > 1) {
      for (int stage = exe.zeroStage() + 1; stage <= ParallelOptions.MAX_ZERO_STAGE; stage++) {
        int z = stage;
        changes.put("zero_stage " + z, f -> f.put("zero_stage", z).put("optimizer_sharding", true));
      }
    }
    if (exe.training() && exe.activationRecompute() == Recompute.NONE && !file.has("recompute_modules")) {
      // selective recompute first: it costs less time than full recompute where it is enough
      // (Korthikanti et al. 2022, section 5: selective recompute of the attention core)
      changes.put("activation_recompute attn_only", f -> f.put("activation_recompute", "attn_only"));
    }
    if (exe.training() && exe.activationRecompute() != Recompute.FULL) {
      changes.put("activation_recompute full", f -> {
        f.put("activation_recompute", "full").put("seq_par_ag_redo", false);
        f.remove("recompute_modules");
      });
    }
    if (exe.microbatchSize() > 1) {
      changes.put("microbatch_size 1", f -> f.put("microbatch_size", 1));
    }
    if (exe.training() && hw.mem2().capacityBytes() > 0) {
      for (String key : List.of("weight_offload", "activations_offload", "optimizer_offload")) {
        if (!file.path(key).asBoolean(false)) {
          changes.put(key, f -> f.put(key, true));
        }
      }
    }
    StatField need = tier == 2 ? StatField.PROC_MEM_TIER2_CAP_REQ : StatField.PROC_MEM_TIER1_CAP_REQ;
    List<String> tried = new ArrayList<>();
    List<String> fit = new ArrayList<>();
    for (Map.Entry<String, Consumer<ObjectNode>> change : changes.entrySet()) {
      Stats s = tryChange(app, hw, file, change.getValue(), executionFile, systemFile, change.getKey(), tried);
      if (s != null) {
        fit.add(change.getKey() + " (" + PyFormat.bytes(s.get(need)) + ")");
      }
    }
    List<Map.Entry<String, Stats>> splits = new ArrayList<>();
    for (Map.Entry<String, Consumer<ObjectNode>> trade : trades(exe).entrySet()) {
      Stats s = tryChange(app, hw, file, trade.getValue(), executionFile, systemFile, trade.getKey(), tried);
      if (s != null) {
        splits.add(Map.entry(trade.getKey(), s));
      }
    }
    // the fastest split first (a stable sort: ties keep the order of trades)
    splits.sort(Comparator.comparingDouble(t -> t.getValue().get(StatField.TOTAL_TIME)));
    for (Map.Entry<String, Stats> t : splits.subList(0, Math.min(MAX_TRADES, splits.size()))) {
      fit.add(t.getKey() + " (" + PyFormat.bytes(t.getValue().get(need)) + ")");
    }
    if (tried.isEmpty()) {
      return "";
    }
    return fit.isEmpty() ? "; no one of " + String.join(", ", tried) + " fits alone"
        : "; alone, " + String.join(", ", fit) + (fit.size() == 1 ? " fits" : " each fit");
  }

  /**
   * The run with {@code change} made to a copy of {@code file}, read, checked ({@link RunChecks},
   * as {@code llm} checks a file) and evaluated with the corrected model: its stats when it fits,
   * null when it does not. {@code name} is added to {@code tried} when the changed file is a valid
   * run (it fits, or only memory rejects it).
   */
  private static Stats tryChange(Application app, Hardware hw, ObjectNode file, Consumer<ObjectNode> change,
                                 String executionFile, String systemFile, String name, List<String> tried) {
    ObjectNode changed = file.deepCopy();
    change.accept(changed);
    try {
      Execution e = ExecutionReader.read(changed, executionFile);
      RunChecks.check(app, e, hw.spec(), "the model file", executionFile, systemFile);
      Stats s = Evaluator.evaluate(app, e, hw, ModelVersion.CORRECTED, false);
      tried.add(name);
      return s;
    } catch (Infeasible notFit) {
      if (notFit.rule() == Infeasible.Rule.MEMORY_TIER1 || notFit.rule() == Infeasible.Rule.MEMORY_TIER2) {
        tried.add(name);
      }
      return null;
    } catch (ConfigError | RuntimeException invalid) {
      // the change is not a valid execution on its own: neither suggested nor named
      return null;
    }
  }

  /**
   * The parallel-degree trades that keep {@code num_procs}: each of tensor_par, pipeline_par and
   * context_par doubled with data_par halved (the dense product TP x CP x PP x DP stays, and
   * batch_size, which DP divided, stays divisible by half of it), and in a MoE run pipeline_par
   * with data_par_exp halved too (the expert product EP x ES x PP x DP_exp stays) and expert_par
   * doubled with data_par_exp halved. Keyed by the keys to change with their new values, e.g.
   * {@code tensor_par 8 with data_par 16}. Whether the result may run (TP dividing the heads and
   * widths, CP the sequence, PP at most the blocks, EP the experts, each group within its network
   * tier, interleaving within the stages) is left to the reader's, the run checks' and the model's
   * own rules, which {@link #tryChange} applies. TP, CP and PP each divide a GPU's share of the
   * model's memory (Korthikanti et al. 2022, arXiv 2205.05198, Section 4; Liu et al. 2023, ring
   * attention, arXiv 2310.01889), EP the experts' weights (Lepikhin et al. 2020, GShard, arXiv
   * 2006.16668); the re-evaluation says by how much.
   */
  private static Map<String, Consumer<ObjectNode>> trades(Execution exe) {
    Map<String, Consumer<ObjectNode>> trades = new LinkedHashMap<>();
    int dp = exe.dataPar();
    int dpe = exe.dataParExp();
    boolean moe = exe.modelMoE();
    if (dp % 2 == 0) {
      int half = dp / 2;
      String dpKey = " with data_par " + half;
      int tp = 2 * exe.tensorPar();
      trades.put("tensor_par " + tp + dpKey, f -> f.put("tensor_par", tp).put("data_par", half));
      int pp = 2 * exe.pipelinePar();
      if (!moe) {
        trades.put("pipeline_par " + pp + dpKey, f -> f.put("pipeline_par", pp).put("data_par", half));
      } else if (dpe % 2 == 0) {
        trades.put("pipeline_par " + pp + dpKey + " and data_par_exp " + dpe / 2,
            f -> f.put("pipeline_par", pp).put("data_par", half).put("data_par_exp", dpe / 2));
      }
      int cp = 2 * exe.contextPar();
      trades.put("context_par " + cp + dpKey, f -> f.put("context_par", cp).put("data_par", half));
    }
    if (moe && dpe % 2 == 0) {
      int ep = 2 * exe.expertPar();
      trades.put("expert_par " + ep + " with data_par_exp " + dpe / 2,
          f -> f.put("expert_par", ep).put("data_par_exp", dpe / 2));
    }
    return trades;
  }

  /**
   * How many split trades the line names at most: the fastest two of those it tries (three in a
   * dense run, four in a MoE run), so that the line stays readable and still offers a choice
   * between two splits.
   */
  private static final int MAX_TRADES = 2;

  /**
   * The execution keys that shrink the two largest parts of a need in memory tier {@code tier},
   * those not already at their most, then the parallel degrees that divide them: ZeRO shards
   * optimizer state (stage 1), weight gradients (2) and weights (3) over DP x CP (Rajbhandari et
   * al. 2020, arXiv 1910.02054, Section 5); offload moves a kind to mem2 (tier 1 only, with a
   * mem2); full recompute keeps one checkpoint per block (Korthikanti et al. 2022, arXiv
   * 2205.05198, Section 4); TP (with sequence parallelism) and CP divide activations, TP and PP
   * the parameters and their state, and in a MoE run EP the routed experts' weights, gradients and
   * optimizer state (each rank holds num_experts / EP experts: Lepikhin et al. 2020, GShard, arXiv
   * 2006.16668; Megatron-Core's expert_model_parallel_size), named while EP is below num_experts
   * (the trade that keeps num_procs halves data_par_exp, as {@link #trades} tries it).
   *
   * @param exe the execution as the model ran it ({@link Execution#asRun}: a {@code block}
   *            recompute of every block is plain full recompute, which accepts activation offload)
   */
  private static List<String> levers(List<Infeasible.MemoryPart> parts, int tier, Execution exe, Hardware hw) {
    Set<String> levers = new LinkedHashSet<>();
    SortedSet<Integer> zeroStages = new TreeSet<>();
    int zeroAt = -1;
    boolean tp = false, pp = false, cp = false, ep = false;
    // EP can grow: the run has routed experts and a group holds more than one of them
    boolean moreExperts = exe.modelMoE() && exe.expertPar() < exe.numExperts();
    boolean zero = exe.training() && (long) exe.dataPar() * exe.contextPar() > 1;
    boolean offload = tier == 1 && hw.mem2().capacityBytes() > 0;
    for (Infeasible.MemoryPart part : parts.subList(0, Math.min(LEVER_PARTS, parts.size()))) {
      Infeasible.MemoryKind kind = part.kind();
      switch (kind) {
        case ACTIVATIONS, ACTIVATION_CHECKPOINTS, ACTIVATION_GRADIENTS -> {
          if (exe.activationRecompute() != Recompute.FULL) {
            levers.add("activation_recompute full");
          } else if (exe.partialRecompute()) {
            // Megatron-Core's block or grouped full recompute: recompute more of each chunk's blocks
            levers.add(exe.layerOptions().recomputeMethod() == calculon.config.RecomputeMethod.BLOCK
                ? "a larger recompute_num_layers" : "recompute_num_layers 1");
          }
          if (exe.microbatchSize() > 1) {
            levers.add("a smaller microbatch_size");
          }
          if (offload && !exe.activationsOffload() && !exe.partialRecompute()) {
            // refused with a partial recompute (ExecutionReader.check, RunChecks.check); exe is as
            // run (Execution.asRun), so a block recompute of every block is plain full here
            levers.add("activations_offload");
          }
          tp = true;
          cp = true;
        }
        default -> {
          int stage = kind == Infeasible.MemoryKind.OPTIMIZER_STATE ? 1
              : kind == Infeasible.MemoryKind.WEIGHT_GRADIENTS ? 2 : 3;
          if (zero && exe.zeroStage() < stage) {
            // one zero_stage suggestion, where the first part that wants it comes
            zeroAt = zeroStages.isEmpty() ? levers.size() : zeroAt;
            zeroStages.add(stage);
          }
          boolean weights = kind == Infeasible.MemoryKind.WEIGHTS;
          if (offload && !(weights ? exe.weightOffload() : exe.optimizerOffload())) {
            levers.add(weights ? "weight_offload" : "optimizer_offload");
          }
          tp = true;
          pp = true;
          ep = moreExperts;
        }
      }
    }
    List<String> result = new ArrayList<>(levers);
    if (zeroAt >= 0) {
      // whichever stages the parts want: zero_stage 1 or 2 (optimizer_sharding true)
      result.add(zeroAt, "zero_stage " + zeroStages.stream().map(String::valueOf).collect(Collectors.joining(" or "))
          + (exe.optimizerSharding() ? "" : " (optimizer_sharding true)"));
    }
    List<String> degrees = new ArrayList<>();
    if (tp) {
      degrees.add("tensor_par");
    }
    if (pp) {
      degrees.add("pipeline_par");
    }
    if (ep) {
      degrees.add("expert_par");
    }
    if (cp) {
      degrees.add("context_par");
    }
    String last = degrees.remove(degrees.size() - 1);
    result.add("more " + (degrees.isEmpty() ? last : String.join(", ", degrees) + " or " + last));
    return result;
  }

  /** How many of the largest parts of a memory need the line suggests keys for. */
  private static final int LEVER_PARTS = 2;

  /** How the blocks per stage come about, for the even split: {@code : 80 blocks / pipeline_par 2}. */
  private static String stageBlocks(Application app, Execution exe) {
    if (exe.parallel().unevenStages()) {
      return ": the most any stage holds, with blocks_in_first/last_stage";
    }
    return ": " + app.numBlocks() + " blocks / pipeline_par " + exe.pipelinePar()
        + (app.numBlocks() % exe.pipelinePar() == 0 ? "" : ", rounded up");
  }

  private static String offloadKeys(Execution exe) {
    List<String> on = new ArrayList<>();
    if (exe.weightOffload()) {
      on.add("weight_offload");
    }
    if (exe.activationsOffload()) {
      on.add("activations_offload");
    }
    if (exe.optimizerOffload()) {
      on.add("optimizer_offload");
    }
    return String.join(", ", on);
  }

  /**
   * The groups on the tier that failed, as the evaluator found them ({@link Infeasible#tier()}):
   * {@code tensor_par 8 x pipeline_par 4 = 32 GPUs on tier 0 (tensor_par_net 0, pipeline_par_net
   * 0) but tier 0 of sys.json holds 8}, or null when the rejection carries none.
   */
  private static String tier(Infeasible.TierShortfall s, Execution exe, String systemFile) {
    if (s == null || s.groups().isEmpty()) {
      return null;
    }
    List<String> degrees = new ArrayList<>();
    List<String> nets = new ArrayList<>();
    for (ParallelDim d : s.groups()) {
      degrees.add(d.executionKey() + " " + d.degree(exe));
      nets.add(d.executionKey() + "_net " + s.tier());
    }
    String label = switch (s.side()) {
      case ALL -> "";
      case EXPERT -> " (the expert side)";
      case DENSE -> " (the dense side)";
    };
    int t = s.tier();
    String group = String.join(" x ", degrees) + (degrees.size() > 1 ? " = " + s.ranks() : "") + " GPUs on tier " + t
        + label + " (" + String.join(", ", nets) + ")";
    String why = group + " but tier " + t + " of " + systemFile + " holds " + s.tierSize();
    return s.fill() ? why + " and must be filled (must_be_filled): " + s.ranks() + " does not divide " + s.tierSize()
        : why;
  }
}
