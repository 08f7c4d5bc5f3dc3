package calculon.config;

import static calculon.config.JsonFields.fmt;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The rules that tie a model, an execution and a system together, checked before the model runs:
 * the reference's {@code compile} asserts ({@code calculon/llm/llm.py}) and what would otherwise
 * crash it or overflow at run time (network tiers that do not exist, a datatype the system has no
 * rate for, an {@code fp8_recipe} its GPU cannot run, tensor parallelism that does not divide the
 * model, context parallelism and uneven pipeline stages that do not split the sequence or the
 * blocks, tensors too large to count exactly), and the keys a Calculon-MoE parity run has no model for. Every failure is a
 * {@link ConfigError} with the one-line message {@code <file>: <json path>: <rule>}, naming the
 * file whose key must change and, in the rule, the other file involved.
 *
 * <p>Infeasibilities the model itself reports (pipeline interleaving not fitting the blocks per
 * processor, offload with two or fewer blocks per processor, a network tier too small or not
 * filled, memory capacity) are deliberately not checked here.
 */
public final class RunChecks {

  /**
   * Largest element count of one tensor of one microbatch (2^53: beyond it element counts are no
   * longer exact in a double, and the block builder's long products can wrap around).
   */
  static final double MAX_TENSOR_ELEMENTS = 0x1p53;

  private RunChecks() {}

  /**
   * The execution keys of a Calculon-MoE parity run that the fork has no model for: context
   * parallelism and uneven pipeline stages change the split itself (Calculon-MoE's llm.py has
   * neither), and PyTorch's async TP is an overlap mode it does not have, so such a file is a
   * configuration error for that model version, not an infeasible execution. The
   * corrected-model-only keys that add a cost or a choice (flash_attention, recompute_modules, ...)
   * are ignored there, as docs/reference.md says.
   */
  private static void checkForkCanRun(Execution exe, JsonFields je) throws ConfigError {
    if (exe.tensorParOverlap().correctedOnly()) {
      throw je.error("tensor_par_overlap", "\"" + exe.tensorParOverlap().jsonName + "\" needs the corrected model "
          + "(Calculon-MoE has none, ring or pipe); drop --model-version calculon-moe or choose one of those");
    }
    if (exe.contextPar() > 1) {
      throw je.error("context_par", "needs the corrected model (Calculon-MoE has no context parallelism); "
          + "drop --model-version calculon-moe or set context_par 1, got " + exe.contextPar());
    }
    if (exe.layerOptions().partialRecompute()) {
      throw je.error(exe.layerOptions().givenRecomputeMethod() == RecomputeMethod.BLOCK ? "recompute_method"
          : "recompute_num_layers", "needs the corrected model (Calculon-MoE recomputes every block from its own "
          + "checkpoint); drop --model-version calculon-moe or the key");
    }
    ParallelOptions p = exe.parallel();
    if (p.unevenStages()) {
      throw je.error(p.blocksInFirstStage() > 0 ? "blocks_in_first_stage" : "blocks_in_last_stage",
          "needs the corrected model (Calculon-MoE splits the blocks evenly over the pipeline stages); "
              + "drop --model-version calculon-moe or the key");
    }
  }

  /**
   * The model keys Calculon-MoE has no model for: an MLP with squared ReLU ({@code mlp:
   * squared_relu}) would silently run as GeLU there, so a Calculon-MoE run of such a model is a
   * configuration error naming the model file and the key.
   *
   * @param appFile the model file, for the message
   * @throws ConfigError one line naming {@code appFile}, {@code mlp} and the rule
   */
  public static void checkForkCanRunModel(Application app, String appFile) throws ConfigError {
    if (app.architecture().mlp() == Architecture.MlpKind.SQUARED_RELU) {
      throw new JsonFields(appFile).error("mlp", "\"squared_relu\" needs the corrected model (Calculon-MoE has "
          + "gelu, swiglu and geglu); drop --model-version calculon-moe or choose one of those");
    }
  }

  /**
   * The rules that tie a model, an execution and a system together, checked before the model runs
   * (the reference's {@code compile} asserts and what would otherwise crash it at run time). Also
   * re-applies {@link ExecutionReader#check}. The file names are used in messages only.
   */
  public static void check(Application app, Execution exe, SystemSpec sys,
                              String appFile, String exeFile, String sysFile) throws ConfigError {
    check(app, exe, sys, appFile, exeFile, sysFile, false);
  }

