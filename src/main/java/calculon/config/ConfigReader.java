package calculon.config;

import static calculon.config.JsonFields.describe;
import static calculon.config.JsonFields.fmt;
import static calculon.config.JsonFields.index;
import static calculon.config.JsonFields.join;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads and checks the three Calculon input files (model, execution, system) and the rules that
 * tie them together. Everything the Python reference would reject with an assert or a crash
 * (rather than its own {@code Llm.Error}) is a {@link ConfigError} here, with a one-line message
 * {@code <file>: <json path>: <rule>}; no Jackson or Java exception escapes.
 *
 * <p>Infeasibilities the model itself reports (pipeline interleaving not fitting the blocks per
 * processor, offload with two or fewer blocks per processor, a network tier too small or not
 * filled, memory capacity) are deliberately not checked here.
 */
public final class ConfigReader {

  private static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
      .build();

  /** The six keys of a model file. */
  public static final List<String> APPLICATION_KEYS = List.of(
      "hidden", "feedforward", "seq_size", "attn_heads", "attn_size", "num_blocks");

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

  /** Top-level keys of a system file. */
  public static final List<String> SYSTEM_KEYS =
      List.of("matrix", "vector", "mem1", "mem2", "processing_mode", "networks");

  static final Set<String> COMPUTE_KEYS = Set.of("tflops", "gflops_efficiency");
  static final Set<String> MEMORY_KEYS = Set.of("GiB", "GBps", "MB_efficiency");
  static final List<String> NETWORK_KEYS = List.of(
      "bandwidth", "efficiency", "size", "latency", "ops", "must_be_filled", "processor_usage");
  private static final List<String> COLLECTIVE_OPS = List.of("reduce_scatter", "all_gather", "all_reduce");
  private static final List<String> REQUIRED_OPS =
      List.of("p2p", "reduce_scatter", "all_gather", "all_reduce");
  static final Set<String> ALLOWED_OPS =
      new LinkedHashSet<>(List.of("p2p", "reduce_scatter", "all_gather", "all_reduce", "all_to_all"));

  /**
   * Physical ranges of system values, six or more orders of magnitude beyond any shipped system
   * (1e-6 TFLOP/s is a megaflop per second, 1e9 TFLOP/s a zettaflop per second). Outside them the
   * model's sums of times overflow to infinity or underflow to zero, so they are rejected here.
   */
  static final double MIN_RATE = 1e-6;
  static final double MAX_RATE = 1e9;
  /** Smallest efficiency (curves, tiers, ops): below it a time overflows as surely as with a zero rate. */
  static final double MIN_EFFICIENCY = 1e-6;
  /** Largest op scalar and offset: bytes on the wire per byte sent. */
  static final double MAX_OP_FACTOR = 1e6;
  /** Largest network latency, seconds. */
  static final double MAX_LATENCY_SECONDS = 1e3;
  /**
   * Largest element count of one tensor of one microbatch (2^53: beyond it element counts are no
   * longer exact in a double, and the block builder's long products can wrap around).
   */
  static final double MAX_TENSOR_ELEMENTS = 0x1p53;

  private ConfigReader() {}

  // ------------------------------------------------------------------------------------------
  // Files

