package calculon.stats;

import calculon.config.Application;
import calculon.config.Architecture;
import calculon.config.Datatype;
import calculon.config.Execution;
import calculon.config.LayerOptions;
import calculon.config.ParallelOptions;
import calculon.config.PipelineScheduleKind;
import calculon.config.Precision;
import calculon.config.ScheduleOptions;
import calculon.config.Recompute;
import calculon.config.SystemSpec;
import calculon.hardware.AttentionKernel;
import calculon.hardware.Hardware;
import calculon.model.BlockBuilder;
import calculon.model.ModelVersion;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** An execution as the reference's dict of it, for the text summary and the JSON outputs. */
public final class ExecutionDict {
  private ExecutionDict() {}

  /**
   * Calculon-MoE's {@code Execution.get_json()} (llm.py:208-219): the 33 fields of
   * {@link Execution#FIELDS}, in that order, ints as Integer, flags as Boolean, modes as their JSON
   * names. It reports what the model ran, so {@code tensor_par_comm_type} is
   * {@link Execution#effectiveTpCommType()} (rs_ag for MoE with TP &gt; 1).
   */
  public static Map<String, Object> of(Execution e) {
    Object[] values = {
        e.numProcs(), e.tensorPar(), e.pipelinePar(), e.dataPar(), e.tensorParNet(),
        e.pipelineParNet(), e.dataParNet(), e.batchSize(), e.microbatchSize(), e.numExperts(),
        e.topKExperts(), e.expertPar(), e.expertSlice(), e.dataParExp(), e.dataParExpNet(),
        e.expertParNet(), e.expertSliceNet(), e.datatype().jsonName, e.fusedActivation(),
        e.attentionType().jsonName, e.activationRecompute().jsonName, e.pipelineInterleaving(),
        e.optimizerSharding(), e.effectiveTpCommType().jsonName, e.tensorParOverlap().jsonName,
        e.seqParAgRedo(), e.dataParOverlap(), e.weightOffload(), e.activationsOffload(),
        e.optimizerOffload(), e.training(), e.modelMoE(), e.activationFunction().jsonName};
    if (values.length != Execution.FIELDS.length) {
      throw new AssertionError("execution dict out of step with Execution.FIELDS");
    }
    Map<String, Object> m = new LinkedHashMap<>(values.length * 2);
    for (int i = 0; i < values.length; i++) {
      m.put(Execution.FIELDS[i], values[i]);
    }
    m.putAll(optionalKeys(e));
    return m;
  }

  /**
   * The corrected model's execution choices, in the order {@link #asRun} lists them: what the
   * run used whether the file gave the key or the model's default applied.
   */
  public static final String[] CORRECTED_KEYS = {
      "zero_stage", "context_par", "context_par_net", "context_par_comm_type", "flash_attention",
      "attention_kernel", "repeat_kv", "recompute_modules", "recompute_method", "recompute_num_layers",
      "elementwise_kernels", "loss_kernel", "context_par_impl",
      "fsdp_impl", "optimizer_kernel", "fp8_recipe", "pipeline_schedule", "pipeline_p2p_overlap", "moe_dispatcher"};

