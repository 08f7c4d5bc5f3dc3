package calculon.sweep;

import calculon.config.ApplicationReader;
import calculon.config.ConfigError;
import calculon.config.Datatype;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.FileKind;
import calculon.config.JsonFiles;
import calculon.config.NearMiss;
import calculon.config.SystemReader;
import calculon.model.ModelVersion;
import calculon.search.SearchKind;
import calculon.search.SearchRequest;
import calculon.search.SearchTemplate;
import calculon.search.SpaceAxes;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A sweep's SPEC file, parsed and checked (docs/sweeps.md gives the format). Every error is a
 * {@link ConfigError} naming the SPEC file, the SPEC field and the rule. File names in the SPEC
 * are relative to the SPEC's folder. The parsed form keeps the input files' JSON text, so a
 * {@link SweepSpec} can be shipped to another machine ({@link #text()} re-parses to the same).
 *
 * @param name        the SPEC file as the user named it (messages)
 * @param models      model files, in SPEC order
 * @param systems     system files, in SPEC order
 * @param execution   the fixed execution file, or null when a search runs at each point
 * @param search      the search at each point, or null with a fixed execution
 * @param grid        the swept fields, first one varying slowest
 * @param topN        best executions kept per point (search; 1 with a fixed execution)
 * @param version     the model version every point is evaluated with
 * @param economics   amortisation, electricity price and budget
 * @param fingerprint SHA-256 of the SPEC and every input file's content (not of the SPEC's own
 *                    name): a resumed sweep must match
 * @param text        the SPEC as JSON with the input files inlined (what {@link #fromText} reads)
 */
public record SweepSpec(String name, List<Input> models, List<Input> systems, Input execution,
                        SearchSpec search, List<Axis> grid, int topN, ModelVersion version,
                        Economics economics, String fingerprint, String text) {

  /** An input file: the name it is shown by (base name without .json) and its JSON. */
  public record Input(String label, String file, JsonNode json) {}

  /** Which file a grid path changes. */
  public enum Target { SEARCH, SYSTEM, MODEL, EXECUTION }

  /**
   * One swept field.
   *
   * @param name   the grid key as written in the SPEC (the output column)
   * @param target the file it changes
   * @param path   the path inside that file (or the search key)
   * @param values the values, in order
   */
  public record Axis(String name, Target target, JsonPath path, List<JsonNode> values) {}

  /**
   * The search each point runs: one of the search commands and its options.
   *
   * @param command      the command name as written (llm-optimal-execution, loe, loe-moe, ...)
   * @param kind         the space it enumerates
   * @param params       num_procs, max_batch_size, datatype, mbs_break, fused_activation,
   *                     tp_overlap, dp_overlap, offload, experts, pipeline_schedules (defaults filled in),
   *                     flash_attention, zero_stages, context_par, max_context_par, cp_comm_types,
   *                     tp_overlaps (null when not given: the search commands' defaults, {@link SearchRequest})
   * @param template     the {@code execution_template} file, or null
   * @param templateExecution that file as the execution reader reads it, or null
   * @param expertsGiven whether the SPEC's search names {@code experts} (else {@code params} holds
   *                     {@link SearchRequest#DEFAULT_EXPERTS})
   */
  public record SearchSpec(String command, SearchKind kind, ObjectNode params, Input template,
                           Execution templateExecution, boolean expertsGiven) {}

  /**
   * Cost and energy settings.
   *
   * @param amortizationYears    years over which the purchase price is spread (cost per token)
   * @param usdPerKWh            electricity price (0: energy costs nothing)
   * @param budgetUsd            when set, the processors of a point are as many as the budget
   *                             buys ({@link #budgetProcsMultiple} at a time), null otherwise
   * @param budgetProcsMultiple  processors are bought in multiples of this (a node)
   */
  public record Economics(double amortizationYears, double usdPerKWh, Double budgetUsd, int budgetProcsMultiple) {}

  /** Search keys and their defaults (the search commands' defaults). */
  static final List<String> SEARCH_KEYS = List.of("command", "num_procs", "max_batch_size",
      "datatype", "mbs_break", "fused_activation", "tp_overlap", "dp_overlap", "offload",
      "experts", "flash_attention", "pipeline_schedules", "zero_stages", "context_par", "max_context_par",
      "cp_comm_types", "tp_overlaps", "execution_template");

  /** Search keys whose value is a list (a single value stands for a one-value list). */
  static final List<String> LIST_SEARCH_KEYS = List.of("zero_stages", "context_par", "cp_comm_types", "tp_overlaps");

  static final List<String> TOP_KEYS = List.of("models", "systems", "execution", "search", "grid",
      "top_n", "model_version", "amortization_years", "electricity_usd_per_kWh", "budget_usd",
      "budget_procs_multiple");

  /** Default amortisation period: 4 years, a common depreciation period for accelerators. */
  static final double DEFAULT_AMORTIZATION_YEARS = 4;

  /** Most points a sweep may have (more is a typo in a range, not a study). */
  static final long MAX_POINTS = 10_000_000L;

  private static final ObjectMapper MAPPER = new ObjectMapper()
      .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

  /** How a file of another kind given as SPEC is told where the SPEC goes. */
  static final String SPEC_FIRST = "SPEC comes first: calculon sweep SPEC OUTPUT";

  /**
   * Reads and checks a SPEC file.
   *
   * @throws ConfigError one line: a file of another kind (a model, system or execution file, search
   *                     results, a sweep output's record) with neither of a SPEC's keys models and
   *                     systems is named as what it looks like ({@code models/megatron-1T.json: this
   *                     looks like a model file (hidden, num_blocks), not a sweep spec (models,
   *                     systems): check which file goes where (SPEC comes first: calculon sweep SPEC
   *                     OUTPUT)}); else the first rule the SPEC breaks
   */
  public static SweepSpec read(Path file) throws ConfigError {
    JsonNode root = JsonFiles.read(file);
    FileKind other = FileKind.misplaced(root, FileKind.SWEEP_SPEC);
    if (other != null) {
      // before the unknown-key check, which would list the file's keys against a SPEC's
      throw FileKind.swapped(file.toString(), other.described(), FileKind.SWEEP_SPEC.described(), SPEC_FIRST);
    }
    Path dir = file.toAbsolutePath().getParent();
    return parse(root, file.toString(), dir, null);
  }

  /** Re-reads the {@link #text()} of a spec (the input files inlined), e.g. on a Spark executor. */
  public static SweepSpec fromText(String text) {
    try {
      JsonNode root = MAPPER.readTree(text);
      return parse(root.get("spec"), root.get("name").asText(), null, root.get("inputs"));
    } catch (IOException | ConfigError e) {
      throw new IllegalStateException("a sweep spec that was checked no longer parses: " + e.getMessage(), e);
    }
  }

  private static SweepSpec parse(JsonNode root, String name, Path dir, JsonNode inlined) throws ConfigError {
    Fields f = new Fields(name);
    if (root == null || !root.isObject()) {
      throw f.error("", "must be a JSON object (models, systems, search or execution, grid)");
    }
    f.noUnknown(root, "", TOP_KEYS);
    ObjectNode inputs = MAPPER.createObjectNode();
    List<Input> models = inputs(f, root, "models", FileKind.MODEL, dir, inlined, inputs);
    List<Input> systems = inputs(f, root, "systems", FileKind.SYSTEM, dir, inlined, inputs);
    ModelVersion version = ModelVersion.DEFAULT;
    if (root.has("model_version")) {
      JsonNode v = root.get("model_version");
      version = v.isTextual() ? ModelVersion.fromCli(v.asText()) : null;
      if (version == null) {
        throw f.error("model_version", "must be \"corrected\" or \"calculon-moe\", got " + v
            + hint(v, java.util.Arrays.stream(ModelVersion.values()).map(m -> m.cliName).toList()));
      }
    }
    Input execution = null;
    SearchSpec search = null;
    if (root.has("execution") == root.has("search")) {
      throw f.error("", "give either search (a search at each point) or execution (a fixed execution file), not "
          + (root.has("search") ? "both" : "neither"));
    }
    if (root.has("execution")) {
      JsonNode e = root.get("execution");
      if (!e.isTextual()) {
        throw f.error("execution", "must be a file name (string), got " + e);
      }
      execution = input(f, "execution", FileKind.EXECUTION, e.asText(), dir, inlined, inputs);
    } else {
      search = search(f, root.get("search"), version, dir, inlined, inputs);
    }
    int topN = 1;
    if (root.has("top_n")) {
      topN = f.positiveInt(root.get("top_n"), "top_n");
      if (execution != null && topN != 1) {
        throw f.error("top_n", "must be 1 with a fixed execution (one execution per point)");
      }
    }
    Economics econ = new Economics(
        root.has("amortization_years") ? f.positive(root.get("amortization_years"), "amortization_years") : DEFAULT_AMORTIZATION_YEARS,
        root.has("electricity_usd_per_kWh") ? f.nonNegative(root.get("electricity_usd_per_kWh"), "electricity_usd_per_kWh") : 0,
        root.has("budget_usd") ? f.positive(root.get("budget_usd"), "budget_usd") : null,
        root.has("budget_procs_multiple") ? f.positiveInt(root.get("budget_procs_multiple"), "budget_procs_multiple") : 8);
    if (econ.budgetUsd() != null && search == null) {
      throw f.error("budget_usd", "needs a search (it sets num_procs), not a fixed execution");
    }
    List<Axis> grid = grid(f, root.get("grid"), search, execution, models, systems, econ, version);
    String text = MAPPER.createObjectNode().put("name", name).<ObjectNode>set("spec", root)
        .<ObjectNode>set("inputs", inputs).toString();
    return new SweepSpec(name, List.copyOf(models), List.copyOf(systems), execution, search,
        List.copyOf(grid), topN, version, econ, sha256(root.toString() + "\n" + inputs), text);
  }

  private static List<Input> inputs(Fields f, JsonNode root, String key, FileKind kind, Path dir, JsonNode inlined,
                                    ObjectNode inputs) throws ConfigError {
    JsonNode list = root.get(key);
    if (list == null || !list.isArray() || list.isEmpty()) {
      throw f.error(key, "must be a non-empty list of file names, got " + (list == null ? "nothing" : list.toString()));
    }
    List<Input> out = new ArrayList<>();
    Set<String> labels = new LinkedHashSet<>();
    for (int i = 0; i < list.size(); i++) {
      String at = key + "[" + i + "]";
      if (!list.get(i).isTextual()) {
        throw f.error(at, "must be a file name (string), got " + list.get(i));
      }
      Input in = input(f, at, kind, list.get(i).asText(), dir, inlined, inputs);
      if (!labels.add(in.label())) {
        throw f.error(at, "names " + in.label() + " twice (each file once; they label the output)");
      }
      out.add(in);
    }
    return out;
  }

  /**
   * Reads the input file {@code fileName} of SPEC field {@code at}, which must be of {@code kind}:
   * a file of another kind (a model file under systems) is refused here, naming the field, the file,
   * the kind it looks like and where it goes, before a grid over the file's fields could report
   * the fields it lacks instead.
   */
  private static Input input(Fields f, String at, FileKind kind, String fileName, Path dir, JsonNode inlined,
                             ObjectNode inputs) throws ConfigError {
    JsonNode json;
    if (inlined != null) {
      json = inlined.get(fileName);
    } else {
      Path p = dir.resolve(fileName);
      try {
        json = JsonFiles.read(p);
      } catch (ConfigError e) {
        throw f.error(at, e.getMessage());
      }
    }
    if (!json.isObject()) {
      throw f.error(at, fileName + " is not " + kind.described() + ": it is "
          + (json.isArray() ? "a list" : "a " + json.getNodeType().name().toLowerCase()) + ", not a JSON object");
    }
    FileKind looksLike = FileKind.misplaced(json, kind);
    if (looksLike != null) {
      String where = switch (looksLike) {
        case MODEL -> ": list it under models";
        case SYSTEM -> ": list it under systems";
        case EXECUTION -> ": give it as execution or search.execution_template";
        case SWEEP_SPEC -> ": a SPEC lists model, system and execution files, not another SPEC";
        default -> ": a SPEC reads model, system and execution files, not what calculon writes";
      };
      throw f.error(at, fileName + " looks like " + looksLike.described() + ", not " + kind.described() + where);
    }
    if (!kind.hasAKey(json)) {
      // every file of the kind needs both keys (the readers' required keys); a file with neither
      // is some other file, and a grid over its fields would only say the field is missing
      throw f.error(at, fileName + " is not " + kind.described() + ": it has neither of those keys");
    }
    inputs.set(fileName, json);
    String label = Path.of(fileName).getFileName().toString().replaceFirst("\\.json(\\.gz)?$", "");
    return new Input(label, fileName, json);
  }

  private static SearchSpec search(Fields f, JsonNode s, ModelVersion version, Path dir, JsonNode inlined,
                                   ObjectNode inputs) throws ConfigError {
    if (s == null || !s.isObject()) {
      throw f.error("search", "must be an object: {\"command\": \"llm-optimal-execution\", \"num_procs\": N, "
          + "\"max_batch_size\": B, \"datatype\": \"float16\", ...}");
    }
    f.noUnknown(s, "search", SEARCH_KEYS);
    JsonNode c = s.get("command");
    SearchKind kind = c == null || !c.isTextual() ? null : switch (c.asText()) {
      case "llm-optimal-execution", "loe" -> SearchKind.DENSE;
      case "llm-optimal-execution-moe", "loe-moe" -> SearchKind.MOE;
      case "llm-optimal-execution-moe-flexible", "loe-moe-flex" -> SearchKind.MOE_FLEX;
      default -> null;
    };
    if (kind == null) {
      throw f.error("search.command", "must be one of llm-optimal-execution (loe), llm-optimal-execution-moe "
          + "(loe-moe), llm-optimal-execution-moe-flexible (loe-moe-flex), got " + (c == null ? "nothing" : c)
          + hint(c, List.of("llm-optimal-execution", "loe", "llm-optimal-execution-moe", "loe-moe",
              "llm-optimal-execution-moe-flexible", "loe-moe-flex")));
    }
    ObjectNode p = MAPPER.createObjectNode();
    p.put("num_procs", s.has("num_procs") ? f.positiveInt(s.get("num_procs"), "search.num_procs") : 0);
    if (!s.has("max_batch_size")) {
      throw f.error("search.max_batch_size", "missing (the largest global batch, as the search commands' max_batch_size)");
    }
    p.put("max_batch_size", f.positiveInt(s.get("max_batch_size"), "search.max_batch_size"));
    JsonNode dt = s.get("datatype");
    if (dt == null || !dt.isTextual() || Datatype.fromJson(dt.asText()) == null) {
      throw f.error("search.datatype", "must be one of float4, float8, float16, bfloat16, float32, got "
          + (dt == null ? "nothing" : dt) + hint(dt, Datatype.jsonNames()));
    }
    p.put("datatype", dt.asText());
    p.put("mbs_break", s.has("mbs_break") ? f.bool(s.get("mbs_break"), "search.mbs_break") : false);
    if (s.has("mbs_break") && p.get("mbs_break").asBoolean() && kind != SearchKind.DENSE) {
      throw f.error("search.mbs_break", "applies to llm-optimal-execution only (as -m)");
    }
    JsonNode fa = s.get("fused_activation");
    String fused = fa == null ? "true" : fa.isBoolean() ? String.valueOf(fa.asBoolean()) : fa.asText();
    if (!List.of("true", "false", "both").contains(fused)) {
      throw f.error("search.fused_activation", "must be true, false or \"both\" (as -f), got " + fa
          + hint(fa, List.of("true", "false", "both")));
    }
    p.put("fused_activation", fused);
    p.put("tp_overlap", s.has("tp_overlap") ? f.bool(s.get("tp_overlap"), "search.tp_overlap") : true);
    p.put("dp_overlap", s.has("dp_overlap") ? f.bool(s.get("dp_overlap"), "search.dp_overlap") : true);
    p.put("offload", s.has("offload") ? f.bool(s.get("offload"), "search.offload") : true);
    p.put("experts", s.has("experts") ? f.positiveInt(s.get("experts"), "search.experts") : SearchRequest.DEFAULT_EXPERTS);
    // the options beyond Calculon's space: the search commands' flags, checked by their rules
    p.set("flash_attention", s.has("flash_attention")
        ? bool(f.bool(s.get("flash_attention"), "search.flash_attention")) : NullNode.getInstance());
    p.put("pipeline_schedules", s.has("pipeline_schedules")
        ? f.bool(s.get("pipeline_schedules"), "search.pipeline_schedules") : false);
    for (String k : List.of("zero_stages", "context_par", "max_context_par", "cp_comm_types", "tp_overlaps")) {
      p.set(k, s.has(k) ? s.get(k) : NullNode.getInstance());
    }
    for (String k : List.of("zero_stages", "context_par", "max_context_par", "cp_comm_types", "tp_overlaps")) {
      if (s.has(k)) {
        checkSearchValue(f, "search." + k, k, s.get(k));
      }
    }
    try {
      axes(p, version);
    } catch (SearchRequest.Invalid e) {
      throw f.error("search." + e.key().specKey, e.specRule());
    }
    Input template = null;
    Execution templateExecution = null;
    JsonNode t = s.get("execution_template");
    if (t != null) {
      if (!t.isTextual()) {
        throw f.error("search.execution_template", "must be a file name (string), got " + t);
      }
      template = input(f, "search.execution_template", FileKind.EXECUTION, t.asText(), dir, inlined, inputs);
      try {
        templateExecution = ExecutionReader.readTemplate(template.json(), template.file());
      } catch (ConfigError e) {
        throw f.error("search.execution_template", e.getMessage());
      }
    }
    SearchSpec spec = new SearchSpec(c.asText(), kind, p, template, templateExecution, s.has("experts"));
    try {
      template(spec, p);
    } catch (SearchRequest.Invalid e) {
      throw searchError(f.file, spec, e, "");
    }
    return spec;
  }

  /** The type a search key's value must have (the values' rules are {@link SearchRequest}'s). */
  private static void checkSearchValue(Fields f, String at, String key, JsonNode v) throws ConfigError {
    boolean ok = switch (key) {
      case "max_context_par" -> v.isIntegralNumber() && v.canConvertToInt();
      case "zero_stages" -> isIntList(v) || (v.isIntegralNumber() && v.canConvertToInt());
      case "context_par" -> v.isArray() || v.isTextual() || v.isNumber();
      case "cp_comm_types", "tp_overlaps" -> v.isArray() || v.isTextual();
      default -> true;
    };
    if (!ok) {
      String kind = switch (key) {
        case "max_context_par" -> "an integer";
        case "zero_stages" -> "a list of ZeRO stages (integers) such as [1, 3]";
        case "context_par" -> "\"all\" or a list of CP degrees such as [1, 2, 4]";
        case "tp_overlaps" -> "a list of TP overlap modes such as [\"none\", \"userbuffers\"]";
        default -> "a list of CP comm types such as [\"p2p\", \"a2a\"]";
      };
      throw f.error(at, "must be " + kind + ", got " + v);
    }
  }

  private static boolean isIntList(JsonNode v) {
    if (!v.isArray()) {
      return false;
    }
    for (JsonNode e : v) {
      if (!e.isIntegralNumber() || !e.canConvertToInt()) {
        return false;
      }
    }
    return true;
  }

  /** A list key's value as a list: one value stands for a one-value list. */
  private static List<JsonNode> listOf(JsonNode v) {
    List<JsonNode> out = new ArrayList<>();
    if (v.isArray()) {
      v.forEach(out::add);
    } else {
      out.add(v);
    }
    return out;
  }

  /**
   * The space beyond Calculon's knobs that a point's search parameters ask for, by the search
   * commands' rules ({@link SearchRequest#axes}; the SPEC's types were checked).
   */
  static SpaceAxes axes(ObjectNode p, ModelVersion version) throws SearchRequest.Invalid {
    List<Integer> stages = null;
    if (!p.get("zero_stages").isNull()) {
      stages = new ArrayList<>();
      for (JsonNode z : listOf(p.get("zero_stages"))) {
        stages.add(z.asInt());
      }
    }
    List<String> cps = null;
    JsonNode cp = p.get("context_par");
    if (!cp.isNull()) {
      cps = new ArrayList<>();
      for (JsonNode c : listOf(cp)) {
        // a degree is an integer; anything else fails the rule, which shows the value as written
        // (a word as itself, for its "did you mean"; "3", a string, must not pass for the degree 3)
        cps.add(c.isIntegralNumber() || (c.isTextual() && !c.asText().trim().matches("[+-]?\\d+")) ? c.asText() : "?");
      }
    }
    JsonNode max = p.get("max_context_par");
    return SearchRequest.axes(version, p.get("pipeline_schedules").asBoolean(), stages, cps,
        cp.toString(), max.isNull() ? null : max.asInt(), names(p.get("cp_comm_types")), names(p.get("tp_overlaps")),
        !p.get("tp_overlap").asBoolean());
  }

  /**
   * A list key of names (cp_comm_types, tp_overlaps) as the search rules take it: null when not
   * given; a non-string element as its JSON text, which the rule then shows.
   */
  private static List<String> names(JsonNode v) {
    if (v.isNull()) {
      return null;
    }
    List<String> out = new ArrayList<>();
    for (JsonNode t : listOf(v)) {
      out.add(t.isTextual() ? t.asText() : t.toString());
    }
    return out;
  }

  /** The keys every execution of a point's search carries: the template's, then flash_attention. */
  static SearchTemplate template(SearchSpec s, ObjectNode p) throws SearchRequest.Invalid {
    JsonNode fa = p.get("flash_attention");
    return SearchRequest.template(s.templateExecution(), s.template() == null ? null : s.template().file(),
        s.kind(), Datatype.fromJson(p.get("datatype").asText()), fa.isNull() ? null : fa.asBoolean());
  }

  /**
   * A broken search rule as a SPEC error: the search key (the template's rules name the template
   * file and its key), and {@code where} (the grid values of the point, or "").
   */
  static ConfigError searchError(String specName, SearchSpec s, SearchRequest.Invalid e, String where) {
    String rule = e.key() == SearchRequest.Key.EXECUTION_TEMPLATE ? s.template().file() + ": " + e.rule() : e.specRule();
    return new ConfigError(specName, "search." + e.key().specKey, (rule + where).replaceAll("[\\r\\n]+", " "));
  }

  private static List<Axis> grid(Fields f, JsonNode g, SearchSpec search, Input execution,
                                 List<Input> models, List<Input> systems, Economics econ,
                                 ModelVersion version) throws ConfigError {
    List<Axis> axes = new ArrayList<>();
    if (g == null) {
      g = MAPPER.createObjectNode();
    }
    if (!g.isObject()) {
      throw f.error("grid", "must be an object: {\"path\": [values] or {\"from\": a, \"to\": b, \"step\": s}}");
    }
    long points = (long) models.size() * systems.size();
    for (Iterator<Map.Entry<String, JsonNode>> it = g.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String key = e.getKey();
      String at = "grid." + key;
      Axis axis = axis(f, at, key, e.getValue(), search, execution, models, systems, version);
      if (econ.budgetUsd() != null && axis.target() == Target.SEARCH && axis.path().toString().equals("num_procs")) {
        throw f.error(at, "cannot be swept with budget_usd (the budget sets num_procs)");
      }
      for (Axis other : axes) {
        if (other.target() == axis.target() && other.path().toString().equals(axis.path().toString())) {
          throw f.error(at, "names the same field as grid." + other.name());
        }
      }
      axes.add(axis);
      points *= axis.values().size();
      if (points > MAX_POINTS) {
        throw f.error(at, "makes more than " + MAX_POINTS + " points");
      }
    }
    if (search != null && search.params().get("num_procs").asInt() == 0 && econ.budgetUsd() == null
        && axes.stream().noneMatch(a -> a.target() == Target.SEARCH && a.path().toString().equals("num_procs"))) {
      throw f.error("search.num_procs", "missing: give it, sweep it (grid.num_procs) or set budget_usd");
    }
    return axes;
  }

  private static Axis axis(Fields f, String at, String key, JsonNode spec, SearchSpec search,
                           Input execution, List<Input> models, List<Input> systems,
                           ModelVersion version) throws ConfigError {
    Target target;
    String pathText = key;
    int dot = key.indexOf('.');
    String prefix = dot < 0 ? "" : key.substring(0, dot);
    switch (prefix) {
      case "search" -> target = Target.SEARCH;
      case "system" -> target = Target.SYSTEM;
      case "model" -> target = Target.MODEL;
      case "execution" -> target = Target.EXECUTION;
      default -> target = null;
    }
    if (target != null) {
      pathText = key.substring(dot + 1);
    }
    JsonPath path;
    try {
      path = JsonPath.parse(pathText);
    } catch (IllegalArgumentException e) {
      throw f.error(at, "is not a field path: " + e.getMessage());
    }
    if (target == null) {
      // unprefixed: the first file that has the field
      if (search != null && search.params().has(path.firstKey())) {
        target = Target.SEARCH;
      } else if (path.get(systems.get(0).json()) != null) {
        target = Target.SYSTEM;
      } else if (path.get(models.get(0).json()) != null) {
        target = Target.MODEL;
      } else if (execution != null && path.get(execution.json()) != null) {
        target = Target.EXECUTION;
      } else {
        // a list index past the end (networks[2] of a two-tier system) says so, not "no such field"
        for (Map.Entry<String, JsonNode> file : List.of(Map.entry("system", systems.get(0).json()),
            Map.entry("model", models.get(0).json()))) {
          String beyond = path.indexBeyond(file.getValue());
          if (beyond != null) {
            throw f.error(at, beyond + " in the " + file.getKey() + " file");
          }
        }
        String beyondExecution = execution == null ? null : path.indexBeyond(execution.json());
        if (beyondExecution != null) {
          throw f.error(at, beyondExecution + " in the execution file");
        }
        List<String> fields = new ArrayList<>(JsonPath.leaves(systems.get(0).json()));
        fields.addAll(JsonPath.leaves(models.get(0).json()));
        if (execution != null) {
          fields.addAll(JsonPath.leaves(execution.json()));
        }
        // a key a reader knows but the files leave at its default (attention_dropout): the prefixed
        // form, which then says to write it into the files; else the close field the files give
        String hint = knownPrefixed(path, spec, systems.get(0).json(), models.get(0).json(),
            execution == null ? null : execution.json());
        throw f.error(at, "is not a field of the search, the system, the model"
            + (execution != null ? " or the execution" : "") + (hint.isEmpty() ? NearMiss.didYouMean(pathText, fields) : hint)
            + " (prefix search., system., model. or execution. to say which)");
      }
    }
    List<JsonNode> files = switch (target) {
      case SEARCH -> search == null ? List.of() : List.of(search.params());
      case SYSTEM -> systems.stream().map(Input::json).toList();
      case MODEL -> models.stream().map(Input::json).toList();
      case EXECUTION -> execution == null ? List.of() : List.of(execution.json());
    };
    // the files as the SPEC names them, for messages (the search has none)
    List<String> fileNames = switch (target) {
      case SEARCH -> List.of("search");
      case SYSTEM -> systems.stream().map(Input::file).toList();
      case MODEL -> models.stream().map(Input::file).toList();
      case EXECUTION -> execution == null ? List.of() : List.of(execution.file());
    };
    if (files.isEmpty()) {
      throw f.error(at, "changes the " + target.name().toLowerCase() + ", which this SPEC does not have");
    }
    if (target == Target.SEARCH && !SEARCH_KEYS.contains(path.toString())) {
      throw f.error(at, "is not a search key" + NearMiss.didYouMean(path.toString(), SEARCH_KEYS.subList(1, SEARCH_KEYS.size()))
          + " (one of " + String.join(", ", SEARCH_KEYS.subList(1, SEARCH_KEYS.size())) + ")");
    }
    if (target == Target.SEARCH && SEARCH_KEYS.indexOf(path.toString()) >= SEARCH_KEYS.indexOf("flash_attention")) {
      return searchOptionAxis(f, at, key, path, spec, search, version);
    }
    JsonNode current = null;
    List<String> lacking = new ArrayList<>();
    JsonNode firstLacking = null;
    for (int i = 0; i < files.size(); i++) {
      JsonNode file = files.get(i);
      JsonNode here = path.get(file);
      String beyond = here == null ? path.indexBeyond(file) : null;
      if (beyond != null) {
        throw f.error(at, beyond + " in a " + target.name().toLowerCase() + " file");
      }
      if (here == null) {
        lacking.add(fileNames.get(i));
        firstLacking = firstLacking == null ? file : firstLacking;
        continue;
      }
      if (!(here.isNumber() || here.isBoolean() || here.isTextual())) {
        throw f.error(at, "must name a number, boolean or string field, not " + (here.isArray() ? "a list" : "an object"));
      }
      current = here;
    }
    if (!lacking.isEmpty()) {
      throw missingField(f, at, target, path, spec, lacking, firstLacking);
    }
    List<JsonNode> values = values(f, at, spec);
    // search keys are integers where the command's are; a file's integer fields are checked by
    // the file's reader when every point is validated (a file may write 25 for a real 25.0)
    boolean integer = target == Target.SEARCH && current.isIntegralNumber();
    for (int i = 0; i < values.size(); i++) {
      JsonNode v = values.get(i);
      boolean ok = current.isNumber() ? v.isNumber() && (!integer || isIntegral(v))
          : current.isBoolean() ? v.isBoolean() : v.isTextual();
      if (!ok) {
        String kind = integer ? "an integer" : current.isNumber() ? "a number"
            : current.isBoolean() ? "true or false" : "a string";
        throw f.error(at + "[" + i + "]", "must be " + kind + " like the field it sets, got " + v);
      }
      if (v.isNumber() && isIntegral(v)) {
        values.set(i, LongNode.valueOf(v.decimalValue().longValueExact()));
      } else if (v.isNumber()) {
        values.set(i, DoubleNode.valueOf(v.doubleValue()));
      }
    }
    return new Axis(key, target, path, List.copyOf(values));
  }

  /**
   * For an unprefixed grid key no file gives: {@code  (did you mean "model.attention_dropout"?)}
   * naming each kind whose reader knows the key (probed as {@link #missingField} does: written with
   * the grid's first value into a copy of the first file of the kind, which its reader reads
   * without an unknown-key error), in the order system, model, execution; "" when no reader knows it.
   */
  private static String knownPrefixed(JsonPath path, JsonNode spec, JsonNode system, JsonNode model,
                                      JsonNode execution) {
    List<Map.Entry<Target, JsonNode>> firsts = new ArrayList<>(List.of(Map.entry(Target.SYSTEM, system),
        Map.entry(Target.MODEL, model)));
    if (execution != null) {
      firsts.add(Map.entry(Target.EXECUTION, execution));
    }
    List<String> known = new ArrayList<>();
    for (Map.Entry<Target, JsonNode> e : firsts) {
      JsonNode probe = e.getValue().deepCopy();
      if (path.setCreating(probe, probeValue(spec)) && unknownKey(e.getKey(), path, probe) == null) {
        known.add("\"" + e.getKey().name().toLowerCase() + "." + path + "\"");
      }
    }
    return known.isEmpty() ? "" : " (did you mean " + String.join(" or ", known) + "?)";
  }

  /** The value a probe writes for a grid key: its first value (a list's first, a range's from), else null. */
  private static JsonNode probeValue(JsonNode spec) {
    return spec.isArray() && !spec.isEmpty() ? spec.get(0)
        : spec.isObject() && spec.has("from") ? spec.get("from") : NullNode.getInstance();
  }

  /**
   * The error for a grid field some files of its kind lack ({@code lacking}, as the SPEC names
   * them; {@code first} the first of them). The key is written into {@code first} as a user would
   * write it (the grid's first value) and read by the file's reader: a key the reader knows is one
   * the files leave at its default, which the grid cannot vary until it is written into them
   * ({@code attention_dropout is missing from m.json; a grid varies the fields the files give: ...});
   * a key it does not know gets the reader's own unknown-key rule and near miss ({@code
   * grid.model.foo_bar: unknown key of a model file; a model file has hidden, ...}), or, when a
   * field the file gives is close ({@link NearMiss#didYouMean} over its fields), that field
   * ({@code mem1.Gib is missing from s.json (did you mean "mem1.GiB"?)}).
   */
  private static ConfigError missingField(Fields f, String at, Target target, JsonPath path, JsonNode spec,
                                          List<String> lacking, JsonNode first) {
    String kind = target.name().toLowerCase();
    String missing = "is not a field of every " + kind + " file (" + path + " is missing from "
        + (lacking.size() == 1 ? lacking.get(0)
           : String.join(", ", lacking.subList(0, lacking.size() - 1)) + " and " + lacking.get(lacking.size() - 1));
    String nearMiss = NearMiss.didYouMean(path.toString(), JsonPath.leaves(first));
    JsonNode probe = first.deepCopy();
    if (!path.setCreating(probe, probeValue(spec))) {
      // through a number, or an index of a list the file lacks: no file of the kind can have it
      return f.error(at, missing + nearMiss + ")");
    }
    ConfigError unknown = unknownKey(target, path, probe);
    if (unknown == null) {
      // a key the reader knows, left at its default (optimizer_kernel, attention_dropout, ...)
      return f.error(at, missing + "; a grid varies the fields the files give: to sweep a key left at its default, "
          + "write it into every " + kind + " file first)");
    }
    if (!nearMiss.isEmpty()) {
      return f.error(at, missing + nearMiss + ")");
    }
    String article = target == Target.EXECUTION ? "an " : "a ";
    String rule = unknown.rule().startsWith("unknown key")
        ? "unknown key of " + article + kind + " file" + unknown.rule().substring("unknown key".length())
        : unknown.rule();
    return f.error(at, (unknown.field().equals(path.toString()) ? "" : unknown.field() + ": ") + rule);
  }

  /**
   * The error the reader of a {@code target} file gives {@code file} when it is an unknown key
   * (or an unknown name, a system's {@code matrix.fp8}) on {@code path} or an object above it;
   * null when the reader knows the key (the file reads, or fails by another rule).
   */
  private static ConfigError unknownKey(Target target, JsonPath path, JsonNode file) {
    String name = target.name().toLowerCase() + " file";
    try {
      switch (target) {
        case MODEL -> ApplicationReader.read(file, name);
        case SYSTEM -> SystemReader.read(file, name);
        case EXECUTION -> ExecutionReader.read(file, name);
        case SEARCH -> { }
      }
    } catch (ConfigError e) {
      String p = path.toString();
      String field = e.field() == null ? "" : e.field();
      boolean onPath = !field.isEmpty() && (p.equals(field) || p.startsWith(field + ".") || p.startsWith(field + "["));
      return onPath && e.rule().startsWith("unknown") ? e : null;
    } catch (RuntimeException e) {
      return null;
    }
    return null;
  }

  /**
   * A swept search option beyond Calculon's space: each value must be one the key takes in the
   * {@code search} object (a list key also takes one value), checked by the search commands' rules.
   * The template is a file read once, not a value to sweep.
   */
  private static Axis searchOptionAxis(Fields f, String at, String key, JsonPath path, JsonNode spec,
                                       SearchSpec search, ModelVersion version) throws ConfigError {
    String k = path.toString();
    if (k.equals("execution_template")) {
      throw f.error(at, "cannot be swept: the template is a file read once (write one SPEC per template, "
          + "or sweep flash_attention here)");
    }
    List<JsonNode> values = values(f, at, spec);
    for (int i = 0; i < values.size(); i++) {
      JsonNode v = values.get(i);
      String vat = at + "[" + i + "]";
      if (k.equals("flash_attention") || k.equals("pipeline_schedules")) {
        f.bool(v, vat);
      } else {
        checkSearchValue(f, vat, k, v);
      }
      ObjectNode p = search.params().deepCopy();
      p.set(k, v);
      try {
        axes(p, version);
        template(search, p);
      } catch (SearchRequest.Invalid e) {
        throw f.error(vat, searchError(f.file, search, e, "").rule());
      }
    }
    return new Axis(key, Target.SEARCH, path, List.copyOf(values));
  }

  private static boolean isIntegral(JsonNode v) {
    if (v.isIntegralNumber()) {
      return true;
    }
    BigDecimal d = v.decimalValue();
    return d.stripTrailingZeros().scale() <= 0 && d.abs().compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) < 0;
  }

  private static List<JsonNode> values(Fields f, String at, JsonNode spec) throws ConfigError {
    List<JsonNode> out = new ArrayList<>();
    if (spec.isArray()) {
      if (spec.isEmpty()) {
        throw f.error(at, "is an empty list: a grid field needs at least one value");
      }
      spec.forEach(out::add);
      return out;
    }
    if (spec.isObject()) {
      f.noUnknown(spec, at, List.of("from", "to", "step"));
      for (String k : List.of("from", "to", "step")) {
        if (!spec.has(k) || !spec.get(k).isNumber()) {
          throw f.error(at + "." + k, "must be a number (a range is {\"from\": a, \"to\": b, \"step\": s})");
        }
      }
      BigDecimal from = spec.get("from").decimalValue();
      BigDecimal to = spec.get("to").decimalValue();
      BigDecimal step = spec.get("step").decimalValue();
      if (step.signum() <= 0) {
        throw f.error(at + ".step", "must be a positive number, got " + spec.get("step"));
      }
      if (to.compareTo(from) < 0) {
        throw f.error(at, "is an empty range: to (" + to + ") is below from (" + from + ")");
      }
      BigDecimal count = to.subtract(from).divide(step, java.math.RoundingMode.FLOOR).add(BigDecimal.ONE);
      if (count.compareTo(BigDecimal.valueOf(MAX_POINTS)) > 0) {
        throw f.error(at, "has more than " + MAX_POINTS + " values");
      }
      boolean ints = isIntegral(spec.get("from")) && isIntegral(spec.get("step"));
      // exact decimal steps: 0.1 + 0.2 is 0.3 here, not 0.30000000000000004
      for (int i = 0; i < count.intValue(); i++) {
        BigDecimal v = from.add(step.multiply(BigDecimal.valueOf(i)));
        out.add(ints ? LongNode.valueOf(v.longValueExact()) : DoubleNode.valueOf(v.doubleValue()));
      }
      return out;
    }
    if (spec.isNumber() || spec.isBoolean() || spec.isTextual()) {
      throw f.error(at, "must be a list of values or a range {\"from\", \"to\", \"step\"}, got the single value " + spec);
    }
    throw f.error(at, "must be a list of values or a range {\"from\", \"to\", \"step\"}");
  }

  static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The number of points: models x systems x every grid field's values. */
  public long points() {
    long n = (long) models.size() * systems.size();
    for (Axis a : grid) {
      n *= a.values().size();
    }
    return n;
  }

  /** Typed SPEC members; errors name the SPEC file and field. */
  static final class Fields {
    final String file;

    Fields(String file) { this.file = file; }

    ConfigError error(String field, String rule) {
      return new ConfigError(file, field, rule.replaceAll("[\\r\\n]+", " "));
    }

    /** Unknown keys of {@code obj} by the config readers' rule ({@link NearMiss#unknownKeys}), then the allowed ones. */
    void noUnknown(JsonNode obj, String at, List<String> allowed) throws ConfigError {
      List<String> unknown = new ArrayList<>();
      for (Iterator<String> it = obj.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        if (!allowed.contains(k)) {
          unknown.add(k);
        }
      }
      if (!unknown.isEmpty()) {
        String k = unknown.get(0);
        throw error(at.isEmpty() ? k : at + "." + k,
            NearMiss.unknownKeys(unknown, allowed, "allowed: " + String.join(", ", allowed)));
      }
    }

    int positiveInt(JsonNode v, String at) throws ConfigError {
      if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() <= 0) {
        throw error(at, "must be a positive integer, got " + v);
      }
      return v.asInt();
    }

    double positive(JsonNode v, String at) throws ConfigError {
      if (v == null || !v.isNumber() || !(v.asDouble() > 0) || !Double.isFinite(v.asDouble())) {
        throw error(at, "must be a positive number, got " + v);
      }
      return v.asDouble();
    }

    double nonNegative(JsonNode v, String at) throws ConfigError {
      if (v == null || !v.isNumber() || !(v.asDouble() >= 0) || !Double.isFinite(v.asDouble())) {
        throw error(at, "must be 0 or more, got " + v);
      }
      return v.asDouble();
    }

    boolean bool(JsonNode v, String at) throws ConfigError {
      if (v == null || !v.isBoolean()) {
        throw error(at, "must be true or false, got " + v);
      }
      return v.asBoolean();
    }
  }

  static BooleanNode bool(boolean b) { return BooleanNode.valueOf(b); }

  /** The "did you mean" of a string value that is none of {@code names} ({@link NearMiss#didYouMean}); "" for a non-string. */
  private static String hint(JsonNode v, List<String> names) {
    return v != null && v.isTextual() ? NearMiss.didYouMean(v.asText(), names) : "";
  }
}