  /**
   * Parses a {@code .json} or {@code .json.gz} file. Missing or unreadable files, directories,
   * broken gzip and invalid JSON (with line and column) are all {@link ConfigError}s.
   */
  public static JsonNode readJson(Path file) throws ConfigError {
    String name = file.toString();
    String fileName = file.getFileName() == null ? name : file.getFileName().toString();
    boolean gz = fileName.endsWith(".json.gz");
    if (Files.isDirectory(file)) {
      throw new ConfigError(name, null, "is a directory, not a file");
    }
    if (!gz && !fileName.endsWith(".json")) {
      throw new ConfigError(name, null, "must be a .json or .json.gz file");
    }
    if (!Files.exists(file)) {
      throw new ConfigError(name, null, "file not found");
    }
    if (!Files.isRegularFile(file)) {
      throw new ConfigError(name, null, "is not a regular file");
    }
    try (InputStream raw = Files.newInputStream(file);
         InputStream in = gz ? new GZIPInputStream(raw) : raw) {
      JsonNode node = MAPPER.readTree(in);
      if (node == null || node.isMissingNode()) {
        throw new ConfigError(name, null, "is empty (expected a JSON object)");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw parseError(name, e);
    } catch (NoSuchFileException e) {
      throw new ConfigError(name, null, "file not found");
    } catch (AccessDeniedException e) {
      throw new ConfigError(name, null, "cannot be read: permission denied");
    } catch (ZipException e) {
      throw new ConfigError(name, null, "is not a valid gzip file (" + JsonFields.oneLine(String.valueOf(e.getMessage())) + ")");
    } catch (EOFException e) {
      throw new ConfigError(name, null, gz ? "is a truncated gzip file" : "ends unexpectedly");
    } catch (IOException | RuntimeException e) {
      throw new ConfigError(name, null, "cannot be read: " + JsonFields.oneLine(String.valueOf(e.getMessage())));
    }
  }

  private static ConfigError parseError(String name, JsonProcessingException e) {
    String msg = e.getOriginalMessage() == null ? e.getClass().getSimpleName() : e.getOriginalMessage();
    msg = JsonFields.oneLine(msg);
    // Jackson appends "(start marker at [Source: ...; line: 1, column: 1])"; keep it short.
    msg = msg.replaceAll("\\[Source: [^;\\]]*; ", "[");
    // Drop Jackson's advice on enabling parser features: the format is plain JSON.
    msg = msg.replaceAll(":? ?enable `[^`]*` to allow", "");
    if (msg.length() > 200) {
      msg = msg.substring(0, 197) + "...";
    }
    JsonLocation loc = e.getLocation();
    String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
    return new ConfigError(name, null, "invalid JSON" + where + ": " + msg);
  }

  /** Base name without {@code .json}/{@code .json.gz} and without directories. */
  static String baseName(String displayName) {
    String n = displayName;
    int slash = Math.max(n.lastIndexOf('/'), n.lastIndexOf('\\'));
    if (slash >= 0) {
      n = n.substring(slash + 1);
    }
    if (n.endsWith(".json.gz")) {
      n = n.substring(0, n.length() - ".json.gz".length());
    } else if (n.endsWith(".json")) {
      n = n.substring(0, n.length() - ".json".length());
    }
    return n;
  }

  // ------------------------------------------------------------------------------------------
  // Application

  public static Application readApplication(Path file) throws ConfigError {
    return readApplication(readJson(file), file.toString());
  }

  /**
   * A model: the six keys as positive integers, and the optional architecture keys
   * ({@link ModelArchitectureReader}). Unknown keys are rejected with the closest known name, as in
   * execution and system files (the reference ignores them; a misspelt key silently changing the
   * model is worse than a refusal). {@code name} is the base name of {@code file}.
   */
  public static Application readApplication(JsonNode node, String file) throws ConfigError {
    JsonFields j = new JsonFields(file);
    j.object(node, "", "a model file");
    Set<String> known = new LinkedHashSet<>(APPLICATION_KEYS);
    known.addAll(ModelArchitectureReader.OPTIONAL_KEYS);
    j.noUnknownKeys(node, "", known, "a model file has " + String.join(", ", known));
    long[] v = new long[APPLICATION_KEYS.size()];
    for (int i = 0; i < v.length; i++) {
      String key = APPLICATION_KEYS.get(i);
      JsonNode x = j.member(node, "", key, "a model file needs " + String.join(", ", APPLICATION_KEYS));
      if (!x.isIntegralNumber() || !x.canConvertToLong() || x.longValue() <= 0) {
        throw j.error(key, "must be a positive integer, got " + describe(x));
      }
      v[i] = x.longValue();
    }
    if (v[5] > Integer.MAX_VALUE) {
      // blocks per processor and pipeline chunks are counted in ints
      throw j.error("num_blocks", "is too large (at most " + Integer.MAX_VALUE + "), got " + v[5]);
    }
    Architecture arch = ModelArchitectureReader.read(j, node, v[0], v[1], v[3], v[5]);
    return new Application(baseName(file), v[0], v[1], v[2], v[3], v[4], v[5], arch);
  }

  // ------------------------------------------------------------------------------------------
  // Execution

  public static Execution readExecution(Path file) throws ConfigError {
    return readExecution(readJson(file), file.toString());
  }

  /**
   * An execution in the Calculon-MoE format (33 keys, {@code activation_function} optional) or the
   * original Calculon format (23 keys, read as a dense run with one expert). Types are strict and
   * {@link #checkExecution} is applied.
   */
  public static Execution readExecution(JsonNode node, String file) throws ConfigError {
    JsonFields j = new JsonFields(file);
    j.object(node, "", "an execution file");
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
    Datatype datatype = enumValue(j, node, "datatype", Datatype.values(), Datatype::fromJson, x -> x.jsonName);
    boolean fused = j.boolKey(node, "fused_activation");
    AttentionType attn = enumValue(j, node, "attention_type", AttentionType.values(), AttentionType::fromJson, x -> x.jsonName);
    Recompute recompute = enumValue(j, node, "activation_recompute", Recompute.values(), Recompute::fromJson, x -> x.jsonName);
    int interleaving = j.intKey(node, "pipeline_interleaving");
    boolean optSharding = j.boolKey(node, "optimizer_sharding");
    TpCommType comm = enumValue(j, node, "tensor_par_comm_type", TpCommType.values(), TpCommType::fromJson, x -> x.jsonName);
    TpOverlap overlap = enumValue(j, node, "tensor_par_overlap", TpOverlap.values(), TpOverlap::fromJson, x -> x.jsonName);
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
      act = enumValue(j, node, "activation_function", ActivationFunction.values(), ActivationFunction::fromJson, x -> x.jsonName);
    }

    Datatype[] storage = new Datatype[Precision.KEYS.length];
    for (int i = 0; i < storage.length; i++) {
      if (node.has(Precision.KEYS[i])) {
        storage[i] = enumValue(j, node, Precision.KEYS[i], Datatype.values(), Datatype::fromJson, x -> x.jsonName);
      }
    }
    Fp8Recipe recipe = null;
    if (node.has(Precision.FP8_RECIPE_KEY)) {
      recipe = enumValue(j, node, Precision.FP8_RECIPE_KEY, Fp8Recipe.values(), Fp8Recipe::fromJson, x -> x.jsonName);
      if (datatype != Datatype.FLOAT8) {
        throw j.error(Precision.FP8_RECIPE_KEY, "applies to float8 runs only (datatype is \"" + datatype.jsonName + "\")");
      }
    }
    Precision precision = new Precision(storage[0], storage[1], storage[2], storage[3], storage[4], recipe);
    ScheduleOptions schedule = readScheduleOptions(j, node);

    LayerOptions layerOptions = layerOptions(j, node, recompute);
    ParallelOptions parallel = readParallelOptions(j, node, optSharding);

    Execution exe = new Execution(numProcs, tp, pp, dp, tpNet, ppNet, dpNet, batch, mbs, experts,
        topK, ep, es, dpe, dpeNet, epNet, esNet, datatype, fused, attn, recompute, interleaving,
        optSharding, comm, overlap, redo, dpOverlap, weightOffload, actOffload, optOffload, training,
        moe, act, precision, parallel, layerOptions, schedule);
    checkExecution(exe, file);
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
      List<String> names = new ArrayList<>();
      for (RecomputeModule m : RecomputeModule.values()) {
        names.add(m.jsonName);
      }
      String choices = String.join(", ", names);
      for (int i = 0; i < list.size(); i++) {
        String path = index("recompute_modules", i);
        RecomputeModule m = RecomputeModule.fromJson(j.string(list.get(i), path, choices));
        if (m == null) {
          throw j.error(path, "must be one of " + choices + ", got " + describe(list.get(i)));
        }
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
      // no list of choices here: the kernels are the system file's (checkRun names them)
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
      String k = j.string(node.get("elementwise_kernels"), "elementwise_kernels", "fused, eager");
      if (!k.equals("fused") && !k.equals("eager")) {
        throw j.error("elementwise_kernels", "must be \"fused\" or \"eager\", got \"" + k + "\"");
      }
      eager = k.equals("eager");
    }
    LossKernel loss = null;
    if (node.has("loss_kernel")) {
      String k = j.string(node.get("loss_kernel"), "loss_kernel", LossKernel.CHOICES);
      loss = LossKernel.fromJson(k);
      if (loss == null) {
        throw j.error("loss_kernel", "must be one of " + LossKernel.CHOICES + ", got \"" + k + "\"");
      }
    }
    return new LayerOptions(flash, modules, kernel, repeatKv, eager, loss);
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
        ? enumValue(j, node, "context_par_comm_type", CpCommType.values(), CpCommType::fromJson, x -> x.jsonName)
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
        ? enumValue(j, node, "pipeline_schedule", PipelineScheduleKind.values(), PipelineScheduleKind::fromJson,
            x -> x.jsonName)
        : null;
    MoeDispatcher dispatcher = node.has("moe_dispatcher")
        ? enumValue(j, node, "moe_dispatcher", MoeDispatcher.values(), MoeDispatcher::fromJson, x -> x.jsonName)
        : null;
    Boolean overlap = node.has("moe_a2a_overlap") ? j.boolKey(node, "moe_a2a_overlap") : null;
    int domains = 0;
    if (node.has("moe_max_domains_per_token")) {
      domains = j.intKey(node, "moe_max_domains_per_token");
      positive(j, "moe_max_domains_per_token", domains);
    }
    Datatype dispatch = node.has("moe_dispatch_datatype")
        ? enumValue(j, node, "moe_dispatch_datatype", Datatype.values(), Datatype::fromJson, x -> x.jsonName)
        : null;
    return new ScheduleOptions(schedule, dispatcher, overlap, domains, dispatch);
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
      throw j.error("moe_dispatch_datatype", "applies to the alltoall and flex dispatchers only (moe_dispatcher is \"allgather\")");
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

  private static <E extends Enum<E>> E enumValue(JsonFields j, JsonNode obj, String key, E[] all,
                                                  Function<String, E> lookup, Function<E, String> nameOf)
      throws ConfigError {
    List<String> names = new ArrayList<>();
    for (E e : all) {
      names.add("\"" + nameOf.apply(e) + "\"");
    }
    String choices = String.join(", ", names);
    String s = j.string(obj.get(key), key, choices);
    E e = lookup.apply(s);
    if (e == null) {
      throw j.error(key, "must be one of " + choices + ", got " + describe(obj.get(key)));
    }
    return e;
  }

  /**
   * The rules a single execution must satisfy (the reference's constructor asserts, plus the
   * parallelism products its {@code compile} asserts). {@code file} names the execution in
   * messages; fields are named by their JSON keys.
   */
  public static void checkExecution(Execution e, String file) throws ConfigError {
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
    // in checkProcessCount, which checkRun applies except in a Calculon-MoE parity run.
  }

  /**
   * A dense run's processors are its groups: num_procs = tensor_par*pipeline_par*data_par (the
   * original Calculon's assert, llm.py:90-91; MoE runs are held to it by {@link #checkExecution}).
   */
  public static void checkProcessCount(Execution e, String file) throws ConfigError {
    if (e.contextPar() > 1) {
      return; // checkExecution holds it to tensor_par*context_par*pipeline_par*data_par
    }
    long product = (long) e.tensorPar() * e.pipelinePar() * e.dataPar();
    if (product != e.numProcs()) {
      throw new JsonFields(file).error("num_procs", "must equal tensor_par*pipeline_par*data_par = "
          + e.tensorPar() + "*" + e.pipelinePar() + "*" + e.dataPar() + " = " + product + ", got " + e.numProcs());
    }
  }

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

  // ------------------------------------------------------------------------------------------
  // System

  public static SystemSpec readSystem(Path file) throws ConfigError {
    return readSystem(readJson(file), file.toString());
  }

  /** A system: processors, memories, processing mode and network tiers (see the class comment). */
  public static SystemSpec readSystem(JsonNode node, String file) throws ConfigError {
    JsonFields j = new JsonFields(file);
    j.object(node, "", "a system file");
    String keysHint = "a system file has exactly " + String.join(", ", SYSTEM_KEYS)
        + " (and optionally " + String.join(", ", SystemEconomics.KEYS) + ", " + ATTENTION_KERNELS
        + ", " + STREAMING_MULTIPROCESSORS + ")";
    Set<String> allowed = new LinkedHashSet<>(SYSTEM_KEYS);
    allowed.addAll(SystemEconomics.KEYS);
    allowed.add(ATTENTION_KERNELS);
    allowed.add(STREAMING_MULTIPROCESSORS);
    j.noUnknownKeys(node, "", allowed, keysHint);
    for (String k : SYSTEM_KEYS) {
      j.member(node, "", k, keysHint);
    }
    Map<Datatype, SystemSpec.ComputeRate> matrix = readProcessor(j, node.get("matrix"), "matrix");
    Map<Datatype, SystemSpec.ComputeRate> vector = readProcessor(j, node.get("vector"), "vector");
    SystemSpec.MemorySpec mem1 = readMemory(j, node.get("mem1"), "mem1");
    SystemSpec.MemorySpec mem2 = readMemory(j, node.get("mem2"), "mem2");
    String modes = "\"roofline\", \"no_overlap\"";
    String modeName = j.string(node.get("processing_mode"), "processing_mode", modes);
    ProcessingMode mode = ProcessingMode.fromJson(modeName);
    if (mode == null) {
      throw j.error("processing_mode", "must be one of " + modes + ", got " + describe(node.get("processing_mode")));
    }
    JsonNode nets = j.array(node.get("networks"), "networks");
    if (nets.isEmpty()) {
      throw j.error("networks", "must list at least one network tier");
    }
    List<SystemSpec.NetworkSpec> networks = new ArrayList<>();
    for (int i = 0; i < nets.size(); i++) {
      networks.add(readNetwork(j, nets.get(i), index("networks", i)));
    }
    // price and power: optional, checked here, read by SystemEconomics.of (sweeps)
    SystemEconomics.read(j, node, networks.size());
    SystemSpec.AttentionKernels kernels = node.has(ATTENTION_KERNELS)
        ? readAttentionKernels(j, node.get(ATTENTION_KERNELS), matrix) : null;
    Integer sms = null;
    if (node.has(STREAMING_MULTIPROCESSORS)) {
      sms = j.intValue(node.get(STREAMING_MULTIPROCESSORS), STREAMING_MULTIPROCESSORS);
      if (sms < 1) {
        throw j.error(STREAMING_MULTIPROCESSORS, "must be a positive integer, got " + sms);
      }
    }
    return new SystemSpec(baseName(file), Collections.unmodifiableMap(matrix),
        Collections.unmodifiableMap(vector), mem1, mem2, mode, Collections.unmodifiableList(networks),
        kernels, sms, node);
  }

  /**
   * Optional system key: the GPU's streaming multiprocessors (an integer). Transformer Engine's
   * userbuffers overlap ({@code tensor_par_overlap: userbuffers}) takes 16 of them from the matmuls
   * beside its pipelined and bulk transfers; without the key an H100's 132 is assumed.
   */
  public static final String STREAMING_MULTIPROCESSORS = "streaming_multiprocessors";

  /**
   * SMs Transformer Engine's {@code pipeline} and {@code bulk} userbuffers overlaps give their
   * communication by default ({@code num_sm = 16}, {@code initialize_ub} in
   * {@code transformer_engine/pytorch/module/base.py}).
   */
  public static final int USERBUFFERS_COMM_SMS = 16;

  /** Optional system key: measured fused-attention kernel speeds ({@link SystemSpec.AttentionKernels}). */
  public static final String ATTENTION_KERNELS = "attention_kernels";

  /**
   * {@code "attention_kernels": {"default": NAME, "kernels": {NAME: {"fw_efficiency": [[tokens,
   * eff], ...], "bw_efficiency": [...]}, ...}}}: at least one kernel, the default among them, and a
   * 16-bit matrix rate for the efficiencies to scale.
   */
  private static SystemSpec.AttentionKernels readAttentionKernels(JsonFields j, JsonNode node,
      Map<Datatype, SystemSpec.ComputeRate> matrix) throws ConfigError {
    String p = ATTENTION_KERNELS;
    j.object(node, p, "default and kernels");
    j.noUnknownKeys(node, p, Set.of("default", "kernels"), "expected default and kernels");
    JsonNode ks = j.object(j.member(node, p, "kernels", null), join(p, "kernels"), "kernel name -> {fw_efficiency, bw_efficiency}");
    if (ks.isEmpty()) {
      throw j.error(join(p, "kernels"), "must name at least one kernel");
    }
    Map<String, SystemSpec.KernelCurves> kernels = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = ks.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> en = it.next();
      String kp = join(join(p, "kernels"), JsonFields.oneLine(en.getKey()));
      JsonNode k = j.object(en.getValue(), kp, "fw_efficiency and bw_efficiency");
      j.noUnknownKeys(k, kp, Set.of("fw_efficiency", "bw_efficiency"), "expected fw_efficiency and bw_efficiency");
      double[][] fw = readCurve(j, j.member(k, kp, "fw_efficiency", null), join(kp, "fw_efficiency"), "tokens");
      double[][] bw = readCurve(j, j.member(k, kp, "bw_efficiency", null), join(kp, "bw_efficiency"), "tokens");
      kernels.put(en.getKey(), new SystemSpec.KernelCurves(fw[0], fw[1], bw[0], bw[1]));
    }
    String def = j.string(j.member(node, p, "default", null), join(p, "default"), String.join(", ", kernels.keySet()));
    if (!kernels.containsKey(def)) {
      throw j.error(join(p, "default"), "must name one of the kernels (" + String.join(", ", kernels.keySet())
          + "), got \"" + JsonFields.oneLine(def) + "\"");
    }
    if (!matrix.containsKey(Datatype.BFLOAT16) && !matrix.containsKey(Datatype.FLOAT16)) {
      throw j.error(p, "needs matrix.bfloat16 or matrix.float16: the efficiencies are fractions of the 16-bit matrix peak");
    }
    return new SystemSpec.AttentionKernels(def, Collections.unmodifiableMap(kernels));
  }