  /**
   * The execution as {@code version} ran it. For calculon-moe {@link #of} without the keys that
   * model ignores ({@link #IGNORED_BY_CALCULON_MOE}): the fork's summary, byte for byte, for the
   * fork's files, and never a key that did not run. For the corrected model {@link #of}'s 33 keys ({@code seq_par_ag_redo}
   * as run: {@link BlockBuilder#redoesSequenceParallelGather}), then
   * {@link #CORRECTED_KEYS} with the values the run used, given or defaulted: the ZeRO stage
   * ({@code optimizer_sharding} alone means 1), CP with its network tier and comm type, whether
   * the attention is one fused kernel ({@link BlockBuilder#usesFlashAttention}), which measured
   * kernel of the system it runs (None: no measured kernel applies, or flash attention is off),
   * whether K/V are repeated to the query heads, the recomputed modules, under full recompute its {@code recompute_method} and
   * {@code recompute_num_layers}, the element-wise kernels
   * (fused or eager), the loss kernel, with CP &gt; 1 whose context-parallel attention runs
   * ({@code context_par_impl}), with ZeRO stage 3 whose FSDP runs ({@code fsdp_impl}), a training run's optimizer kernel ({@code optimizer_kernel}), a float8 run's FP8 recipe, the pipeline schedule, whether an
   * interleaved training run overlaps its pipeline transfers and, for a MoE run, the
   * token dispatcher; then
   * the other optional keys the file gave. So a reader of a summary or a report sees every choice
   * the corrected model made, not only those the file spelled out.
   *
   * <p>With the model known, {@code activation_function} (Calculon-MoE's expert activation, which
   * the model file's {@code mlp} overrides and which never changes a dense block) gives its place
   * to the MLP the run computes: {@code mlp}, the dense blocks' kind (the model file's {@code mlp};
   * listed for a dense run and for a MoE model with dense blocks), and for a MoE run
   * {@code expert_mlp} ({@link BlockBuilder#expertMlp}). Without the model (a report of a stats
   * file given no {@code --model}) the file's {@code activation_function} stays as it was given.
   *
   * @param app    the model the run used, for the MLP kinds; null when unknown
   * @param system the system the run used, for the attention kernel's default; null when unknown
   *               (then {@code attention_kernel} is listed only when the file gave it)
   */
  public static Map<String, Object> asRun(Execution e, Application app, SystemSpec system, ModelVersion version) {
    Map<String, Object> given = of(e);
    if (!version.corrected()) {
      given.keySet().removeAll(IGNORED_BY_CALCULON_MOE);
      return given;
    }
    Map<String, Object> m = new LinkedHashMap<>(given.size() * 2);
    for (String k : Execution.FIELDS) {
      if (k.equals(ACTIVATION_FUNCTION) && app != null) {
        putMlpKinds(m, e, app);
      } else {
        m.put(k, given.get(k));
      }
    }
    // backward and userbuffers TP overlap re-gather the sequence-parallel input whatever the file says
    m.put("seq_par_ag_redo", BlockBuilder.redoesSequenceParallelGather(e, version));
    m.put("zero_stage", e.zeroStage());
    m.put("context_par", e.contextPar());
    m.put("context_par_net", e.contextParNet());
    m.put("context_par_comm_type", e.parallel().contextParCommType().jsonName);
    boolean flash = BlockBuilder.usesFlashAttention(e, version);
    m.put("flash_attention", flash);
    if (system != null) {
      m.put("attention_kernel", flash ? kernelName(e, system) : null);
    } else if (e.layerOptions().attentionKernel() != null) {
      m.put("attention_kernel", e.layerOptions().attentionKernel());
    }
    m.put("repeat_kv", e.layerOptions().repeatKv());
    m.put("recompute_modules", e.layerOptions().recomputeModules().stream().map(x -> x.jsonName).toList());
    if (e.activationRecompute() == Recompute.FULL) {
      // how full recompute divides a pipeline chunk's blocks (uniform 1: every block from its own checkpoint)
      m.put("recompute_method", e.layerOptions().recomputeMethod().jsonName);
      m.put("recompute_num_layers", e.layerOptions().recomputeNumLayers());
    }
    m.put("elementwise_kernels", e.layerOptions().eagerElementwise() ? "eager" : "fused");
    m.put("loss_kernel", e.layerOptions().lossKernel().jsonName);
    if (e.contextPar() > 1) {
      m.put("context_par_impl", e.layerOptions().contextParImpl().jsonName);
    }
    if (e.zeroStage() >= 3) {
      m.put("fsdp_impl", e.layerOptions().fsdpImpl().jsonName);
    }
    if (e.training()) {
      m.put("optimizer_kernel", e.layerOptions().optimizerKernel().jsonName);
    }
    if (e.datatype() == Datatype.FLOAT8) {
      m.put("fp8_recipe", e.precision().fp8RecipeOrDefault().jsonName);
    }
    m.put("pipeline_schedule", e.pipelineSchedule().jsonName);
    if (e.pipelineSchedule() == PipelineScheduleKind.INTERLEAVED && e.pipelinePar() > 1 && e.training()) {
      // where Execution#overlapsPipelineTransfers can apply: whether it does
      m.put("pipeline_p2p_overlap", e.overlapsPipelineTransfers());
    }
    if (e.modelMoE()) {
      m.put("moe_dispatcher", e.scheduleOptions().dispatcher().jsonName);
    }
    given.forEach((k, v) -> {
      if (!k.equals(ACTIVATION_FUNCTION)) {
        m.putIfAbsent(k, v);
      }
    });
    return m;
  }

