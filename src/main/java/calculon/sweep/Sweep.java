package calculon.sweep;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.ConfigError;
import calculon.config.Datatype;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.RunChecks;
import calculon.config.SystemEconomics;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.Infeasible;
import calculon.model.ModelVersion;
import calculon.schedule.Evaluator;
import calculon.search.BlockRecomputeNote;
import calculon.search.ExecutionEvaluator;
import calculon.search.Search;
import calculon.search.SearchKind;
import calculon.search.SearchOptions;
import calculon.search.SearchRequest;
import calculon.search.SearchTemplate;
import calculon.search.SpaceAxes;
import calculon.search.SearchResult;
import calculon.search.SearchSpace;
import calculon.search.output.ResultFormat;
import calculon.stats.ExecutionDict;
import calculon.stats.StatField;
import calculon.stats.Stats;
import calculon.util.PyFormat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A checked sweep: its points, their inputs, and the evaluation of one point. Points are numbered
 * models (slowest) x systems x grid fields in SPEC order (the last fastest); a point is evaluated
 * independently of the others (the unit an engine distributes), with a one-thread search, so its
 * records depend on nothing but the SPEC. Thread-safe.
 */
public final class Sweep {
  /** Stats columns written for the best execution(s), stats keys as in the stats files. */
  static final List<StatField> STAT_COLUMNS = List.of(StatField.TOTAL_TIME, StatField.SAMPLE_RATE,
      StatField.TOTAL_EFFICIENCY, StatField.PROC_MEM_TIER1_CAP_REQ, StatField.PROC_MEM_TIER2_CAP_REQ,
      StatField.BUBBLE_TIME, StatField.RECOMM_EXPOSED_TIME, StatField.TP_COMM_EXPOSED_TIME,
      StatField.EP_COMM_EXPOSED_TIME, StatField.ES_COMM_EXPOSED_TIME, StatField.PP_COMM_EXPOSED_TIME,
      StatField.DP_COMM_EXPOSED_TIME, StatField.FW_OFFLOAD_EXPOSED_TIME, StatField.BW_OFFLOAD_EXPOSED_TIME);

  /**
   * The execution columns: the reference's 32 keys, then what the corrected model's searches
   * enumerate beyond them and the attention ({@link ResultFormat#EXTRA_EXECUTION_KEYS}: ZeRO stage,
   * CP degree, tier and comm type, pipeline schedule, flash attention), as the search commands'
   * CSV results write them, so a study's table says which execution won.
   */
  static final List<String> EXECUTION_COLUMNS = ResultFormat.executionColumns(true);

  /** Status of a point with a good execution. */
  public static final String OK = "ok";
  /** Status prefix of a point where nothing runs (memory, tiers...), and of one the inputs forbid. */
  public static final String INFEASIBLE = "infeasible";
  public static final String INVALID = "invalid";

  private final SweepSpec spec;
  private final SweepFormat format;
  private final List<String> columns;
  private final int[] radix;
  /**
   * The optional execution keys the execution file or the search's template gives beyond
   * {@link #EXECUTION_COLUMNS} ({@link #keyColumns()}), written after them: so a record says every
   * key its execution ran with. Empty when neither gives one.
   */
  private final List<String> keyColumns;
  private final Map<String, Object> systems = new ConcurrentHashMap<>();
  private final Map<String, Object> models = new ConcurrentHashMap<>();
  private final Map<String, Object> executions = new ConcurrentHashMap<>();
  /** Searches running now, so {@link #cancel()} can stop them mid-point. */
  private final java.util.Set<Search> running = ConcurrentHashMap.newKeySet();
  private volatile boolean cancelled;

  /** A sweep of {@code spec} whose records are written in {@code format}. */
  public Sweep(SweepSpec spec, SweepFormat format) {
    this.spec = spec;
    this.format = format;
    List<SweepSpec.Axis> grid = spec.grid();
    radix = new int[grid.size() + 2];
    radix[0] = spec.models().size();
    radix[1] = spec.systems().size();
    for (int i = 0; i < grid.size(); i++) {
      radix[i + 2] = grid.get(i).values().size();
    }
    keyColumns = keyColumns();
    columns = columns(spec, keyColumns);
  }

  public SweepSpec spec() { return spec; }

  public SweepFormat format() { return format; }

  /** Output columns, in order. */
  public List<String> columns() { return columns; }

  public long size() { return spec.points(); }

  /** Index of the first grid column in {@link #columns()} (after point, model, system). */
  public static final int FIRST_AXIS_COLUMN = 3;