  private static Map<Datatype, SystemSpec.ComputeRate> readProcessor(JsonFields j, JsonNode node, String path)
      throws ConfigError {
    j.object(node, path, "datatype name -> {tflops, gflops_efficiency}");
    Map<Datatype, SystemSpec.ComputeRate> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> en = it.next();
      String p = join(path, JsonFields.oneLine(en.getKey()));
      Datatype dt = Datatype.fromJson(en.getKey());
      if (dt == null) {
        throw j.error(p, "unknown datatype (known: float4, float8, float16, bfloat16, float32)");
      }
      JsonNode v = j.object(en.getValue(), p, "tflops and gflops_efficiency");
      j.noUnknownKeys(v, p, COMPUTE_KEYS, "expected tflops and gflops_efficiency");
      double tflops = j.number(j.member(v, p, "tflops", null), join(p, "tflops"));
      if (tflops < 0) {
        throw j.error(join(p, "tflops"), "must be 0 or more, got " + fmt(tflops));
      }
      if (tflops != 0) {
        inRange(j, join(p, "tflops"), tflops, MIN_RATE, MAX_RATE, "TFLOP/s");
      }
      double[][] curve = readCurve(j, j.member(v, p, "gflops_efficiency", null), join(p, "gflops_efficiency"), "gflops");
      out.put(dt, new SystemSpec.ComputeRate(tflops, curve[0], curve[1]));
    }
    return out;
  }

  /** A list of [threshold, efficiency] pairs: thresholds ≥ 0 strictly decreasing, 0 < eff ≤ 1. */
  private static double[][] readCurve(JsonFields j, JsonNode node, String path, String unit) throws ConfigError {
    j.array(node, path);
    double[] th = new double[node.size()];
    double[] eff = new double[node.size()];
    for (int i = 0; i < node.size(); i++) {
      String p = index(path, i);
      JsonNode pair = node.get(i);
      if (!pair.isArray() || pair.size() != 2) {
        throw j.error(p, "must be a [" + unit + ", efficiency] pair, got " + describe(pair));
      }
      th[i] = j.number(pair.get(0), index(p, 0));
      eff[i] = j.number(pair.get(1), index(p, 1));
      if (th[i] < 0) {
        throw j.error(index(p, 0), "threshold must be 0 or more, got " + fmt(th[i]));
      }
      if (!(eff[i] >= MIN_EFFICIENCY && eff[i] <= 1)) {
        throw j.error(index(p, 1), "efficiency must be in (0, 1] and at least " + fmt(MIN_EFFICIENCY) + ", got " + fmt(eff[i]));
      }
      if (i > 0 && !(th[i] < th[i - 1])) {
        throw j.error(index(p, 0), "thresholds must strictly decrease, got " + fmt(th[i])
            + " after " + fmt(th[i - 1]));
      }
    }
    return new double[][] {th, eff};
  }

  private static void inRange(JsonFields j, String path, double v, double min, double max, String unit)
      throws ConfigError {
    if (!(v >= min && v <= max)) {
      throw j.error(path, "must be in [" + fmt(min) + ", " + fmt(max) + "] " + unit
          + " (outside it the model's times overflow or vanish), got " + fmt(v));
    }
  }

  private static SystemSpec.MemorySpec readMemory(JsonFields j, JsonNode node, String path) throws ConfigError {
    j.object(node, path, "GiB, GBps, MB_efficiency");
    j.noUnknownKeys(node, path, MEMORY_KEYS, "expected GiB, GBps and MB_efficiency");
    double gib = j.number(j.member(node, path, "GiB", null), join(path, "GiB"));
    if (gib < 0) {
      throw j.error(join(path, "GiB"), "must be 0 or more, got " + fmt(gib));
    }
    double gbps = j.number(j.member(node, path, "GBps", null), join(path, "GBps"));
    if (!(gbps > 0)) {
      throw j.error(join(path, "GBps"), "must be more than 0, got " + fmt(gbps));
    }
    inRange(j, join(path, "GBps"), gbps, MIN_RATE, MAX_RATE, "GB/s");
    double[][] curve = readCurve(j, j.member(node, path, "MB_efficiency", null), join(path, "MB_efficiency"), "MB");
    return new SystemSpec.MemorySpec(gib, gbps, curve[0], curve[1]);
  }

  private static SystemSpec.NetworkSpec readNetwork(JsonFields j, JsonNode node, String path) throws ConfigError {
    j.object(node, path, "a network tier");
    String hint = "a network tier has exactly " + String.join(", ", NETWORK_KEYS);
    j.noUnknownKeys(node, path, new LinkedHashSet<>(NETWORK_KEYS), hint);
    for (String k : NETWORK_KEYS) {
      j.member(node, path, k, null);
    }
    double bw = j.number(node.get("bandwidth"), join(path, "bandwidth"));
    if (!(bw > 0)) {
      throw j.error(join(path, "bandwidth"), "must be more than 0 (GB/s), got " + fmt(bw));
    }
    inRange(j, join(path, "bandwidth"), bw, MIN_RATE, MAX_RATE, "GB/s");
    double eff = j.number(node.get("efficiency"), join(path, "efficiency"));
    if (!(eff >= MIN_EFFICIENCY && eff <= 1)) {
      throw j.error(join(path, "efficiency"), "must be in (0, 1] and at least " + fmt(MIN_EFFICIENCY) + ", got " + fmt(eff));
    }
    long size = j.integer(node.get("size"), join(path, "size"));
    if (size < 0) {
      throw j.error(join(path, "size"), "must be 0 or more, got " + size);
    }
    double latency = j.number(node.get("latency"), join(path, "latency"));
    if (latency < 0) {
      throw j.error(join(path, "latency"), "must be 0 or more (seconds), got " + fmt(latency));
    }
    inRange(j, join(path, "latency"), latency, 0, MAX_LATENCY_SECONDS, "seconds");
    boolean mustBeFilled = j.bool(node.get("must_be_filled"), join(path, "must_be_filled"));
    double usage = j.number(node.get("processor_usage"), join(path, "processor_usage"));
    if (!(usage >= 0 && usage < 1)) {
      throw j.error(join(path, "processor_usage"), "must be in [0, 1), got " + fmt(usage));
    }
    String opsPath = join(path, "ops");
    JsonNode ops = j.object(node.get("ops"), opsPath, "op name -> [scalar, offset(, efficiency)]");
    j.noUnknownKeys(ops, opsPath, ALLOWED_OPS, "network ops are p2p, reduce_scatter, all_gather, all_reduce, all_to_all");
    for (String op : REQUIRED_OPS) {
      j.member(ops, opsPath, op, null);
    }
    Map<String, SystemSpec.OpSpec> opMap = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = ops.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> en = it.next();
      opMap.put(en.getKey(), readOp(j, en.getKey(), en.getValue(), join(opsPath, en.getKey())));
    }
    return new SystemSpec.NetworkSpec(bw, eff, size, latency, Collections.unmodifiableMap(opMap),
        mustBeFilled, usage);
  }

  private static SystemSpec.OpSpec readOp(JsonFields j, String op, JsonNode v, String path) throws ConfigError {
    boolean collective = COLLECTIVE_OPS.contains(op);
    String shape = collective ? "[scalar, offset] or [scalar, offset, efficiency]"
        : "[scalar, null] or [scalar, null, efficiency]";
    if (!v.isArray() || v.size() < 2 || v.size() > 3) {
      throw j.error(path, "must be " + shape + ", got " + describe(v));
    }
    double scalar = j.number(v.get(0), index(path, 0));
    if (!(scalar > 0)) {
      throw j.error(index(path, 0), "scalar must be more than 0, got " + fmt(scalar));
    }
    inRange(j, index(path, 0), scalar, MIN_RATE, MAX_OP_FACTOR, "bytes sent per byte");
    Double offset;
    if (collective) {
      if (v.get(1).isNull()) {
        throw j.error(index(path, 1), "offset must be a number for " + op + ", got null");
      }
      offset = j.number(v.get(1), index(path, 1));
      // size = bytes*scalar*(1 + offset/n): below -1 a group of one or more would send negative bytes
      if (!(offset >= -1 && offset <= MAX_OP_FACTOR)) {
        throw j.error(index(path, 1), "offset must be in [-1, " + fmt(MAX_OP_FACTOR)
            + "] (bytes*scalar*(1 + offset/n) must not go negative), got " + fmt(offset));
      }
    } else {
      if (!v.get(1).isNull()) {
        throw j.error(index(path, 1), "offset must be null for " + op + ", got " + describe(v.get(1)));
      }
      offset = null;
    }
    Double efficiency = null;
    if (v.size() == 3) {
      double e = j.number(v.get(2), index(path, 2));
      if (!(e == 0 || e >= MIN_EFFICIENCY && e <= 1)) {
        throw j.error(index(path, 2), "efficiency must be 0 (use the tier's) or in [" + fmt(MIN_EFFICIENCY)
            + ", 1], got " + fmt(e));
      }
      efficiency = e;
    }
    return new SystemSpec.OpSpec(scalar, offset, efficiency);
  }

  // ------------------------------------------------------------------------------------------
  // Cross-file rules

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
   * re-applies {@link #checkExecution}. The file names are used in messages only.
   */
  public static void checkRun(Application app, Execution exe, SystemSpec sys,
                              String appFile, String exeFile, String sysFile) throws ConfigError {
    checkRun(app, exe, sys, appFile, exeFile, sysFile, false);
  }

  /**
   * {@link #checkRun(Application, Execution, SystemSpec, String, String, String)}, with
   * {@code forkQuirks} true for a Calculon-MoE parity run: a dense execution whose num_procs is
   * not tensor_par*pipeline_par*data_par is then accepted, as the fork accepts it (spec quirk 29;
   * golden case hand-dense-numprocs-mismatch). Otherwise it is rejected, as the original Calculon does.
   */
  public static void checkRun(Application app, Execution exe, SystemSpec sys,
                              String appFile, String exeFile, String sysFile, boolean forkQuirks)
      throws ConfigError {
    checkExecution(exe, exeFile);
    if (!forkQuirks) {
      checkProcessCount(exe, exeFile);
    }
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

    // Model versus parallelism.
    if (app.numBlocks() < exe.pipelinePar()) {
      throw je.error("pipeline_par", "cannot exceed the model's num_blocks (" + app.numBlocks() + " in "
          + appFile + "), got " + exe.pipelinePar());
    }
    int tp = exe.tensorPar();
    boolean needSeqSplit = exe.sequenceParallel() || exe.pipelineParRsAg() || moe;
    long batchSeq = (long) exe.microbatchSize() * app.seqSize();
    if (needSeqSplit && batchSeq % tp != 0) {
      String why = moe ? "a MoE run" : exe.sequenceParallel() ? "sequence parallelism (rs_ag)" : "p2p_rs_ag";
      throw je.error("tensor_par", "must divide microbatch_size*seq_size = " + exe.microbatchSize() + "*"
          + app.seqSize() + " = " + batchSeq + " (needed by " + why + "), got " + tp);
    }
    checkTensorSizes(je, app, exe, appFile);
    modelDivides(je, "hidden", app.hidden(), tp, appFile);
    modelDivides(je, "feedforward", app.feedforward(), tp, appFile);
    if (!moe) {
      modelDivides(je, "attn_heads", app.attnHeads(), tp, appFile);
    } else if (!exe.tensorParOverlap().separateCollectives() && (app.attnHeads() * app.attnSize()) % tp != 0) {
      throw je.error("tensor_par", "must divide attn_heads*attn_size = " + app.attnHeads() + "*" + app.attnSize()
          + " = " + app.attnHeads() * app.attnSize() + " (" + appFile + ") when tensor_par_overlap is \""
          + exe.tensorParOverlap().jsonName + "\", got " + tp);
    }
    checkArchitecture(je, app, exe, appFile);
    if (exe.tensorParOverlap() == TpOverlap.USERBUFFERS && sys.streamingMultiprocessors() != null
        && sys.streamingMultiprocessors() <= USERBUFFERS_COMM_SMS) {
      throw new JsonFields(sysFile).error(STREAMING_MULTIPROCESSORS, "must be more than the "
          + USERBUFFERS_COMM_SMS + " SMs tensor_par_overlap \"userbuffers\" gives its communication ("
          + exeFile + "), got " + sys.streamingMultiprocessors());
    }
    checkContextAndStages(je, app, exe, sys, appFile, sysFile, range);
    String kernel = exe.layerOptions().attentionKernel();
    if (kernel != null) {
      SystemSpec.AttentionKernels ks = sys.attentionKernels();
      if (ks == null || !ks.kernels().containsKey(kernel)) {
        throw je.error("attention_kernel", "\"" + JsonFields.oneLine(kernel) + "\" is not among the kernels of "
            + sysFile + " (" + (ks == null ? "it has no " + ATTENTION_KERNELS
                : ATTENTION_KERNELS + ".kernels: " + String.join(", ", ks.kernels().keySet())) + ")");
      }
    }
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
    Architecture.Moe m = a.moe();
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