  private static final String ACTIVATION_FUNCTION = "activation_function";

  /**
   * The corrected model's execution keys that {@code --model-version calculon-moe} reads and
   * ignores, because they only add a cost or a choice Calculon-MoE has no model for
   * (docs/reference.md, "Corrected-model keys under --model-version calculon-moe"): the layer
   * options ({@link LayerOptions#KEYS}), the float8 recipe, the ZeRO stage (the fork reads
   * {@code optimizer_sharding} alone), the MoE dispatch keys and {@code pipeline_p2p_overlap}
   * (the fork exposes every pipeline transfer). The storage datatypes and
   * {@code pipeline_schedule} are read by both versions; the keys the fork cannot run at all
   * (CP &gt; 1, uneven stages, PyTorch's TP overlaps) are refused before the run
   * ({@code RunChecks}), so they never reach a calculon-moe summary.
   */
  public static final Set<String> IGNORED_BY_CALCULON_MOE = ignoredByCalculonMoe();

  private static Set<String> ignoredByCalculonMoe() {
    Set<String> s = new LinkedHashSet<>(Arrays.asList(LayerOptions.KEYS));
    s.add(Precision.FP8_RECIPE_KEY);
    s.add(ParallelOptions.KEYS[0]);  // zero_stage
    for (String k : ScheduleOptions.KEYS) {
      if (k.startsWith("moe_") || k.equals("pipeline_p2p_overlap")) {
        s.add(k);
      }
    }
    return Collections.unmodifiableSet(s);
  }

  /**
   * The keys of {@link #IGNORED_BY_CALCULON_MOE} that the execution file gave, in
   * {@link #optionalKeys} order: what a calculon-moe run of it leaves out, for the note that says so;
   * a {@code zero_stage} equal to what the fork runs for its {@code optimizer_sharding} (2 with it,
   * 0 without) is not among them.
   */
  public static List<String> givenKeysIgnoredByCalculonMoe(Execution e) {
    // zero_stage 2 with optimizer_sharding (0 without) is what the fork runs for that key: not ignored
    int forkStage = e.optimizerSharding() ? FORK_SHARDING_ZERO_STAGE : 0;
    return optionalKeys(e).keySet().stream().filter(IGNORED_BY_CALCULON_MOE::contains)
        .filter(k -> !(k.equals(ParallelOptions.KEYS[0]) && e.zeroStage() == forkStage)).toList();
  }

  /**
   * The one note a calculon-moe command prints for the corrected-model keys its model file
   * ({@link #givenModelKeysIgnoredByCalculonMoe}) and its execution file
   * ({@link #givenKeysIgnoredByCalculonMoe}) gave and that model ignores, model file first:
   * {@code note: --model-version calculon-moe ignores attention_dropout in model.json and
   * flash_attention in exe.json (corrected-model keys, docs/reference.md); the run is Calculon-MoE's
   * without them}, without the {@code calculon COMMAND: } prefix; null when neither gives any.
   *
   * @param app     the model, or null for none (its file is then not named)
   * @param appFile the model file, as the user named it
   * @param e       the execution, or null for none (a search without {@code --execution-template})
   * @param exeFile the execution file, as the user named it
   * @param outcome what ran without them: "the run is" ({@code llm}) or "the results are" (a search)
   */
  public static String calculonMoeIgnoredNote(Application app, Object appFile, Execution e, Object exeFile,
                                              String outcome) {
    Map<String, List<String>> keys = new LinkedHashMap<>(2);
    keys.put(String.valueOf(appFile), app == null ? List.of() : givenModelKeysIgnoredByCalculonMoe(app));
    // a model and an execution given as one file cannot both read; merge rather than lose one
    keys.merge(String.valueOf(exeFile), e == null ? List.of() : givenKeysIgnoredByCalculonMoe(e),
        (a, b) -> java.util.stream.Stream.concat(a.stream(), b.stream()).toList());
    return calculonMoeIgnoredNote("--model-version calculon-moe", keys, outcome);
  }