  private static List<String> columns(SweepSpec spec, List<String> keyColumns) {
    List<String> fixed = new ArrayList<>();
    fixed.add("rank");
    fixed.add("status");
    fixed.addAll(EXECUTION_COLUMNS);
    fixed.addAll(keyColumns);
    for (StatField f : STAT_COLUMNS) {
      fixed.add(f.key);
    }
    fixed.addAll(Metrics.COLUMNS);
    List<String> cols = new ArrayList<>(List.of("point", "model", "system"));
    for (SweepSpec.Axis a : spec.grid()) {
      // a grid key that is also a record column (num_procs) is written as grid.<key>
      cols.add(fixed.contains(a.name()) || cols.contains(a.name()) ? "grid." + a.name() : a.name());
    }
    cols.addAll(fixed);
    return List.copyOf(cols);
  }

  /**
   * The optional execution keys beyond {@link #EXECUTION_COLUMNS} that shape some record's
   * execution, in {@link ExecutionDict#optionalKeys} order: for a search, the template's
   * ({@link ResultFormat#templateColumns}, its {@code moe_*} keys in a MoE search only); for a
   * fixed execution, those any execution the grid makes of the file gives (a grid over
   * {@code execution.recompute_num_layers}, say). Under calculon-moe not the keys that model
   * ignores (its search results leave them out). A record whose execution lacks one (a template's
   * {@code recompute_method} at an execution without full recompute) leaves its cell empty.
   */
  private List<String> keyColumns() {
    boolean corrected = spec.version().corrected();
    java.util.Set<String> keys = new java.util.LinkedHashSet<>();
    if (spec.execution() != null) {
      // each execution the grid makes: the product of the execution fields' values
      List<Integer> axes = new ArrayList<>();
      for (int i = 0; i < spec.grid().size(); i++) {
        if (spec.grid().get(i).target() == SweepSpec.Target.EXECUTION) {
          axes.add(i);
        }
      }
      int[] d = new int[radix.length];
      while (true) {
        try {
          keys.addAll(ExecutionDict.optionalKeys(execution(d)).keySet());
        } catch (ConfigError | RuntimeException e) {
          // an execution that does not read: validate() names it
        }
        int a = axes.size() - 1;
        while (a >= 0 && ++d[axes.get(a) + 2] == radix[axes.get(a) + 2]) {
          d[axes.get(a) + 2] = 0;
          a--;
        }
        if (a < 0) {
          break;
        }
      }
    } else if (spec.search() != null && spec.search().templateExecution() != null) {
      // the keys the template gives the executions of some point: at each datatype the SPEC's
      // search runs (its search.datatype, or each value of a grid over it), as the search at that
      // datatype keeps them (SearchTemplate#relevantTo: fp8_recipe for float8 only, moe_* keys in
      // a MoE search only). From the SPEC, not from the rows computed, so the header is the same
      // in every run and resume of one SPEC; a key no point's search carries (fp8_recipe where no
      // point searches float8) would be a column empty in every row
      SearchTemplate t = SearchTemplate.of(spec.search().templateExecution());
      for (Datatype dt : searchDatatypes()) {
        keys.addAll(ResultFormat.templateColumns(t.relevantTo(spec.search().kind().isMoe(), dt), corrected));
      }
    }
    keys.removeAll(EXECUTION_COLUMNS);
    if (!corrected) {
      keys.removeAll(ExecutionDict.IGNORED_BY_CALCULON_MOE);
    }
    return List.copyOf(keys);
  }

  /**
   * The datatypes the SPEC's search runs at some point, in SPEC order: each value of a grid over
   * {@code search.datatype}, else the search's {@code datatype}. A value that is no datatype is
   * skipped ({@link #validate()} names it).
   */
  private List<Datatype> searchDatatypes() {
    List<JsonNode> values = List.of(spec.search().params().path("datatype"));
    for (SweepSpec.Axis a : spec.grid()) {
      if (a.target() == SweepSpec.Target.SEARCH && a.path().toString().equals("datatype")) {
        values = a.values();
      }
    }
    java.util.Set<Datatype> out = new java.util.LinkedHashSet<>();
    for (JsonNode v : values) {
      Datatype dt = Datatype.fromJson(v.asText());
      if (dt != null) {  // not a datatype: validate() refuses the SPEC before any column is written
        out.add(dt);
      }
    }
    return List.copyOf(out);
  }