  /**
   * {@link #check(Application, Execution, SystemSpec, String, String, String)}, with
   * {@code forkQuirks} true for a Calculon-MoE parity run: a dense execution whose num_procs is
   * not tensor_par*pipeline_par*data_par is then accepted, as the fork accepts it (spec quirk 29;
   * golden case hand-dense-numprocs-mismatch). Otherwise it is rejected, as the original Calculon does.
   */
  public static void check(Application app, Execution exe, SystemSpec sys,
                              String appFile, String exeFile, String sysFile, boolean forkQuirks)
      throws ConfigError {
    ExecutionReader.check(exe, exeFile, !forkQuirks);
    JsonFields je = new JsonFields(exeFile);
    if (forkQuirks) {
      checkForkCanRun(exe, je);
      checkForkCanRunModel(app, appFile);
    }
    JsonFields js = new JsonFields(sysFile);
    boolean moe = exe.modelMoE();

    // Network tier indexes.
    int n = sys.networks().size();
    String range = n == 0 ? "none" : n == 1 ? "tier 0 only" : "tiers 0-" + (n - 1);
    checkTier(je, "tensor_par_net", exe.tensorParNet(), n, sysFile, range);
    checkTier(je, "pipeline_par_net", exe.pipelineParNet(), n, sysFile, range);
    checkTier(je, "data_par_net", exe.dataParNet(), n, sysFile, range);
    if (moe) {
      checkTier(je, "data_par_exp_net", exe.dataParExpNet(), n, sysFile, range);
      checkTier(je, "expert_par_net", exe.expertParNet(), n, sysFile, range);
      checkTier(je, "expert_slice_net", exe.expertSliceNet(), n, sysFile, range);
      if (exe.expertPar() > 1) {
        SystemSpec.NetworkSpec net = sys.networks().get(exe.expertParNet());
        if (!net.ops().containsKey("all_to_all")) {
          throw js.error("networks[" + exe.expertParNet() + "].ops.all_to_all",
              "missing (needed because this run uses expert parallelism on tier " + exe.expertParNet()
                  + ", see " + exeFile + ")");
        }
      }
    }

    // Datatype and compute/memory curves.
    Datatype dt = exe.datatype();
    for (String unit : List.of("matrix", "vector")) {
      Map<Datatype, SystemSpec.ComputeRate> rates = unit.equals("matrix") ? sys.matrix() : sys.vector();
      SystemSpec.ComputeRate r = rates.get(dt);
      if (r == null) {
        throw je.error("datatype", "\"" + dt.jsonName + "\" is not supported by " + sysFile
            + " (no " + unit + "." + dt.jsonName + "; it has " + names(rates) + ")");
      }
      String p = unit + "." + dt.jsonName;
      if (!(r.tflops() > 0)) {
        throw js.error(p + ".tflops", "is " + fmt(r.tflops()) + ", so " + exeFile + " cannot run "
            + dt.jsonName + " on it (it would divide by zero)");
      }
      checkCovers(js, p + ".gflops_efficiency", r.gflopsThresholds(), "operation", exeFile);
    }
    // Efficiencies measure every operation against the matrix peak (spec quirk 26): a vector unit
    // faster than the matrix unit would put them above 100%. No real processor or shipped system
    // is built that way.
    double matrixTflops = sys.matrix().get(dt).tflops(), vectorTflops = sys.vector().get(dt).tflops();
    if (vectorTflops > matrixTflops) {
      throw js.error("vector." + dt.jsonName + ".tflops", "cannot exceed matrix." + dt.jsonName + ".tflops ("
          + fmt(matrixTflops) + "), the peak efficiencies are measured against, got " + fmt(vectorTflops));
    }
    // a recipe the system's GPU cannot run (MXFP8 before Blackwell): Transformer Engine refuses it
    Fp8Recipe recipe = exe.precision().fp8Recipe();
    String refusal = recipe == null ? null : recipe.refusalOn(sys, sysFile);
    if (refusal != null) {
      throw je.error(Precision.FP8_RECIPE_KEY, refusal);
    }
    checkCovers(js, "mem1.MB_efficiency", sys.mem1().mbThresholds(), "transfer", exeFile);
    checkCovers(js, "mem2.MB_efficiency", sys.mem2().mbThresholds(), "transfer", exeFile);

    // TorchTitan's op SAC is defined here for dense blocks of multi-head / grouped-query attention
    // with a fused attention kernel (torchtitan's llama3 policy); other blocks order their matmuls
    // differently.
    if (exe.layerOptions().recomputeModules().contains(RecomputeModule.OP_SAC)) {
      String why = moe ? "a MoE run (model_MoE true)" : app.architecture().mla() != null ? "multi-head latent attention ("
          + appFile + " has mla)" : Boolean.FALSE.equals(exe.layerOptions().flashAttention()) ? "flash_attention false" : null;
      if (why != null) {
        throw je.error("recompute_modules", "\"op_sac\" is modelled for dense blocks with a fused attention kernel, not "
            + why);
      }
    }

    // Model versus parallelism: a dense execution of a MoE model first, the most fundamental mismatch
    checkExperts(je, app, exe, appFile);
    checkStagesFitModel(je, app, exe, appFile);
    int tp = exe.tensorPar();
    boolean needSeqSplit = exe.sequenceParallel() || exe.pipelineParRsAg() || moe;
    long batchSeq = (long) exe.microbatchSize() * app.seqSize();
    if (needSeqSplit && batchSeq % tp != 0) {
      // The model file's seq_size is what cannot be split (tp divides seq_size would always pass), so
      // the line names it first and the execution file's two keys after it.
      String why = moe ? "a MoE run" : exe.sequenceParallel() ? "sequence parallelism (rs_ag)" : "p2p_rs_ag";
      throw new JsonFields(appFile).error("seq_size", app.seqSize() + ", with " + exeFile + ": microbatch_size "
          + exe.microbatchSize() + " and tensor_par " + tp + ": tensor_par must divide microbatch_size*seq_size = "
          + exe.microbatchSize() + "*" + app.seqSize() + " = " + batchSeq + " (needed by " + why + ")");
    }
    checkTensorSizes(je, app, exe, appFile);
    checkTensorParDividesModel(je, app, exe, appFile);
    checkArchitecture(je, app, exe, appFile);
    if (exe.tensorParOverlap() == TpOverlap.USERBUFFERS && sys.streamingMultiprocessors() != null
        && sys.streamingMultiprocessors() <= TpOverlap.USERBUFFERS_COMM_SMS) {
      throw new JsonFields(sysFile).error(SystemReader.STREAMING_MULTIPROCESSORS, "must be more than the "
          + TpOverlap.USERBUFFERS_COMM_SMS + " SMs tensor_par_overlap \"userbuffers\" gives its communication ("
          + exeFile + "), got " + sys.streamingMultiprocessors());
    }
    checkContextAndStages(je, app, exe, sys, appFile, sysFile, range);
    checkBlockRecomputeOffload(je, app, exe, appFile);
    String kernel = exe.layerOptions().attentionKernel();
    if (kernel != null) {
      SystemSpec.AttentionKernels ks = sys.attentionKernels();
      if (ks == null || !ks.kernels().containsKey(kernel)) {
        throw je.error("attention_kernel", "\"" + JsonFields.oneLine(kernel) + "\" is not among the kernels of "
            + sysFile + " (" + (ks == null ? "it has no " + SystemReader.ATTENTION_KERNELS
                : SystemReader.ATTENTION_KERNELS + ".kernels: " + String.join(", ", ks.kernels().keySet())) + ")"
            + (ks == null ? "" : NearMiss.didYouMean(kernel, ks.kernels().keySet())));
      }
    }
  }