  /**
   * The text of {@link #calculonMoeIgnoredNote(Application, Object, Execution, Object, String)} for
   * any number of files (a sweep's models and its execution or template):
   * {@code note: CHOSEN_BY ignores K1, K2 in FILE1 and K3 in FILE2 (corrected-model keys,
   * docs/reference.md); OUTCOME Calculon-MoE's without them}; files with no keys are left out.
   *
   * @param chosenBy   how the user chose the version: "--model-version calculon-moe" (the
   *                   commands' flag) or "model_version calculon-moe" (a sweep SPEC's key)
   * @param keysByFile each file as the user named it, with its ignored keys in order, files in the
   *                   order the note names them (models first)
   * @param outcome    what ran without them: "the run is" or "the results are"
   * @return the note, or null when no file gives any key
   */
  public static String calculonMoeIgnoredNote(String chosenBy, Map<String, List<String>> keysByFile, String outcome) {
    List<String> files = new java.util.ArrayList<>(keysByFile.size());
    keysByFile.forEach((file, keys) -> {
      if (!keys.isEmpty()) {
        files.add(String.join(", ", keys) + " in " + file);
      }
    });
    return files.isEmpty() ? null : "note: " + chosenBy + " ignores " + String.join(" and ", files)
        + " (corrected-model keys, docs/reference.md); " + outcome + " Calculon-MoE's without them";
  }

  /**
   * The model-file keys whose value the corrected model runs and {@code --model-version
   * calculon-moe} ignores (docs/reference.md, model keys marked "Corrected model only"), in the
   * order docs/reference.md lists them, when the file gave them a value that changes the corrected
   * run: {@code position_embedding: rope} (the rotary layer, {@code BlockBuilder.rotaryEmbedding},
   * corrected only; the fork has learned positions and no rotary cost), {@code attention_dropout} or
   * {@code hidden_dropout} 0 (the fork always has dropout: {@code BlockBuilder}'s dropout flags),
   * {@code sliding_window} with {@code sliding_window_pattern} or {@code layer_types} (the window
   * only shortens the fused kernel's work, and the fork has no fused kernel) and {@code mtp_layers}
   * above 0 ({@code BlockBuilder}'s multi-token-prediction modules, corrected only). A key absent
   * from the file keeps Calculon's meaning, which the fork runs, so it is never named; nor is a
   * dropout above 0, which both versions run alike (only whether it is 0 matters).
   */
  public static List<String> givenModelKeysIgnoredByCalculonMoe(Application app) {
    Architecture a = app.architecture();
    List<String> keys = new java.util.ArrayList<>();
    if (!a.learnedPositions()) {
      keys.add("position_embedding");
    }
    if (a.dropout().attention() == 0) {
      keys.add("attention_dropout");
    }
    if (a.dropout().hidden() == 0) {
      keys.add("hidden_dropout");
    }
    Architecture.SlidingWindow w = a.slidingWindow();
    if (w != null) {
      keys.add("sliding_window");
      if (!w.layerTypes().isEmpty()) {
        keys.add("layer_types");
      } else if (w.fullEvery() > 0) {
        keys.add("sliding_window_pattern");
      }
    }
    if (a.mtpLayers() > 0) {
      keys.add("mtp_layers");
    }
    return List.copyOf(keys);
  }

  /**
   * The ZeRO stage Calculon-MoE's {@code optimizer_sharding} amounts to: gradients and optimizer
   * state sharded over DP, one block's fp32 buffer kept whole (docs/reference.md, {@code zero_stage}).
   */
  private static final int FORK_SHARDING_ZERO_STAGE = 2;