  /** The digits of a point: model, system, then each grid field's value index. */
  int[] digits(long index) {
    int[] d = new int[radix.length];
    for (int i = radix.length - 1; i >= 0; i--) {
      d[i] = (int) (index % radix[i]);
      index /= radix[i];
    }
    return d;
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs of a point

  private String key(int[] d, int fileDigit, SweepSpec.Target t) {
    StringBuilder b = new StringBuilder().append(d[fileDigit]);
    for (int i = 0; i < spec.grid().size(); i++) {
      if (spec.grid().get(i).target() == t) {
        b.append(',').append(d[i + 2]);
      }
    }
    return b.toString();
  }

  private JsonNode apply(JsonNode base, int[] d, SweepSpec.Target t) {
    JsonNode copy = base.deepCopy();
    for (int i = 0; i < spec.grid().size(); i++) {
      SweepSpec.Axis a = spec.grid().get(i);
      if (a.target() == t) {
        a.path().set(copy, a.values().get(d[i + 2]));
      }
    }
    return copy;
  }

  /** The grid values that changed a file of kind {@code t} at this point, for messages. */
  private String changes(int[] d, SweepSpec.Target t) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < spec.grid().size(); i++) {
      SweepSpec.Axis a = spec.grid().get(i);
      if (a.target() == t) {
        b.append(b.length() == 0 ? "" : ", ").append("grid.").append(a.name()).append(" = ")
            .append(a.values().get(d[i + 2]));
      }
    }
    return b.toString();
  }

  private ConfigError inputError(int[] d, SweepSpec.Target t, String listKey, int digit, ConfigError e) {
    // the grid field whose value the file's rule names, when there is one
    for (int i = 0; i < spec.grid().size(); i++) {
      SweepSpec.Axis a = spec.grid().get(i);
      if (a.target() == t && a.path().toString().equals(e.field())) {
        return new ConfigError(spec.name(), "grid." + a.name(), "the value " + a.values().get(d[i + 2])
            + " makes " + e.file() + " invalid: " + e.rule());
      }
    }
    String ch = changes(d, t);
    String field = ch.isEmpty() ? listKey + "[" + d[digit] + "]" : ch.substring(0, ch.indexOf(" = "));
    String rule = (ch.isEmpty() ? "" : ch + " makes ") + "an invalid " + t.name().toLowerCase() + ": "
        + e.getMessage();
    return new ConfigError(spec.name(), field, rule);
  }

  SystemSpec system(int[] d) throws ConfigError {
    Object o = systems.computeIfAbsent(key(d, 1, SweepSpec.Target.SYSTEM), k -> {
      SweepSpec.Input in = spec.systems().get(d[1]);
      try {
        return SystemReader.read(apply(in.json(), d, SweepSpec.Target.SYSTEM), in.file());
      } catch (ConfigError e) {
        return inputError(d, SweepSpec.Target.SYSTEM, "systems", 1, e);
      }
    });
    if (o instanceof ConfigError e) {
      throw e;
    }
    return (SystemSpec) o;
  }

  Application model(int[] d) throws ConfigError {
    Object o = models.computeIfAbsent(key(d, 0, SweepSpec.Target.MODEL), k -> {
      SweepSpec.Input in = spec.models().get(d[0]);
      try {
        return ApplicationReader.read(apply(in.json(), d, SweepSpec.Target.MODEL), in.file());
      } catch (ConfigError e) {
        return inputError(d, SweepSpec.Target.MODEL, "models", 0, e);
      }
    });
    if (o instanceof ConfigError e) {
      throw e;
    }
    return (Application) o;
  }

  Execution execution(int[] d) throws ConfigError {
    SweepSpec.Input in = spec.execution();
    Object o = executions.computeIfAbsent(key(withFirst(d), 0, SweepSpec.Target.EXECUTION), k -> {
          try {
            return ExecutionReader.read(apply(in.json(), d, SweepSpec.Target.EXECUTION), in.file());
          } catch (ConfigError e) {
            return inputError(d, SweepSpec.Target.EXECUTION, "execution", 0, e);
          }
        });
    if (o instanceof ConfigError e) {
      throw e;
    }
    return (Execution) o;
  }

  /** The digits with the file digit 0 (there is one execution file). */
  private static int[] withFirst(int[] d) {
    int[] c = d.clone();
    c[0] = 0;
    return c;
  }

  /** The search's parameters at this point (grid values applied). */
  ObjectNode searchParams(int[] d) {
    return (ObjectNode) apply(spec.search().params(), d, SweepSpec.Target.SEARCH);
  }

  /** The search options at a point; {@code procs} the processors (num_procs or what the budget buys). */
  SearchOptions searchOptions(ObjectNode p, int procs, Application app) {
    SweepSpec.SearchSpec s = spec.search();
    int experts = app.architecture().moe() != null ? app.architecture().moe().numExperts() : p.get("experts").asInt();
    List<Boolean> fused = switch (p.get("fused_activation").asText()) {
      case "false" -> List.of(false);
      case "both" -> List.of(false, true);
      default -> List.of(true);
    };
    return new SearchOptions(s.kind(), procs, p.get("max_batch_size").asInt(),
        Datatype.fromJson(p.get("datatype").asText()), fused,
        s.kind() == SearchKind.DENSE && p.get("mbs_break").asBoolean(), p.get("tp_overlap").asBoolean(),
        p.get("dp_overlap").asBoolean(), p.get("offload").asBoolean(), experts, spec.topN(), false);
  }

  /** The space beyond Calculon's knobs at a point (checked by {@link #validate()}). */
  SpaceAxes axes(ObjectNode p) {
    try {
      return SweepSpec.axes(p, spec.version());
    } catch (SearchRequest.Invalid e) {
      throw new IllegalStateException("a checked sweep's search options break a rule: " + e.getMessage(), e);
    }
  }

  /** The keys every execution of a point's search carries (checked by {@link #validate()}). */
  SearchTemplate template(ObjectNode p) {
    try {
      return SweepSpec.template(spec.search(), p);
    } catch (SearchRequest.Invalid e) {
      throw new IllegalStateException("a checked sweep's search options break a rule: " + e.getMessage(), e);
    }
  }

  /**
   * Processors at a point: the search's num_procs, or with a budget the most that it buys in
   * multiples of budget_procs_multiple (0 when it buys none).
   */
  int procs(ObjectNode p, SystemSpec sys) {
    Double budget = spec.economics().budgetUsd();
    if (budget == null) {
      return p.get("num_procs").asInt();
    }
    double per = SystemEconomics.of(sys).price().perProcessorUsd(sys);
    int m = spec.economics().budgetProcsMultiple();
    double units = Math.floor(budget / (per * m));
    return (int) Math.min(Integer.MAX_VALUE / m, units) * m;
  }

  /**
   * Checks every point's inputs before any work: each model, system and execution file as the grid
   * changes it parses, the search options agree, the search's datatype is one the system has, a mixture-of-experts model is
   * searched with a MoE search, and a budget has prices to spend on.
   *
   * @throws ConfigError naming the SPEC, the grid field and value, and the rule
   */
  public void validate() throws ConfigError {
    long n = size();
    for (long i = 0; i < n; i++) {
      int[] d = digits(i);
      SystemSpec sys = system(d);
      Application app = model(d);
      if (spec.execution() != null) {
        execution(d);
        continue;
      }
      ObjectNode p = searchParams(d);
      Datatype dt = Datatype.fromJson(p.get("datatype").asText());
      if (!sys.matrix().containsKey(dt) || !sys.vector().containsKey(dt)) {
        String ch = changes(d, SweepSpec.Target.SEARCH);
        throw new ConfigError(spec.name(), "search.datatype", "the system " + spec.systems().get(d[1]).file()
            + " has no " + dt.jsonName + " rates" + (ch.isEmpty() ? "" : " (at " + ch + ")"));
      }
      try {
        // the search options together, at this point's values (a swept tp_overlap false
        // contradicts tp_overlaps)
        SweepSpec.axes(p, spec.version());
      } catch (SearchRequest.Invalid e) {
        String ch = changes(d, SweepSpec.Target.SEARCH);
        throw SweepSpec.searchError(spec.name(), spec.search(), e, ch.isEmpty() ? "" : " (at " + ch + ")");
      }
      if (spec.search().template() != null) {
        // the execution reader's cross-file rules for the template, at this point's datatype and system
        try {
          SearchRequest.checkTemplate(template(p), spec.search().template().file(), dt, sys,
              spec.systems().get(d[1]).file());
        } catch (SearchRequest.Invalid e) {
          String ch = changes(d, SweepSpec.Target.SEARCH);
          throw SweepSpec.searchError(spec.name(), spec.search(), e, ch.isEmpty() ? "" : " (at " + ch + ")");
        }
      }
      if (app.architecture().moe() != null && !spec.search().kind().isMoe()) {
        throw new ConfigError(spec.name(), "search.command", spec.models().get(d[0]).file()
            + " is a mixture-of-experts model: search it with llm-optimal-execution-moe or -moe-flexible");
      }
      if (spec.economics().budgetUsd() != null) {
        SystemEconomics.Price price = SystemEconomics.of(sys).price();
        if (price == null || price.perProcessorUsd(sys) <= 0) {
          throw new ConfigError(spec.name(), "budget_usd", "needs a price > 0 in every system; "
              + spec.systems().get(d[1]).file() + " has " + (price == null ? "no price key" : "a price of 0"));
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Evaluation

  /**
   * Stops the searches running now and every later {@link #evaluate}: they return null (a point
   * cut short is never written; a resumed sweep evaluates it again). For Ctrl-C.
   */
  public void cancel() {
    cancelled = true;
    running.forEach(Search::cancel);
  }

  /** Thrown inside an evaluation that {@link #cancel()} stopped. */
  private static final class Cancelled extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Cancelled() {
      super(null, null, false, false);
    }
  }

  /**
   * Evaluates one point: its search (one thread) or its fixed execution. Never throws for what a
   * point's inputs cause: a point where nothing runs is one {@code infeasible} record, one the
   * model or search rejects as inconsistent one {@code invalid: <reason>} record.
   *
   * @return the point's records, or null when {@link #cancel()} stopped it
   */
  public PointResult evaluate(long index) {
    if (cancelled) {
      return null;
    }
    int[] d = digits(index);
    List<Object> prefix = new ArrayList<>();
    prefix.add(index);
    prefix.add(spec.models().get(d[0]).label());
    prefix.add(spec.systems().get(d[1]).label());
    for (int i = 0; i < spec.grid().size(); i++) {
      prefix.add(cell(spec.grid().get(i).values().get(d[i + 2])));
    }
    List<Row> rows;
    try {
      rows = spec.execution() != null ? fixed(d) : search(d);
    } catch (ConfigError e) {
      rows = List.of(Row.status(INVALID + ": " + oneLine(e.getMessage())));
    } catch (Cancelled e) {
      return null;
    } catch (RuntimeException e) {
      rows = List.of(Row.status(INVALID + ": " + oneLine(String.valueOf(e.getMessage()))));
    }
    StringBuilder text = new StringBuilder();
    for (int r = 0; r < rows.size(); r++) {
      Row row = rows.get(r);
      List<Object> cells = new ArrayList<>(prefix);
      cells.add(row.status.equals(OK) ? (Object) (long) (r + 1) : null);
      cells.add(row.status);
      cells.addAll(row.values);
      while (cells.size() < columns.size()) {
        cells.add(null);  // a status record's key columns (Row#status counts the fixed ones)
      }
      text.append(format.record(columns, cells));
    }
    // the point's best as its first record says it, read back as a resumed sweep reads it
    String first = text.substring(0, text.indexOf("\n"));
    PointBest best = PointBest.of(format.cells(first, columns));
    return new PointResult(index, text.toString(), best.rate(), best.label());
  }

  /**
   * A point's best sample rate and the short name of its execution, taken from the point's first
   * record as written ({@link SweepFormat#cells}): the same for a point evaluated now and one a
   * resumed sweep reads back from OUTPUT, so the sweep's best (the first point with the highest rate,
   * {@link SweepRunner}) is named the same whether or not the sweep was resumed.
   *
   * @param rate  the sample rate (samples/s), NaN when the point has no good execution
   * @param label "TP t PP p DP d [CP c] [EP e] [ZeRO z] mbs m batch b" (ZeRO in the corrected
   *              model), or the point's status
   */
  public record PointBest(double rate, String label) {
    static PointBest of(java.util.Map<String, String> r) {
      if (r == null || !OK.equals(r.get("status")) || r.get("sample_rate").isEmpty()) {
        return new PointBest(Double.NaN, r == null ? "" : r.get("status"));
      }
      String label = "TP " + r.get("tensor_par") + " PP " + r.get("pipeline_par") + " DP " + r.get("data_par")
          + (r.get("context_par").isEmpty() || r.get("context_par").equals("1") ? "" : " CP " + r.get("context_par"))
          + (r.get("model_MoE").equalsIgnoreCase("true") ? " EP " + r.get("expert_par") : "")
          + (r.get("zero_stage").isEmpty() ? "" : " ZeRO " + r.get("zero_stage")) + " mbs " + r.get("microbatch_size") + " batch " + r.get("batch_size");
      return new PointBest(Double.parseDouble(r.get("sample_rate")), label);
    }
  }

  private static Object cell(JsonNode v) {
    if (v.isArray()) {
      return v.toString();  // a list a search key takes (zero_stages ...), as JSON
    }
    if (v.isIntegralNumber()) {
      return v.asLong();
    }
    if (v.isNumber()) {
      return v.asDouble();
    }
    if (v.isBoolean()) {
      return v.asBoolean();
    }
    return v.asText();
  }

  static String oneLine(String s) {
    return s.replaceAll("[\\r\\n\\t]+", " ");
  }

  /** One output record's status and values after the status column. */
  private record Row(String status, List<Object> values) {
    static Row status(String status) {
      List<Object> v = new ArrayList<>();
      int n = EXECUTION_COLUMNS.size() + STAT_COLUMNS.size() + Metrics.COLUMNS.size();
      for (int i = 0; i < n; i++) {
        v.add(null);
      }
      return new Row(status, v);
    }
  }

  private Row row(Stats s, Application app, Execution exe, SystemSpec sys) {
    List<Object> v = new ArrayList<>(ResultFormat.executionValues(exe));
    if (spec.version().corrected()) {
      v.addAll(ResultFormat.extraExecutionValues(exe));
    } else {
      // keys of the corrected model only: calculon-moe reads optimizer_sharding alone, runs no CP,
      // Calculon's schedule and no fused attention, so these cells stay empty
      ResultFormat.EXTRA_EXECUTION_KEYS.forEach(k -> v.add(null));
    }
    for (Object x : ResultFormat.templateValues(exe, keyColumns)) {
      // a list (recompute_modules) as the search commands' CSV writes it: ['core_attn', 'mlp']
      v.add(x instanceof List<?> ? ResultFormat.pyStr(x) : x);
    }
    for (int i = 0; i < v.size(); i++) {
      if (v.get(i) instanceof Integer n) {
        v.set(i, (long) n);
      }
    }
    for (StatField f : STAT_COLUMNS) {
      v.add(s.isNull(f) ? null : s.get(f));
    }
    for (double m : Metrics.of(s, app, exe, sys, spec.economics())) {
      v.add(m);
    }
    return new Row(OK, v);
  }

  private List<Row> fixed(int[] d) throws ConfigError {
    Application app = model(d);
    SystemSpec sys = system(d);
    Execution exe = execution(d);
    RunChecks.check(app, exe, sys, spec.models().get(d[0]).file(), spec.execution().file(),
        spec.systems().get(d[1]).file());
    try {
      Stats s = Evaluator.evaluate(app, exe, new Hardware(sys, exe.datatype()), spec.version(), false);
      return List.of(row(s, app, exe, sys));
    } catch (Infeasible e) {
      return List.of(Row.status(INFEASIBLE + ": " + oneLine(e.getMessage())));
    }
  }

  /**
   * Blocks shared by the searches of all points (thread-safe): points with the same model, system
   * and model version (system sizes, most grids) build each block once (docs/search.md).
   */
  private final calculon.schedule.BlockCache blocks = new calculon.schedule.BlockCache();

  /**
   * The space a point searches, or null when its budget buys no processors: as the search
   * commands build it, the corrected model merging no-op duplicates (NoOpKnobs), the template's
   * keys and the space beyond Calculon's knobs as the command's flags give them.
   */
  private SearchSpace space(int[] d) throws ConfigError {
    Application app = model(d);
    SystemSpec sys = system(d);
    ObjectNode p = searchParams(d);
    int procs = procs(p, sys);
    if (procs <= 0) {
      return null;
    }
    return new SearchSpace(app, sys, searchOptions(p, procs, app), spec.version().corrected(), template(p), axes(p));
  }

  /**
   * What a search sweep asked for that no execution of a point runs: each line of
   * {@link SearchSpace#notTried} (the search commands' "note: not tried: ..." lines, by the same
   * rule) once, in the order first met, after {@code calculon sweep: } and followed by the points it
   * applies to: {@code calculon sweep: note: not tried: context_par 3 (it does not divide num_procs
   * 1) at 2 of 6 points (the first: point 1)}. Empty for a sweep of a fixed execution and when every asked value runs
   * at every point. A point whose space cannot be built (its search reports it as invalid) is
   * skipped. Builds each point's space once more (its partitions, not its executions). Preceded by
   * the notes of a MoE search's default number of experts ({@link #defaultExpertsNotes}).
   */
  public List<String> notTried() {
    List<String> out = new ArrayList<>(defaultExpertsNotes());
    out.addAll(notTriedValues());
    return out;
  }

  /**
   * Under {@code "model_version": "calculon-moe"}, the one note {@code llm} and the searches print
   * for the corrected-model keys that version ignores ({@link ExecutionDict#calculonMoeIgnoredNote}):
   * the keys each model file gives at any point (as the grid changes it), then those of the
   * execution file or the search's {@code execution_template}; with {@code " at K of N points (the
   * first: point i)"} when only some points' files give them (a grid over {@code
   * model.attention_dropout}, say). E.g. {@code note: model_version calculon-moe ignores
   * hidden_dropout in m.json and flash_attention in exe.json (corrected-model keys,
   * docs/reference.md); the results are Calculon-MoE's without them}. Null under the corrected
   * model and when no file gives such a key. A point whose files cannot be read is skipped
   * ({@link #validate()} reports it).
   */
  public String calculonMoeIgnoredNote() {
    if (spec.version() != ModelVersion.CALCULON_MOE) {
      return null;
    }
    Map<String, java.util.LinkedHashSet<String>> keys = new java.util.LinkedHashMap<>();
    for (SweepSpec.Input m : spec.models()) {
      keys.put(m.file(), new java.util.LinkedHashSet<>());
    }
    Execution template = spec.search() == null ? null : spec.search().templateExecution();
    String exeFile = spec.execution() != null ? spec.execution().file()
        : template != null ? spec.search().template().file() : null;
    if (exeFile != null) {
      keys.putIfAbsent(exeFile, new java.util.LinkedHashSet<>());
    }
    long[] points = {0, -1};
    long n = size();
    for (long i = 0; i < n; i++) {
      int[] d = digits(i);
      List<String> model;
      List<String> exe;
      try {
        model = ExecutionDict.givenModelKeysIgnoredByCalculonMoe(model(d));
        // the keys the search drops at this point are named by ignoredKeysNotes, not here
        Execution e = spec.execution() != null ? execution(d) : SearchRequest.withoutIgnoredKeys(template,
            spec.search().kind(), Datatype.fromJson(searchParams(d).get("datatype").asText()));
        exe = e == null ? List.of() : ExecutionDict.givenKeysIgnoredByCalculonMoe(e);
      } catch (ConfigError | RuntimeException e) {
        continue;
      }
      if (model.isEmpty() && exe.isEmpty()) {
        continue;
      }
      keys.get(spec.models().get(d[0]).file()).addAll(model);
      if (exeFile != null) {
        keys.get(exeFile).addAll(exe);
      }
      countPoint(points, i);
    }
    Map<String, List<String>> lists = new java.util.LinkedHashMap<>();
    keys.forEach((file, k) -> lists.put(file, List.copyOf(k)));
    String note = ExecutionDict.calculonMoeIgnoredNote("model_version calculon-moe", lists, "the results are");
    return note == null || points[0] == n ? note : note + atPoints(points, n);
  }

  /**
   * The notes of the keys the execution file (or the search's {@code execution_template}) gives
   * that change nothing at some point ({@link ExecutionReader#ignoredKeysNote},
   * {@link SearchRequest#templateIgnoredKeysNote}): each distinct note once, with
   * {@code " at K of N points (the first: point i)"} when only some points drop the keys (a grid
   * over {@code execution.datatype} or {@code search.datatype}, say), so a sweep says it once as
   * {@code llm} and the searches do, not once per point. Empty when no point drops a key. A point
   * whose files cannot be read is skipped ({@link #validate()} reports it).
   */
  public List<String> ignoredKeysNotes() {
    SweepSpec.SearchSpec s = spec.search();
    Execution template = s == null ? null : s.templateExecution();
    if (spec.execution() == null && template == null) {
      return List.of();
    }
    Map<String, long[]> seen = new java.util.LinkedHashMap<>();  // note -> {points, first point}
    long n = size();
    for (long i = 0; i < n; i++) {
      int[] d = digits(i);
      String[] note = {null};
      try {
        if (spec.execution() != null) {
          SweepSpec.Input in = spec.execution();
          ExecutionReader.read(apply(in.json(), d, SweepSpec.Target.EXECUTION), in.file(), x -> note[0] = x);
        } else {
          note[0] = SearchRequest.templateIgnoredKeysNote(template, s.template().file(), s.kind(),
              Datatype.fromJson(searchParams(d).get("datatype").asText()));
        }
      } catch (ConfigError | RuntimeException e) {
        continue;
      }
      if (note[0] != null) {
        countPoint(seen, note[0], i);
      }
    }
    List<String> out = new ArrayList<>();
    seen.forEach((line, c) -> out.add(c[0] == n ? line : line + atPoints(c, n)));
    return out;
  }

  /**
   * Under the corrected model, the note {@code llm} and the searches print where
   * {@code recompute_method: block} recomputes every block ({@link BlockRecomputeNote}): for a
   * sweep of an execution file, where its {@code recompute_num_layers} covers every pipeline chunk
   * of a point ({@link BlockRecomputeNote#forRun}); for a search sweep, where the
   * {@code execution_template}'s covers the largest chunk of every execution with full recompute a
   * point's search tries ({@link BlockRecomputeNote#forSearch}). Each distinct note once, with
   * {@code " at K of N points (the first: point i)"} when only some points are so (a grid over
   * {@code execution.pipeline_par}, say). Empty under calculon-moe (which refuses the key) and
   * when no point is so. A point whose files cannot be read, or whose space cannot be built, is
   * skipped ({@link #validate()} and its row report it); a fixed execution's point is judged from
   * its files, before it runs.
   */
  public List<String> blockRecomputeNotes() {
    SweepSpec.SearchSpec s = spec.search();
    if (!spec.version().corrected() || (spec.execution() == null && (s == null || s.template() == null))) {
      return List.of();
    }
    Map<String, long[]> seen = new java.util.LinkedHashMap<>();  // note -> {points, first point}
    long n = size();
    for (long i = 0; i < n; i++) {
      int[] d = digits(i);
      String note;
      try {
        if (spec.execution() != null) {
          note = BlockRecomputeNote.forRun(model(d).numBlocks(), execution(d), spec.execution().file());
        } else {
          SearchSpace space = space(d);
          note = space == null ? null : BlockRecomputeNote.forSearch(model(d).numBlocks(),
              template(searchParams(d)).layerOptions(), space.partitions(), s.template().file());
        }
      } catch (ConfigError | RuntimeException e) {
        continue;
      }
      if (note != null) {
        countPoint(seen, note, i);
      }
    }
    List<String> out = new ArrayList<>();
    seen.forEach((line, c) -> out.add(c[0] == n ? line : line + atPoints(c, n)));
    return out;
  }

  /**
   * A MoE search's default number of experts where nobody chose it, as {@code loe-moe} says it
   * ({@link SearchRequest#defaultExpertsNote}): once per model file without {@code moe.num_experts}
   * (neither the SPEC's {@code search.experts} nor a grid field gives the number), with the points
   * it applies to as the "not tried" notes count them: {@code calculon sweep: note: m.json has no moe.num_experts:
   * searched as a mixture of experts with search.experts's default of 16 experts (give "experts": E
   * in the SPEC's search; ...) at 2 of 2
   * points (the first: point 0)}. A point whose model cannot be read is skipped ({@link #validate()}
   * reports it).
   */
  List<String> defaultExpertsNotes() {
    SweepSpec.SearchSpec s = spec.search();
    if (spec.execution() != null || s == null || !s.kind().isMoe() || s.expertsGiven() || spec.grid().stream()
        .anyMatch(a -> a.target() == SweepSpec.Target.SEARCH && a.path().toString().equals("experts"))) {
      return List.of();
    }
    Map<String, long[]> seen = new java.util.LinkedHashMap<>();  // model file -> {points, first point}
    long n = size();
    for (long i = 0; i < n; i++) {
      int[] d = digits(i);
      try {
        if (model(d).architecture().moe() != null) {
          continue;
        }
      } catch (ConfigError | RuntimeException e) {
        continue;
      }
      countPoint(seen, spec.models().get(d[0]).file(), i);
    }
    List<String> out = new ArrayList<>();
    seen.forEach((file, c) -> out.add(SearchRequest.defaultExpertsNote("sweep", file, "search.experts", "\"experts\": E in the SPEC's search",
        "\"command\": \"llm-optimal-execution\"") + atPoints(c, n)));
    return out;
  }

  /** Counts point {@code i} for {@code key} in {@code seen}: {points, first point}. */
  private static void countPoint(Map<String, long[]> seen, String key, long i) {
    countPoint(seen.computeIfAbsent(key, k -> new long[] {0, -1}), i);
  }

  /** Counts point {@code i} in {points, first point}. */
  private static void countPoint(long[] c, long i) {
    c[0]++;
    if (c[1] < 0) {
      c[1] = i;
    }
  }

  /** " at 2 of 6 points (the first: point 1)" for {points, first point} of {@code n}. */
  private static String atPoints(long[] c, long n) {
    return " at " + c[0] + " of " + n + (n == 1 ? " point" : " points") + " (the first: point " + c[1] + ")";
  }

  /** The "not tried" part of {@link #notTried()}. */
  private List<String> notTriedValues() {
    if (spec.execution() != null) {
      return List.of();
    }
    Map<String, long[]> seen = new java.util.LinkedHashMap<>();  // line -> {points, first point}
    long n = size();
    for (long i = 0; i < n; i++) {
      int[] d = digits(i);
      SearchSpace space;
      try {
        space = space(d);
      } catch (ConfigError | RuntimeException e) {
        continue;
      }
      if (space == null) {
        continue;
      }
      for (String line : space.notTried(!searchParams(d).get("tp_overlaps").isNull())) {
        countPoint(seen, line, i);
      }
    }
    List<String> out = new ArrayList<>();
    seen.forEach((line, c) -> out.add("calculon sweep: " + line + atPoints(c, n)));
    return out;
  }

  private List<Row> search(int[] d) throws ConfigError {
    Application app = model(d);
    SystemSpec sys = system(d);
    SearchSpace space = space(d);
    if (space == null) {
      return List.of(Row.status(INFEASIBLE + ": the budget buys no processors"));
    }
    String noCp = space.contextParsNoneCanRun();
    if (noCp != null) {
      // the point searches exactly the listed CP degrees, as the search commands do
      return List.of(Row.status(INFEASIBLE + ": search.context_par: " + noCp));
    }
    SearchOptions o = space.options();
    ExecutionEvaluator ev = ExecutionEvaluator.model(app, new Hardware(sys, o.datatype()), spec.version(), blocks);
    Search.Outcome out;
    Search search = new Search(space, ev);
    running.add(search);
    try {
      if (cancelled) {
        throw new Cancelled();
      }
      out = search.run(1, null, null);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    } finally {
      running.remove(search);
    }
    if (out.interrupted()) {
      throw new Cancelled();
    }
    if (out.best().isEmpty()) {
      return List.of(Row.status(INFEASIBLE + ": no execution of " + out.counts().total + " runs"));
    }
    List<Row> rows = new ArrayList<>();
    for (SearchResult r : out.best()) {
      rows.add(row(r.stats(), app, r.execution(), sys));
    }
    return rows;
  }

  /** The best sample rate, formatted for the progress line. */
  static String rate(double r) {
    return Double.isNaN(r) ? "-" : PyFormat.fixed(r, 4);
  }
}