  /**
   * Activation offload with {@code recompute_method: block}: accepted where N
   * ({@code recompute_num_layers}) is at least the blocks of every pipeline chunk
   * ({@link Execution#blockRecomputesEveryBlock}: Megatron-Core then recomputes every block from its
   * own checkpoint, plain full recompute, which offloads its checkpoints); refused where some
   * chunk keeps blocks without recompute, whose stage would offload a mix of checkpoints and
   * stored activations, which Calculon's offload (whole blocks' checkpoints or stored activations,
   * reference llm.py) does not model (Megatron-Core refuses CPU offloading with any recompute,
   * {@code TransformerConfig.__post_init__}). After the stage checks: the chunks are the split
   * they accepted.
   *
   * @throws ConfigError e.g. {@code exe.json: recompute_method: "block" with recompute_num_layers 3
   *     leaves blocks without recompute in the largest pipeline chunk (4 blocks: the 16 of
   *     model.json on pipeline_par 4, pipeline_interleaving 1), so it cannot be combined with
   *     activations_offload (...); set recompute_num_layers to at least 4 (...) or turn
   *     activations_offload off}
   */
  private static void checkBlockRecomputeOffload(JsonFields je, Application app, Execution exe, String appFile)
      throws ConfigError {
    if (!exe.activationsOffload() || exe.activationRecompute() != Recompute.FULL
        || exe.layerOptions().givenRecomputeMethod() != RecomputeMethod.BLOCK
        || exe.blockRecomputesEveryBlock(app.numBlocks())) {
      return;
    }
    long chunk = exe.largestChunkBlocks(app.numBlocks());
    throw je.error("recompute_method", "\"block\" with recompute_num_layers " + exe.layerOptions().recomputeNumLayers()
        + " leaves blocks without recompute in the largest pipeline chunk (" + chunk + " blocks: the "
        + app.numBlocks() + " of " + appFile + " on pipeline_par " + exe.pipelinePar() + ", pipeline_interleaving "
        + exe.pipelineInterleaving() + "), so it cannot be combined with activations_offload (offloading a mix of checkpoints and stored activations is not "
        + "modelled); set recompute_num_layers to at least " + chunk + " (every block recomputed: plain full "
        + "recompute) or turn activations_offload off");
  }