  /** The MLP kinds the run computes, in place of the execution's activation_function (see {@link #asRun}). */
  private static void putMlpKinds(Map<String, Object> m, Execution e, Application app) {
    if (!e.modelMoE() || !app.architecture().uniformBlocks()) {
      m.put("mlp", app.architecture().mlp().jsonName);
    }
    if (e.modelMoE()) {
      m.put("expert_mlp", BlockBuilder.expertMlp(app, e).jsonName);
    }
  }

  /** The measured attention kernel the run uses ({@link Hardware#attentionKernel}), or null for none. */
  private static String kernelName(Execution e, SystemSpec system) {
    if (system.attentionKernels() == null || !system.matrix().containsKey(e.datatype())
        || !system.vector().containsKey(e.datatype())) {
      return null;
    }
    AttentionKernel k = new Hardware(system, e.datatype()).attentionKernel(e.layerOptions().attentionKernel());
    return k == null ? null : k.name();
  }

  /**
   * The optional execution keys {@code e} says (layer, parallel and schedule options), with their
   * JSON values, so that a dict or a search result runs again as it ran.
   */
  public static Map<String, Object> optionalKeys(Execution e) {
    Map<String, Object> m = templateKeys(e.layerOptions(), e.precision(), ScheduleOptions.DEFAULTS);
    m.putAll(e.parallel().givenKeys());
    m.putAll(e.scheduleOptions().givenKeys());
    return m;
  }

  /**
   * The optional keys that layer options, storage datatypes and schedule options say, in
   * {@link #optionalKeys} order (which adds the parallel options' between the datatypes and the
   * schedule's): what a search's {@code --execution-template} gives its executions, so a search can
   * name its output's columns before it evaluates any execution.
   */
  public static Map<String, Object> templateKeys(LayerOptions lo, Precision p, ScheduleOptions schedule) {
    Map<String, Object> m = new LinkedHashMap<>();
    if (lo.flashAttention() != null) {
      m.put("flash_attention", lo.flashAttention());
    }
    if (!lo.recomputeModules().isEmpty()) {
      m.put("recompute_modules", lo.recomputeModules().stream().map(x -> x.jsonName).toList());
    }
    if (lo.attentionKernel() != null) {
      m.put("attention_kernel", lo.attentionKernel());
    }
    if (lo.givenRecomputeMethod() != null) {
      m.put("recompute_method", lo.givenRecomputeMethod().jsonName);
    }
    if (lo.givenRecomputeNumLayers() > 0) {
      m.put("recompute_num_layers", lo.givenRecomputeNumLayers());
    }
    if (lo.repeatKv()) {
      m.put("repeat_kv", true);
    }
    if (lo.eagerElementwise()) {
      m.put("elementwise_kernels", "eager");
    }
    if (lo.givenLossKernel() != null) {
      m.put("loss_kernel", lo.givenLossKernel().jsonName);
    }
    if (lo.givenContextParImpl() != null) {
      m.put("context_par_impl", lo.givenContextParImpl().jsonName);
    }
    if (lo.givenFsdpImpl() != null) {
      m.put("fsdp_impl", lo.givenFsdpImpl().jsonName);
    }
    if (lo.givenOptimizerKernel() != null) {
      m.put("optimizer_kernel", lo.givenOptimizerKernel().jsonName);
    }
    // the storage datatypes (a search's --execution-template gives them to every execution)
    Datatype[] storage = {p.weights(), p.activations(), p.gradients(), p.masterWeights(), p.optimizerState()};
    for (int i = 0; i < storage.length; i++) {
      if (storage[i] != null) {
        m.put(Precision.KEYS[i], storage[i].jsonName);
      }
    }
    if (p.fp8Recipe() != null) {
      m.put(Precision.FP8_RECIPE_KEY, p.fp8Recipe().jsonName);
    }
    m.putAll(schedule.givenKeys());
    return m;
  }
}
