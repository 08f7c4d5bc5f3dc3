package calculon.config;

import static calculon.config.JsonFields.index;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads an execution file (how a run is split and scheduled) in the Calculon-MoE format (its 33
 * keys), in the original Calculon format (its 23 keys, a dense run), plus the optional keys of
 * {@link Precision}, {@link LayerOptions}, {@link ParallelOptions} and {@link ScheduleOptions},
 * and checks the rules an execution must satisfy on its own ({@link #check}): the reference's
 * {@code Llm.Execution} constructor asserts and the parallelism products of its {@code compile}
 * ({@code calculon/llm/llm.py}), and for the newer keys the frameworks cited at each rule
 * (Megatron-LM, Transformer Engine, DeepSeek's DualPipe). The rules that need the model or the
 * system too are {@link RunChecks}'. Every failure is a {@link ConfigError} with the one-line
 * message {@code <file>: <json path>: <rule>}.
 */
public final class ExecutionReader {

  /** Keys the Calculon-MoE fork added to the original Calculon's 23 execution keys. */
  public static final List<String> MOE_EXECUTION_KEYS = List.of(
      "num_experts", "top_k_experts", "expert_par", "expert_slice", "data_par_exp",
      "data_par_exp_net", "expert_par_net", "expert_slice_net", "model_MoE", "activation_function");

  /** The original Calculon's 23 execution keys (a dense run). */
  public static final List<String> ORIGINAL_EXECUTION_KEYS;

  static {
    List<String> orig = new ArrayList<>();
    for (String f : Execution.FIELDS) {
      if (!MOE_EXECUTION_KEYS.contains(f)) {
        orig.add(f);
      }
    }
    ORIGINAL_EXECUTION_KEYS = Collections.unmodifiableList(orig);
  }

  /** Every key an execution file may have: {@link Execution#FIELDS} and {@link Precision#KEYS}. */
  static final Set<String> EXECUTION_KEYS;

  static {
    Set<String> keys = new LinkedHashSet<>(Arrays.asList(Execution.FIELDS));
    keys.addAll(Arrays.asList(Precision.KEYS));
    keys.add(Precision.FP8_RECIPE_KEY);
    keys.addAll(Arrays.asList(LayerOptions.KEYS));
    keys.addAll(Arrays.asList(ParallelOptions.KEYS));
    keys.addAll(Arrays.asList(ScheduleOptions.KEYS));
    EXECUTION_KEYS = Collections.unmodifiableSet(keys);
  }

  private ExecutionReader() {}

  /** Reads the execution file {@code file} ({@link JsonFiles#read}, then {@link #read(JsonNode, String)}). */
  public static Execution read(Path file) throws ConfigError {
    return read(JsonFiles.read(file), file.toString());
  }

  /**
   * {@link #read(Path)}, handing {@code notes} the one note on the keys the file gives that change
   * nothing for its run ({@link #ignoredKeysNote}), if any, without a {@code calculon COMMAND: }
   * prefix: what a command that runs the file prints on standard error.
   */
  public static Execution read(Path file, java.util.function.Consumer<String> notes) throws ConfigError {
    return read(JsonFiles.read(file), file.toString(), notes);
  }

  /**
   * {@link #read(JsonNode, String)}, handing {@code notes} the note of {@link #ignoredKeysNote}
   * (at most one call, none when the file gives no such key).
   */
  public static Execution read(JsonNode node, String file, java.util.function.Consumer<String> notes)
      throws ConfigError {
    return read(node, file, notes, false);
  }

  /**
   * {@link #read(Path, java.util.function.Consumer)}, holding the run to its processor count first
   * when {@code processCount} ({@link #check(Execution, String, boolean)}): what {@code llm} reads
   * outside a Calculon-MoE parity run.
   */
  public static Execution read(Path file, java.util.function.Consumer<String> notes, boolean processCount)
      throws ConfigError {
    return read(JsonFiles.read(file), file.toString(), notes, processCount);
  }

  /** {@link #read(JsonNode, String, java.util.function.Consumer)}, with {@link #check(Execution, String, boolean)}'s choice. */
  public static Execution read(JsonNode node, String file, java.util.function.Consumer<String> notes,
                               boolean processCount) throws ConfigError {
    Execution given = readGiven(node, file);
    Execution run = withoutIgnoredKeys(given);
    check(run, file, processCount);
    String note = ignoredKeysNote(given, file);
    if (note != null) {
      notes.accept(note);
    }
    return run;
  }

  /**
   * A search's execution template ({@code --execution-template}, a sweep's
   * {@code search.execution_template}): read and checked as {@link #read(JsonNode, String)} reads an
   * execution, but keeping {@code fp8_recipe} and the {@code moe_*} keys whatever the file's own
   * {@code datatype} and {@code model_MoE} say, since a search takes only its optional keys and
   * runs them at its own datatype and kind ({@code SearchRequest#template} judges them there).
   */
  public static Execution readTemplate(JsonNode node, String file) throws ConfigError {
    Execution given = readGiven(node, file);
    check(withoutIgnoredKeys(given), file);
    ScheduleOptions o = given.scheduleOptions();
    if (o.dispatcher() == MoeDispatcher.ALLGATHER && o.moeDispatchDatatype() != null) {
      // the rule checkScheduleOptions applies to a MoE run, for a search's MoE executions
      throw new JsonFields(file).error("moe_dispatch_datatype", ALLGATHER_DISPATCH_DATATYPE_RULE);
    }
    return given;
  }

  /** {@link #readTemplate(JsonNode, String)} of the file {@code file}. */
  public static Execution readTemplate(Path file) throws ConfigError {
    return readTemplate(JsonFiles.read(file), file.toString());
  }

  /**
   * {@code e} without the keys that change nothing for its run: {@code fp8_recipe} unless its
   * {@code datatype} is float8 (the recipe says how a float8 run scales its matmuls; Megatron-LM
   * reads {@code --fp8-recipe} only with {@code --fp8-format}: megatron/core/fp8_utils.py
   * {@code get_fp8_context} returns a null context when {@code config.fp8} is unset), and the
   * {@code moe_*} keys unless it is a MoE run ({@code model_MoE} true: Megatron-Core reads
   * {@code --moe-token-dispatcher-type} and the other {@code --moe-*} options in its
   * {@code MoELayer} only, which a model without {@code --num-experts} does not build). The result
   * is the execution of the same file without those keys, number for number.
   */
  public static Execution withoutIgnoredKeys(Execution e) {
    Execution out = e;
    if (e.precision().fp8Recipe() != null && e.datatype() != Datatype.FLOAT8) {
      out = out.withPrecision(e.precision().withoutFp8Recipe());
    }
    if (!e.modelMoE() && e.scheduleOptions().anyMoeKey()) {
      out = out.withScheduleOptions(e.scheduleOptions().withoutMoeKeys());
    }
    return out;
  }

  /**
   * The one note of the keys of {@code e} that {@link #withoutIgnoredKeys} drops, naming the file,
   * each key and why it changes nothing: {@code note: exe.json gives keys that change nothing
   * here, ignored: fp8_recipe (datatype is "bfloat16": the recipe applies to float8 runs only) and
   * moe_dispatcher, moe_a2a_overlap (model_MoE is false: a dense run sends no tokens to experts);
   * the run is the same without them (docs/reference.md)}, without the {@code calculon COMMAND: }
   * prefix; null when there is none.
   *
   * @param exeFile the execution file as the user named it
   */
  public static String ignoredKeysNote(Execution e, Object exeFile) {
    boolean fp8 = e.precision().fp8Recipe() != null && e.datatype() != Datatype.FLOAT8;
    List<String> moe = e.modelMoE() ? List.of() : e.scheduleOptions().moeKeysGiven();
    return ignoredKeysNote(exeFile, fp8 ? "datatype is \"" + e.datatype().jsonName + "\"" : null,
        moe, "model_MoE is false", "the run is");
  }

  /**
   * The text of {@link #ignoredKeysNote(Execution, Object)}, for an execution file or a search's
   * template: {@code note: FILE gives keys that change nothing here, ignored: fp8_recipe
   * (FP8_WHY: ...) and K1, K2 (DENSE_WHY: ...); OUTCOME the same without them
   * (docs/reference.md)}; "gives a key ... fp8_recipe (...); ... without it" for one key.
   *
   * @param fp8Why   why {@code fp8_recipe} changes nothing ("datatype is \"bfloat16\""), or null
   *                 when it is not ignored
   * @param moeKeys  the {@code moe_*} keys ignored, in file order (empty: none)
   * @param denseWhy why they change nothing ("model_MoE is false")
   * @param outcome  "the run is" or "the results are"
   * @return the note, or null when nothing is ignored
   */
  public static String ignoredKeysNote(Object file, String fp8Why, List<String> moeKeys, String denseWhy,
                                       String outcome) {
    List<String> parts = new ArrayList<>(2);
    if (fp8Why != null) {
      parts.add(Precision.FP8_RECIPE_KEY + " (" + fp8Why + ": the recipe applies to float8 runs only)");
    }
    if (!moeKeys.isEmpty()) {
      parts.add(String.join(", ", moeKeys) + " (" + denseWhy + ": a dense run sends no tokens to experts)");
    }
    if (parts.isEmpty()) {
      return null;
    }
    boolean one = fp8Why == null ? moeKeys.size() == 1 : moeKeys.isEmpty();
    return "note: " + file + " gives " + (one ? "a key that changes" : "keys that change")
        + " nothing here, ignored: " + String.join(" and ", parts) + "; " + outcome + " the same without "
        + (one ? "it" : "them") + " (docs/reference.md)";
  }

  /** Why {@code moe_dispatch_datatype} cannot go with the allgather dispatcher. */
  static final String ALLGATHER_DISPATCH_DATATYPE_RULE =
      "applies to the alltoall and flex dispatchers only (moe_dispatcher is \"allgather\")";

  /**
   * An execution in the Calculon-MoE format (33 keys, {@code activation_function} optional) or the
   * original Calculon format (23 keys, read as a dense run with one expert). Types are strict and
   * {@link #check} is applied.
   */
  public static Execution read(JsonNode node, String file) throws ConfigError {
    return read(node, file, note -> { });
  }

  /**
   * The execution as the file gives it, every key's value checked (types, names, ranges), with
   * the keys that change nothing for its run ({@link #withoutIgnoredKeys}) still in it and
   * {@link #check} not yet applied.
   */
  private static Execution readGiven(JsonNode node, String file) throws ConfigError {
    JsonFields j = new JsonFields(file);
    j.object(node, "", "an execution file");
    FileKind.check(node, file, FileKind.EXECUTION);
    j.noUnknownKeys(node, "", EXECUTION_KEYS, null);

    boolean fork = false;
    for (String k : MOE_EXECUTION_KEYS) {
      fork |= node.has(k);
    }
    List<String> missing = new ArrayList<>();
    for (String k : ORIGINAL_EXECUTION_KEYS) {
      if (!node.has(k)) {
        missing.add(k);
      }
    }
    List<String> missingMoe = new ArrayList<>();
    if (fork) {
      for (String k : MOE_EXECUTION_KEYS) {
        if (!k.equals("activation_function") && !node.has(k)) {
          missingMoe.add(k);
        }
      }
    }
    if (!missing.isEmpty()) {
      throw j.error(missing.get(0), "missing" + (missing.size() > 1
          ? " (also missing: " + String.join(", ", missing.subList(1, missing.size())) + ")" : ""));
    }
    if (!missingMoe.isEmpty()) {
      throw j.error(missingMoe.get(0), "missing (the file has some Calculon-MoE keys, so it needs all "
          + "of them; missing: " + String.join(", ", missingMoe) + "; an original Calculon file has none)");
    }

    int numProcs = j.intKey(node, "num_procs");
    int tp = j.intKey(node, "tensor_par");
    int pp = j.intKey(node, "pipeline_par");
    int dp = j.intKey(node, "data_par");
    int tpNet = j.intKey(node, "tensor_par_net");
    int ppNet = j.intKey(node, "pipeline_par_net");
    int dpNet = j.intKey(node, "data_par_net");
    int batch = j.intKey(node, "batch_size");
    int mbs = j.intKey(node, "microbatch_size");
    int experts = fork ? j.intKey(node, "num_experts") : 1;
    int topK = fork ? j.intKey(node, "top_k_experts") : 1;
    int ep = fork ? j.intKey(node, "expert_par") : 1;
    int es = fork ? j.intKey(node, "expert_slice") : 1;
    int dpe = fork ? j.intKey(node, "data_par_exp") : 1;
    int dpeNet = fork ? j.intKey(node, "data_par_exp_net") : 0;
    int epNet = fork ? j.intKey(node, "expert_par_net") : 0;
    int esNet = fork ? j.intKey(node, "expert_slice_net") : 0;
    Datatype datatype = j.enumKey(node, "datatype", Datatype.values(), x -> x.jsonName);
    boolean fused = j.boolKey(node, "fused_activation");
    AttentionType attn = j.enumKey(node, "attention_type", AttentionType.values(), x -> x.jsonName);
    Recompute recompute = j.enumKey(node, "activation_recompute", Recompute.values(), x -> x.jsonName);
    int interleaving = j.intKey(node, "pipeline_interleaving");
    boolean optSharding = j.boolKey(node, "optimizer_sharding");
    TpCommType comm = j.enumKey(node, "tensor_par_comm_type", TpCommType.values(), x -> x.jsonName);
    TpOverlap overlap = j.enumKey(node, "tensor_par_overlap", TpOverlap.values(), x -> x.jsonName);
    boolean redo = j.boolKey(node, "seq_par_ag_redo");
    boolean dpOverlap = j.boolKey(node, "data_par_overlap");
    boolean weightOffload = j.boolKey(node, "weight_offload");
    boolean actOffload = j.boolKey(node, "activations_offload");
    boolean optOffload = j.boolKey(node, "optimizer_offload");
    boolean training = j.boolKey(node, "training");
    boolean moe = fork && j.boolKey(node, "model_MoE");
    ActivationFunction act = ActivationFunction.GELU;
    JsonNode actNode = node.get("activation_function");
    if (actNode != null && !actNode.isNull()) {
      act = j.enumKey(node, "activation_function", ActivationFunction.values(), x -> x.jsonName);
    }

    Datatype[] storage = new Datatype[Precision.KEYS.length];
    for (int i = 0; i < storage.length; i++) {
      if (node.has(Precision.KEYS[i])) {
        storage[i] = j.enumKey(node, Precision.KEYS[i], Datatype.values(), x -> x.jsonName);
      }
    }
    Fp8Recipe recipe = null;
    if (node.has(Precision.FP8_RECIPE_KEY)) {
      // a recipe name is checked whatever the datatype; on a run that is not float8 the key
      // changes nothing and is dropped with a note (withoutIgnoredKeys, ignoredKeysNote)
      recipe = j.enumKey(node, Precision.FP8_RECIPE_KEY, Fp8Recipe.values(), x -> x.jsonName);
    }
    Precision precision = new Precision(storage[0], storage[1], storage[2], storage[3], storage[4], recipe);
    ScheduleOptions schedule = readScheduleOptions(j, node);

    LayerOptions layerOptions = layerOptions(j, node, recompute);
    ParallelOptions parallel = readParallelOptions(j, node, optSharding);

    Execution exe = new Execution(numProcs, tp, pp, dp, tpNet, ppNet, dpNet, batch, mbs, experts,
        topK, ep, es, dpe, dpeNet, epNet, esNet, datatype, fused, attn, recompute, interleaving,
        optSharding, comm, overlap, redo, dpOverlap, weightOffload, actOffload, optOffload, training,
        moe, act, precision, parallel, layerOptions, schedule);
    return exe;
  }

  /**
   * The optional keys {@code flash_attention} (boolean) and {@code recompute_modules} (a list of
   * distinct Megatron-Core module names; none with full recompute, which recomputes everything).
   */
  private static LayerOptions layerOptions(JsonFields j, JsonNode node, Recompute recompute) throws ConfigError {
    Boolean flash = null;
    if (node.has("flash_attention")) {
      flash = j.bool(node.get("flash_attention"), "flash_attention");
    }
    Set<RecomputeModule> modules = new LinkedHashSet<>();
    if (node.has("recompute_modules")) {
      JsonNode list = j.array(node.get("recompute_modules"), "recompute_modules");
      for (int i = 0; i < list.size(); i++) {
        String path = index("recompute_modules", i);
        RecomputeModule m = j.enumValue(list.get(i), path, RecomputeModule.values(), x -> x.jsonName);
        if (!modules.add(m)) {
          throw j.error(path, "\"" + m.jsonName + "\" is listed twice");
        }
      }
      if (modules.contains(RecomputeModule.OP_SAC)
          && modules.stream().anyMatch(m -> m != RecomputeModule.OP_SAC && m != RecomputeModule.LAYERNORM)) {
        throw j.error("recompute_modules", "\"op_sac\" (TorchTitan's per-op policy, which decides for every "
            + "module of the block) can only be listed with \"layernorm\"");
      }
      if (!modules.isEmpty() && recompute == Recompute.FULL) {
        throw j.error("recompute_modules", "must be empty with activation_recompute \"full\" "
            + "(full recompute already recomputes every module)");
      }
    }
    String kernel = null;
    if (node.has("attention_kernel")) {
      // no list of choices here: the kernels are the system file's (RunChecks.check names them)
      kernel = j.string(node.get("attention_kernel"), "attention_kernel", null);
      if (kernel.isEmpty()) {
        throw j.error("attention_kernel", "must name a kernel of the system's attention_kernels, got \"\"");
      }
      if (Boolean.FALSE.equals(flash)) {
        throw j.error("attention_kernel", "needs flash_attention (it is false): the kernel is the fused attention's");
      }
    }
    boolean repeatKv = node.has("repeat_kv") && j.bool(node.get("repeat_kv"), "repeat_kv");
    boolean eager = false;
    if (node.has("elementwise_kernels")) {
      eager = j.oneOf(node.get("elementwise_kernels"), "elementwise_kernels", List.of("fused", "eager")).equals("eager");
    }
    LossKernel loss = null;
    if (node.has("loss_kernel")) {
      loss = j.enumKey(node, "loss_kernel", LossKernel.values(), x -> x.jsonName);
    }
    ContextParallelImpl cpImpl = null;
    if (node.has("context_par_impl")) {
      cpImpl = j.enumKey(node, "context_par_impl", ContextParallelImpl.values(), x -> x.jsonName);
    }
    FsdpImpl fsdpImpl = null;
    if (node.has("fsdp_impl")) {
      fsdpImpl = j.enumKey(node, "fsdp_impl", FsdpImpl.values(), x -> x.jsonName);
    }
    OptimizerKernel optimizerKernel = null;
    if (node.has("optimizer_kernel")) {
      optimizerKernel = j.enumKey(node, "optimizer_kernel", OptimizerKernel.values(), x -> x.jsonName);
    }
    RecomputeMethod method = null;
    if (node.has("recompute_method")) {
      method = j.enumKey(node, "recompute_method", RecomputeMethod.values(), x -> x.jsonName);
    }
    int numLayers = 0;
    if (node.has("recompute_num_layers")) {
      numLayers = j.intKey(node, "recompute_num_layers");
      positive(j, "recompute_num_layers", numLayers);
    }
    if ((method != null || numLayers > 0) && recompute != Recompute.FULL) {
      // Megatron-Core: the method and N are full recompute's (TransformerConfig.__post_init__ in
      // megatron/core/transformer/transformer_config.py: selective granularity needs
      // recompute_num_layers None; full needs a method and N)
      throw j.error(method != null ? "recompute_method" : "recompute_num_layers",
          "needs activation_recompute \"full\" (it says how full recompute divides a pipeline chunk's blocks), got \""
              + recompute.jsonName + "\"");
    }
    return new LayerOptions(flash, modules, kernel, repeatKv, eager, loss, cpImpl, fsdpImpl, method, numLayers,
        optimizerKernel);
  }

  /** The optional keys of {@link ParallelOptions}; absent ones keep Calculon's behaviour. */
  private static ParallelOptions readParallelOptions(JsonFields j, JsonNode node, boolean optSharding)
      throws ConfigError {
    ParallelOptions d = ParallelOptions.defaults(optSharding);
    boolean zeroGiven = node.has("zero_stage");
    int zero = zeroGiven ? j.intKey(node, "zero_stage") : d.zeroStage();
    int cp = node.has("context_par") ? j.intKey(node, "context_par") : d.contextPar();
    int cpNet = node.has("context_par_net") ? j.intKey(node, "context_par_net") : d.contextParNet();
    CpCommType cpComm = node.has("context_par_comm_type")
        ? j.enumKey(node, "context_par_comm_type", CpCommType.values(), x -> x.jsonName)
        : d.contextParCommType();
    int first = 0, last = 0;
    if (node.has("blocks_in_first_stage")) {
      first = j.intKey(node, "blocks_in_first_stage");
      positive(j, "blocks_in_first_stage", first);
    }
    if (node.has("blocks_in_last_stage")) {
      last = j.intKey(node, "blocks_in_last_stage");
      positive(j, "blocks_in_last_stage", last);
    }
    return new ParallelOptions(zero, zeroGiven, cp, cpNet, cpComm, first, last);
  }

  /** The optional keys of {@link ScheduleOptions}; absent ones keep Calculon's behaviour. */
  private static ScheduleOptions readScheduleOptions(JsonFields j, JsonNode node) throws ConfigError {
    PipelineScheduleKind schedule = node.has("pipeline_schedule")
        ? j.enumKey(node, "pipeline_schedule", PipelineScheduleKind.values(), x -> x.jsonName)
        : null;
    MoeDispatcher dispatcher = node.has("moe_dispatcher")
        ? j.enumKey(node, "moe_dispatcher", MoeDispatcher.values(), x -> x.jsonName)
        : null;
    Boolean overlap = node.has("moe_a2a_overlap") ? j.boolKey(node, "moe_a2a_overlap") : null;
    int domains = 0;
    if (node.has("moe_max_domains_per_token")) {
      domains = j.intKey(node, "moe_max_domains_per_token");
      positive(j, "moe_max_domains_per_token", domains);
    }
    Datatype dispatch = node.has("moe_dispatch_datatype")
        ? j.enumKey(node, "moe_dispatch_datatype", Datatype.values(), x -> x.jsonName)
        : null;
    Boolean p2pOverlap = node.has("pipeline_p2p_overlap") ? j.boolKey(node, "pipeline_p2p_overlap") : null;
    return new ScheduleOptions(schedule, dispatcher, overlap, domains, dispatch, p2pOverlap);
  }

  /**
   * Rules of {@code pipeline_schedule}: the chunks per stage each schedule runs, and DualPipe's
   * preconditions (deepseek-ai/DualPipe {@code dualpipe.py} / {@code dualpipev.py} {@code step}:
   * an even number of ranks, an even number of microbatches, at least two per rank).
   */
  static void checkScheduleOptions(JsonFields j, Execution e) throws ConfigError {
    if (e.scheduleOptions() == null) {
      throw j.error("", "schedule options are null");
    }
    ScheduleOptions o = e.scheduleOptions();
    if (o.anyMoeKey() && !e.modelMoE()) {
      String key = o.moeDispatcher() != null ? "moe_dispatcher" : o.moeA2aOverlap() != null ? "moe_a2a_overlap"
          : o.moeMaxDomainsPerToken() != 0 ? "moe_max_domains_per_token" : "moe_dispatch_datatype";
      throw j.error(key, "needs a MoE run (model_MoE true)");
    }
    if (o.moeMaxDomainsPerToken() < 0) {
      throw j.error("moe_max_domains_per_token", "must be a positive integer, got " + o.moeMaxDomainsPerToken());
    }
    if (o.dispatcher() == MoeDispatcher.ALLGATHER && o.moeDispatchDatatype() != null) {
      throw j.error("moe_dispatch_datatype", ALLGATHER_DISPATCH_DATATYPE_RULE);
    }
    PipelineScheduleKind s = o.pipelineSchedule();
    if (s == null) {
      return;
    }
    String why = s.violation(e.pipelineInterleaving(), e.pipelinePar(), e.numMicrobatches());
    if (why != null) {
      throw j.error("pipeline_schedule", why);
    }
  }

  /**
   * The rules a single execution must satisfy (the reference's constructor asserts, plus the
   * parallelism products its {@code compile} asserts). {@code file} names the execution in
   * messages; fields are named by their JSON keys.
   */
  public static void check(Execution e, String file) throws ConfigError {
    check(e, file, false);
  }

  /**
   * {@link #check(Execution, String)}; with {@code processCount} true (every run but a Calculon-MoE
   * parity run) the processors must also be the run's groups, {@link #checkProcessCount}, and that
   * rule comes before the batch's: the original Calculon asserts num_procs == TP*PP*DP
   * ({@code llm.py:90-91}) before batch_size % DP ({@code :96-101}), and a data_par that does not
   * fit the processors is the mistake to name first (the batch rule would name the batch instead).
   */
  public static void check(Execution e, String file, boolean processCount) throws ConfigError {
    JsonFields j = new JsonFields(file);
    positive(j, "num_procs", e.numProcs());
    positive(j, "tensor_par", e.tensorPar());
    positive(j, "pipeline_par", e.pipelinePar());
    positive(j, "data_par", e.dataPar());
    positive(j, "expert_par", e.expertPar());
    positive(j, "expert_slice", e.expertSlice());
    positive(j, "data_par_exp", e.dataParExp());
    if (e.parallel() != null) {
      // before the rules that multiply DP by CP (optimizer sharding, DP overlap), so that a bad CP
      // degree is named as such
      positive(j, "context_par", e.contextPar());
    }
    positive(j, "batch_size", e.batchSize());
    positive(j, "microbatch_size", e.microbatchSize());
    positive(j, "num_experts", e.numExperts());
    positive(j, "top_k_experts", e.topKExperts());
    positive(j, "pipeline_interleaving", e.pipelineInterleaving());
    nonNegative(j, "tensor_par_net", e.tensorParNet());
    nonNegative(j, "pipeline_par_net", e.pipelineParNet());
    nonNegative(j, "data_par_net", e.dataParNet());
    nonNegative(j, "data_par_exp_net", e.dataParExpNet());
    nonNegative(j, "expert_par_net", e.expertParNet());
    nonNegative(j, "expert_slice_net", e.expertSliceNet());
    if (e.datatype() == null) {
      throw j.error("datatype", "missing");
    }
    if (e.attentionType() == null || e.activationRecompute() == null || e.tensorParCommType() == null
        || e.tensorParOverlap() == null || e.activationFunction() == null) {
      throw j.error("", "an enumerated field is null");
    }
    if (processCount && e.parallel() != null) {
      positive(j, "context_par", e.contextPar());
      checkProcessCount(e, file);
    }
    if (e.batchSize() % e.dataPar() != 0) {
      throw j.error("batch_size", "must be divisible by data_par (" + e.dataPar() + "), got " + e.batchSize());
    }
    int local = e.batchSize() / e.dataPar();
    if (local % e.microbatchSize() != 0) {
      throw j.error("microbatch_size", "must divide the local batch batch_size/data_par = "
          + e.batchSize() + "/" + e.dataPar() + " = " + local + ", got " + e.microbatchSize());
    }
    if (e.activationRecompute() != Recompute.NONE && !e.training()) {
      throw j.error("activation_recompute", "\"" + e.activationRecompute().jsonName
          + "\" needs training = true (recompute only happens in training)");
    }
    if (e.activationsOffload() && e.activationRecompute() == Recompute.FULL
        && e.layerOptions().recomputeMethod() == RecomputeMethod.UNIFORM && e.layerOptions().recomputeNumLayers() > 1) {
      // Calculon's activation offload moves whole blocks' stored activations or checkpoints; a group
      // of blocks recomputed from one checkpoint is not modelled (Megatron-Core refuses CPU
      // offloading with any recompute, TransformerConfig.__post_init__). recompute_method block is
      // checked against the model's blocks (RunChecks.checkBlockRecomputeOffload): where it
      // recomputes every block it is plain full recompute, which offloads
      throw j.error("recompute_num_layers", "cannot be combined with activations_offload (offloading a "
          + "group of blocks recomputed from one checkpoint is not modelled); use recompute_num_layers 1 or turn "
          + "activations_offload off, got " + e.layerOptions().recomputeNumLayers());
    }
    if (e.pipelinePar() == 1 && e.pipelineInterleaving() != 1) {
      throw j.error("pipeline_interleaving", "must be 1 when pipeline_par is 1, got " + e.pipelineInterleaving());
    }
    if (e.optimizerSharding() && (long) e.dataPar() * e.contextPar() <= 1) {
      // sharding splits state among the ranks that replicate the weights: DP x CP
      throw j.error("optimizer_sharding", "needs data_par > 1 (data_par is " + e.dataPar() + ")");
    }
    if (e.tensorParOverlap() != TpOverlap.NONE && e.tensorPar() <= 1) {
      throw j.error("tensor_par_overlap", "\"" + e.tensorParOverlap().jsonName
          + "\" needs tensor_par > 1 (tensor_par is " + e.tensorPar() + ")");
    }
    // Megatron-LM: "Tensor parallel communication/GEMM overlap can happen only when sequence
    // parallelism is enabled" (megatron/training/arguments.py, --tp-comm-overlap)
    if (e.tensorParOverlap() == TpOverlap.USERBUFFERS && e.effectiveTpCommType() != TpCommType.RS_AG) {
      throw j.error("tensor_par_overlap", "\"userbuffers\" needs sequence parallelism (tensor_par_comm_type \"rs_ag\"), got \""
          + e.tensorParCommType().jsonName + "\"");
    }
    if (e.seqParAgRedo()) {
      if (e.effectiveTpCommType() != TpCommType.RS_AG) {
        throw j.error("seq_par_ag_redo", "needs tensor_par_comm_type \"rs_ag\" (sequence parallelism), got \""
            + e.tensorParCommType().jsonName + "\"" + (e.modelMoE() ? " with tensor_par 1" : ""));
      }
      if (e.activationRecompute() == Recompute.FULL) {
        throw j.error("seq_par_ag_redo", "cannot be combined with activation_recompute \"full\"");
      }
    }
    if (e.dataParOverlap()) {
      if (!e.training()) {
        throw j.error("data_par_overlap", "needs training = true");
      }
      if ((long) e.dataPar() * e.contextPar() <= 1) {
        // gradients are reduced over the ranks that replicate the weights: DP x CP (as the optimizer sharding above)
        throw j.error("data_par_overlap", "needs data_par > 1 or context_par > 1 (data_par is " + e.dataPar() + ", context_par " + e.contextPar() + ")");
      }
    }
    if (e.optimizerOffload() && !e.training()) {
      throw j.error("optimizer_offload", "needs training = true");
    }
    if (e.expertPar() > e.numExperts()) {
      throw j.error("expert_par", "cannot exceed num_experts (" + e.numExperts() + "), got " + e.expertPar());
    }
    if (e.numExperts() % e.expertPar() != 0) {
      throw j.error("expert_par", "must divide num_experts (" + e.numExperts() + "), got " + e.expertPar());
    }
    if (!e.modelMoE()) {
      if (e.expertPar() != 1) {
        throw j.error("expert_par", "must be 1 when model_MoE is false, got " + e.expertPar());
      }
      if (e.expertSlice() != 1) {
        throw j.error("expert_slice", "must be 1 when model_MoE is false, got " + e.expertSlice());
      }
    } else {
      if (e.topKExperts() > e.numExperts()) {
        throw j.error("top_k_experts", "cannot exceed num_experts (" + e.numExperts() + ") in a MoE run, got "
            + e.topKExperts());
      }
      long moeProduct = (long) e.expertPar() * e.expertSlice() * e.pipelinePar() * e.dataParExp();
      if (moeProduct != e.numProcs()) {
        throw j.error("num_procs", "must equal expert_par*expert_slice*pipeline_par*data_par_exp = "
            + e.expertPar() + "*" + e.expertSlice() + "*" + e.pipelinePar() + "*" + e.dataParExp() + " = "
            + moeProduct + " in a MoE run, got " + e.numProcs());
      }
      long denseProduct = (long) e.tensorPar() * e.contextPar() * e.pipelinePar() * e.dataPar();
      if (denseProduct != e.numProcs()) {
        String cp = e.contextPar() > 1 ? "context_par*" : "";
        String cpValue = e.contextPar() > 1 ? e.contextPar() + "*" : "";
        throw j.error("num_procs", "must equal tensor_par*" + cp + "pipeline_par*data_par = "
            + e.tensorPar() + "*" + cpValue + e.pipelinePar() + "*" + e.dataPar() + " = " + denseProduct
            + " in a MoE run, got " + e.numProcs());
      }
    }
    checkParallelOptions(j, e);
    checkScheduleOptions(j, e);
    // Dense runs: Calculon-MoE dropped the original's num_procs == TP*PP*DP check and a golden
    // case it accepts (hand-dense-numprocs-mismatch) violates it, so it is not enforced here but
    // in checkProcessCount, which RunChecks.check applies except in a Calculon-MoE parity run.
  }

  /**
   * A run's processors are its groups: num_procs = tensor_par*pipeline_par*data_par (the original
   * Calculon's assert, llm.py:90-91), times context_par where CP &gt; 1 (Megatron-Core's world size
   * TP x CP x PP x DP, parallel_state.initialize_model_parallel). A MoE run is held to it by
   * {@link #check} in every model version, a dense run outside a Calculon-MoE parity run only.
   */
  public static void checkProcessCount(Execution e, String file) throws ConfigError {
    if (e.contextPar() > 1) {
      // tensor_par*context_par*pipeline_par*data_par, as checkParallelOptions words it
      long product = (long) e.tensorPar() * e.contextPar() * e.pipelinePar() * e.dataPar();
      if (product != e.numProcs()) {
        throw new JsonFields(file).error("num_procs", "must equal tensor_par*context_par*pipeline_par*data_par = "
            + e.tensorPar() + "*" + e.contextPar() + "*" + e.pipelinePar() + "*" + e.dataPar() + " = "
            + product + ", got " + e.numProcs());
      }
      return;
    }
    long product = (long) e.tensorPar() * e.pipelinePar() * e.dataPar();
    if (product != e.numProcs()) {
      throw new JsonFields(file).error("num_procs", "must equal tensor_par*pipeline_par*data_par = "
          + e.tensorPar() + "*" + e.pipelinePar() + "*" + e.dataPar() + " = " + product + ", got " + e.numProcs());
    }
  }

  /**
   * Why {@code context_par_comm_type: a2a} cannot run with {@code context_par_impl: pytorch}:
   * PyTorch's {@code context_parallel} (torch/distributed/tensor/experimental/_attention.py, torch
   * 2.6) is ring attention only; its two rotate methods ({@code _RotateMethod}) move whole K/V
   * blocks around the ring, {@code ALL_GATHER} by one all-gather ({@code _AllGatherRotater}) and
   * {@code ALL_TO_ALL} by a permute to the next rank ({@code _AllToAllRotater}:
   * {@code ft_c.permute_tensor}, this model's {@code p2p}), and nothing trades the sequence split
   * for a head split as DeepSpeed-Ulysses' all-to-alls do.
   */
  public static final String PYTORCH_A2A_RULE = "\"a2a\" (Ulysses) cannot run with context_par_impl \"pytorch\": "
      + "PyTorch's context_parallel has no head all-to-all (its alltoall rotate method passes K/V blocks "
      + "around the ring, which is p2p here); use p2p or all_gather, or context_par_impl \"transformer_engine\"";

  /** Rules of the optional {@link ParallelOptions} keys that need the execution alone. */
  private static void checkParallelOptions(JsonFields j, Execution e) throws ConfigError {
    ParallelOptions o = e.parallel();
    if (o == null) {
      throw j.error("", "parallel options are null");
    }
    int zero = o.zeroStage();
    if (zero < 0 || zero > ParallelOptions.MAX_ZERO_STAGE) {
      throw j.error("zero_stage", "must be 0, 1, 2 or 3, got " + zero);
    }
    if (o.zeroStageGiven() && e.optimizerSharding() != (zero >= 1)) {
      throw j.error("zero_stage", zero + " conflicts with optimizer_sharding " + e.optimizerSharding()
          + " (optimizer_sharding true means ZeRO stage 1 or more; set both alike)");
    }
    if (o.zeroStageGiven() && zero >= 1 && !e.training()) {
      throw j.error("zero_stage", zero + " needs training = true (it shards training state)");
    }
    positive(j, "context_par", o.contextPar());
    nonNegative(j, "context_par_net", o.contextParNet());
    if (o.contextParCommType() == null) {
      throw j.error("context_par_comm_type", "is null");
    }
    if (o.contextParCommType() == CpCommType.A2A && e.layerOptions() != null
        && e.layerOptions().givenContextParImpl() == ContextParallelImpl.PYTORCH) {
      throw j.error("context_par_comm_type", PYTORCH_A2A_RULE);
    }
    if (o.unevenStages() && e.pipelinePar() < 2) {
      throw j.error(o.blocksInFirstStage() > 0 ? "blocks_in_first_stage" : "blocks_in_last_stage",
          "needs pipeline_par > 1 (pipeline_par is " + e.pipelinePar() + ")");
    }
    if (o.contextPar() > 1) {
      long product = (long) e.tensorPar() * o.contextPar() * e.pipelinePar() * e.dataPar();
      if (product != e.numProcs()) {
        throw j.error("num_procs", "must equal tensor_par*context_par*pipeline_par*data_par = "
            + e.tensorPar() + "*" + o.contextPar() + "*" + e.pipelinePar() + "*" + e.dataPar() + " = "
            + product + ", got " + e.numProcs());
      }
    }
  }

  private static void positive(JsonFields j, String key, long v) throws ConfigError {
    if (v <= 0) {
      throw j.error(key, "must be a positive integer, got " + v);
    }
  }

  private static void nonNegative(JsonFields j, String key, long v) throws ConfigError {
    if (v < 0) {
      throw j.error(key, "must be a network tier index (0 or more), got " + v);
    }
  }
}