  /** Context parallelism and uneven pipeline stages against the model and the system. */
  private static void checkContextAndStages(JsonFields je, Application app, Execution exe, SystemSpec sys,
                                            String appFile, String sysFile, String range) throws ConfigError {
    int tiers = sys.networks().size();
    ParallelOptions o = exe.parallel();
    int cp = o.contextPar();
    // a tier index the file gives must exist even when CP is 1, as for the other groups' tiers
    checkTier(je, "context_par_net", o.contextParNet(), tiers, sysFile, range);
    if (cp > 1) {
      // ring attention balances a causal mask by giving each rank two sequence chunks, one from
      // each end (Megatron-Core CP): the sequence splits into 2 CP chunks
      long chunks = o.contextParCommType() != CpCommType.A2A ? 2L * cp : cp;
      if (app.seqSize() % chunks != 0) {
        throw je.error("context_par", "must split seq_size (" + app.seqSize() + " in " + appFile + ") into "
            + (chunks == cp ? "" : "2*") + "context_par equal chunks"
            + (chunks == cp ? "" : " (load-balanced causal ring attention)") + ", got " + cp);
      }
      if ((app.seqSize() / cp) % exe.tensorPar() != 0 && (exe.sequenceParallel() || exe.modelMoE())) {
        throw je.error("context_par", "seq_size/context_par = " + app.seqSize() / cp
            + " must be divisible by tensor_par (" + exe.tensorPar() + ") for sequence parallelism, got " + cp);
      }
      if (o.contextParCommType() == CpCommType.A2A) {
        if (!sys.networks().get(o.contextParNet()).ops().containsKey("all_to_all")) {
          throw new JsonFields(sysFile).error("networks[" + o.contextParNet() + "].ops.all_to_all",
              "missing (needed because this run uses context_par_comm_type \"a2a\" on tier "
                  + o.contextParNet() + ", see " + je.file() + ")");
        }
        long ranks = (long) exe.tensorPar() * cp;
        if (app.attnHeads() % ranks != 0) {
          throw je.error("context_par_comm_type", "\"a2a\" (Ulysses) splits the heads over tensor_par*context_par = "
              + ranks + " ranks, which must divide attn_heads (" + app.attnHeads() + " in " + appFile + ")");
        }
      }
    }
    if (o.unevenStages()) {
      int pp = exe.pipelinePar();
      long blocks = app.numBlocks();
      int given = (o.blocksInFirstStage() > 0 ? 1 : 0) + (o.blocksInLastStage() > 0 ? 1 : 0);
      long rest = blocks - o.blocksInFirstStage() - o.blocksInLastStage();
      int others = pp - given;
      String key = o.blocksInFirstStage() > 0 ? "blocks_in_first_stage" : "blocks_in_last_stage";
      if (others == 0 ? rest != 0 : rest < others || rest % others != 0) {
        throw je.error(key, "leaves " + rest + " of the model's " + blocks + " blocks (" + appFile + ") for the "
            + others + " other pipeline stages: " + (others == 0 ? "they must add up to num_blocks"
            : "each needs the same number, at least one"));
      }
      long perOther = others == 0 ? 0 : rest / others;
      long most = Math.max(perOther, Math.max(o.blocksInFirstStage(), o.blocksInLastStage()));
      if (exe.pipelineInterleaving() > most) {
        throw je.error("pipeline_interleaving", "cannot exceed the most blocks on one stage (" + most
            + "), got " + exe.pipelineInterleaving());
      }
    }
  }

  /**
   * The rules between a model and an execution that need no system, for a command that reads no
   * system file ({@code llm-parameter-calculator --execution}): the pipeline's stages against the
   * model's blocks, TP against the model's widths and heads, and the architecture keys (a MoE
   * model needs a MoE execution with its experts, TP against the KV heads, MLA's TP overlap).
   * {@link #check} applies them too.
   *
   * @throws ConfigError one line naming the execution file, the key and the rule
   */
  public static void checkModelAndExecution(Application app, Execution exe, String appFile, String exeFile)
      throws ConfigError {
    JsonFields je = new JsonFields(exeFile);
    // the most fundamental mismatch first: a dense execution of a mixture-of-experts model (or
    // another expert count) is named as such, not as a TP or attention rule it also breaks
    checkExperts(je, app, exe, appFile);
    checkStagesFitModel(je, app, exe, appFile);
    checkTensorParDividesModel(je, app, exe, appFile);
    checkArchitecture(je, app, exe, appFile);
  }

  /** A pipeline stage needs at least one block. */
  private static void checkStagesFitModel(JsonFields je, Application app, Execution exe, String appFile)
      throws ConfigError {
    if (app.numBlocks() < exe.pipelinePar()) {
      throw je.error("pipeline_par", "cannot exceed the model's num_blocks (" + app.numBlocks() + " in "
          + appFile + "), got " + exe.pipelinePar());
    }
  }

  /** TP splits the hidden and feedforward widths, and the heads (a MoE block's when overlapped). */
  private static void checkTensorParDividesModel(JsonFields je, Application app, Execution exe, String appFile)
      throws ConfigError {
    int tp = exe.tensorPar();
    modelDivides(je, "hidden", app.hidden(), tp, appFile);
    modelDivides(je, "feedforward", app.feedforward(), tp, appFile);
    if (!exe.modelMoE()) {
      modelDivides(je, "attn_heads", app.attnHeads(), tp, appFile);
    } else if (!exe.tensorParOverlap().separateCollectives() && (app.attnHeads() * app.attnSize()) % tp != 0) {
      throw je.error("tensor_par", "must divide attn_heads*attn_size = " + app.attnHeads() + "*" + app.attnSize()
          + " = " + app.attnHeads() * app.attnSize() + " (" + appFile + ") when tensor_par_overlap is \""
          + exe.tensorParOverlap().jsonName + "\", got " + tp);
    }
  }

  /** How the model file's architecture keys and the execution must agree. */
  private static void checkArchitecture(JsonFields je, Application app, Execution exe, String appFile)
      throws ConfigError {
    Architecture a = app.architecture();
    int tp = exe.tensorPar();
    if (a.numKvHeads() != app.attnHeads()) {
      if (exe.attentionType() == AttentionType.MULTIQUERY && a.numKvHeads() != 1) {
        throw je.error("attention_type", "is multiquery (one KV head) but " + appFile + " has num_kv_heads="
            + a.numKvHeads() + ": use multihead, the model's num_kv_heads sets the grouping");
      }
      if (a.numKvHeads() % tp != 0 && tp % a.numKvHeads() != 0) {
        throw je.error("tensor_par", "must divide num_kv_heads=" + a.numKvHeads() + " or be a multiple of it ("
            + appFile + "), got " + tp);
      }
    }
    if (a.mla() != null && !exe.tensorParOverlap().separateCollectives()) {
      throw je.error("tensor_par_overlap", "must be none or backward for a model with multi-head latent attention ("
          + appFile + "): overlapped latent projections are not modelled, got \"" + exe.tensorParOverlap().jsonName + "\"");
    }
  }

  /** A mixture-of-experts model needs a MoE execution with its expert count and top-k. */
  private static void checkExperts(JsonFields je, Application app, Execution exe, String appFile)
      throws ConfigError {
    Architecture.Moe m = app.architecture().moe();
    if (m != null) {
      if (!exe.modelMoE()) {
        throw je.error("model_MoE", "must be true: " + appFile + " is a mixture-of-experts model ("
            + m.numExperts() + " experts)");
      }
      if (exe.numExperts() != m.numExperts()) {
        throw je.error("num_experts", "must match " + appFile + "'s moe.num_experts=" + m.numExperts()
            + ", got " + exe.numExperts());
      }
      if (exe.topKExperts() != m.topK()) {
        throw je.error("top_k_experts", "must match " + appFile + "'s moe.top_k=" + m.topK()
            + ", got " + exe.topKExperts());
      }
    }
  }

  private static void checkTier(JsonFields je, String key, int tier, int n, String sysFile, String range)
      throws ConfigError {
    if (tier < 0 || tier >= n) {
      throw je.error(key, "network tier " + tier + " does not exist: " + sysFile + " has " + n
          + " network" + (n == 1 ? "" : "s") + " (" + range + ")");
    }
  }

  private static void checkCovers(JsonFields js, String path, double[] thresholds, String what, String exeFile)
      throws ConfigError {
    if (thresholds.length == 0) {
      throw js.error(path, "is empty, but " + exeFile + " needs it (it must end with a threshold of 0)");
    }
    double last = thresholds[thresholds.length - 1];
    if (last != 0) {
      throw js.error(path, "must end with a threshold of 0 so every " + what + " size is covered, last is "
          + fmt(last));
    }
  }

  /**
   * The largest tensors of one microbatch (activations, attention scores, MoE dispatch, weights)
   * must have fewer than {@link #MAX_TENSOR_ELEMENTS} elements, so the model's element counts stay exact.
   */
  private static void checkTensorSizes(JsonFields je, Application app, Execution exe, String appFile)
      throws ConfigError {
    double tokens = (double) exe.microbatchSize() * app.seqSize();
    double k = exe.modelMoE() ? exe.topKExperts() : 1;
    double experts = exe.modelMoE() ? exe.numExperts() : 1;
    double width = Math.max(Math.max(app.hidden(), app.feedforward()), (double) app.attnHeads() * app.attnSize());
    double[] sizes = {
        tokens * width * k,                                   // activations, MoE dispatch
        tokens * app.seqSize() * app.attnHeads(),             // attention scores
        tokens * experts,                                     // router scores
        (double) app.hidden() * app.feedforward(),            // MLP weights
        (double) app.hidden() * app.attnHeads() * app.attnSize()};  // attention weights
    String[] names = {
        "microbatch_size*seq_size*max(hidden, feedforward, attn_heads*attn_size)*top_k_experts",
        "microbatch_size*seq_size^2*attn_heads", "microbatch_size*seq_size*num_experts", "hidden*feedforward",
        "hidden*attn_heads*attn_size"};
    for (int i = 0; i < sizes.length; i++) {
      if (!(sizes[i] < MAX_TENSOR_ELEMENTS)) {
        throw je.error("microbatch_size", "the model (" + appFile + ") is too large to evaluate: " + names[i]
            + " = " + fmt(sizes[i]) + " elements, at most 2^53");
      }
    }
  }

  private static void modelDivides(JsonFields je, String modelKey, long value, int tp, String appFile)
      throws ConfigError {
    if (value % tp != 0) {
      throw je.error("tensor_par", "must divide the model's " + modelKey + " (" + value + " in " + appFile
          + "), got " + tp);
    }
  }

  private static String names(Map<Datatype, ?> m) {
    if (m.isEmpty()) {
      return "no datatypes";
    }
    List<String> out = new ArrayList<>();
    for (Datatype d : m.keySet()) {
      out.add(d.jsonName);
    }
    return String.join(", ", out);
  }
}
