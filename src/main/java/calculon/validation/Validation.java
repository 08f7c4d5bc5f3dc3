package calculon.validation;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.ConfigError;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.RunChecks;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.Infeasible;
import calculon.model.ModelVersion;
import calculon.schedule.Evaluator;
import calculon.stats.StatField;
import calculon.stats.Stats;
import calculon.util.PyFormat;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleBiFunction;

/**
 * Runs the model on the configurations of Korthikanti et al. 2022 and prints the error against
 * their measurements, in the original Calculon's table layout, then one summary line per table.
 * Figures 1 and 7 use {@code systems/a100_80e.json}; Table 5 uses the original Calculon's
 * {@code a100_80g} (shipped as {@code systems/a100_80g_calculon.json}: tier 0 of 8 GPUs, the system
 * the measurements were made on; Calculon-MoE's {@code a100_80g.json} widened it to 4096).
 */
public final class Validation {
  static final double BYTES_PER_GIB = 1024.0 * 1024.0 * 1024.0;
  static final String FIG_SYSTEM = "systems/a100_80e.json";
  static final String TAB5_SYSTEM = "systems/a100_80g_calculon.json";

  /**
   * Mean and maximum absolute relative error of one table, in percent, over its evaluated runs;
   * {@code byFramework}: the same over the runs of each training framework the index names
   * ({@link ModernRuns.Run#framework}), in the order first met; empty unless it names two or more.
   */
  public record TableError(String name, double meanPercent, double maxPercent, int runs,
                           List<TableError> byFramework) {
    TableError(String name, double meanPercent, double maxPercent, int runs) {
      this(name, meanPercent, maxPercent, runs, List.of());
    }
  }

  private final Path baseDir;
  private final ModelVersion version;
  private final PrintStream out;
  private final boolean verbose;
  private final List<TableError> errors = new ArrayList<>();

  public Validation(Path baseDir, ModelVersion version, PrintStream out, boolean verbose) {
    this.baseDir = baseDir;
    this.version = version;
    this.out = out;
    this.verbose = verbose;
  }

  /** Prints every table and the summary lines; returns the error of each table. */
  public List<TableError> run() throws ConfigError, Infeasible {
    fig1();
    fig7();
    tab5();
    modernRuns();
    moeRuns();
    memoryPerGpu();
    out.println("Summary (model version " + version.cliName + "):");
    for (TableError e : errors) {
      out.println("  " + summaryLine(e));
      for (TableError f : e.byFramework()) {
        out.println("    " + summaryLine(f));
      }
    }
    return List.copyOf(errors);
  }

  private static String summaryLine(TableError e) {
    return e.name() + ": mean error " + PyFormat.fixed(e.meanPercent(), 2)
        + "%, max " + PyFormat.fixed(e.maxPercent(), 2) + "% over " + e.runs() + (e.runs() == 1 ? " run" : " runs");
  }

  private Stats evaluate(String model, String figure, String mode, SystemSpec sys) throws ConfigError, Infeasible {
    if (verbose) {
      out.println("Analyzing " + model + " " + mode);
    }
    Path appFile = baseDir.resolve("models").resolve(model + ".json");
    Path exeFile = baseDir.resolve("validation").resolve("seqsel").resolve(figure).resolve(model + "_" + mode + ".json");
    Application app = ApplicationReader.read(appFile);
    Execution exe = ExecutionReader.read(exeFile);
    RunChecks.check(app, exe, sys, appFile.toString(), exeFile.toString(), sys.name());
    return Evaluator.evaluate(app, exe, new Hardware(sys, exe.datatype()), version, false);
  }

  private SystemSpec system(String file) throws ConfigError {
    return SystemReader.read(baseDir.resolve(file));
  }

  /** Tracks |error| over one table: error = 100 * (1 - calculated / measured). */
  private static final class ErrorTally {
    double sum, max;
    int n;

    double add(double measured, double calculated) {
      double d = 100 * (1 - calculated / measured);
      sum += Math.abs(d);
      max = Math.max(max, Math.abs(d));
      n++;
      return d;
    }
  }

  private void finish(String name, ErrorTally t) {
    finish(name, t, Map.of());
  }

  /**
   * Prints a table's mean and maximum, then, when its runs name two or more frameworks, each
   * framework's ({@code Ave Megatron-Core,,9.50%,over 17 runs,max 27.70%}).
   */
  private void finish(String name, ErrorTally t, Map<String, ErrorTally> byFramework) {
    out.println("Ave,," + PyFormat.fixed(t.sum / t.n, 2) + "%");
    out.println("Max,," + PyFormat.fixed(t.max, 2) + "%");
    List<TableError> groups = new ArrayList<>();
    if (byFramework.size() > 1) {
      byFramework.forEach((framework, g) -> {
        out.println("Ave " + framework + ",," + PyFormat.fixed(g.sum / g.n, 2) + "%,over " + g.n
            + (g.n == 1 ? " run" : " runs") + ",max " + PyFormat.fixed(g.max, 2) + "%");
        groups.add(new TableError(framework, g.sum / g.n, g.max, g.n));
      });
    }
    out.println(",");
    errors.add(new TableError(name, t.sum / t.n, t.max, t.n, List.copyOf(groups)));
  }

  private void fig1() throws ConfigError, Infeasible {
    if (verbose) {
      out.println("\n\nNow running test: seqsel_fig1");
    }
    SystemSpec sys = system(FIG_SYSTEM);
    Map<String, Map<String, double[]>> calc = new LinkedHashMap<>();
    for (String model : Korthikanti2022.MODELS) {
      for (String mode : Korthikanti2022.FIG1_MODES) {
        Stats s = evaluate(model, "fig1", mode, sys);
        double parOpt = (s.get(StatField.WEIGHT_SPACE) + s.get(StatField.WEIGHT_GRAD_SPACE)
            + s.get(StatField.OPTIMIZER_SPACE)) / BYTES_PER_GIB;
        double act = s.get(StatField.ACT_SPACE) / BYTES_PER_GIB;
        calc.computeIfAbsent(model, k -> new LinkedHashMap<>()).put(mode, new double[] {parOpt, act});
      }
    }
    modeTable("Fig. 1 parameters + optimizer memory", "*Params & Opt", Korthikanti2022.FIG1_MODES, "",
        (model, mode) -> Korthikanti2022.FIG1_PARAMS_OPTIMIZER_GIB.get(model), (model, mode) -> calc.get(model).get(mode)[0]);
    modeTable("Fig. 1 activation memory", "*Activations", Korthikanti2022.FIG1_MODES, "",
        (model, mode) -> Korthikanti2022.FIG1_ACTIVATIONS_GIB.get(model).get(mode),
        (model, mode) -> calc.get(model).get(mode)[1]);
  }

  private void fig7() throws ConfigError, Infeasible {
    if (verbose) {
      out.println("\n\nNow running test: seqsel_fig7");
    }
    SystemSpec sys = system(FIG_SYSTEM);
    Map<String, Map<String, Double>> raw = new LinkedHashMap<>();
    for (String model : Korthikanti2022.MODELS) {
      for (String mode : Korthikanti2022.FIG7_MODES) {
        Stats s = evaluate(model, "fig7", mode, sys);
        raw.computeIfAbsent(model, k -> new LinkedHashMap<>())
            .put(mode, s.get(StatField.ACT_SPACE) + s.get(StatField.ACT_CHECKPOINT_SIZE));
      }
    }
    modeTable("Fig. 7 relative activation memory", "Activations", Korthikanti2022.FIG7_MODES, "%",
        (model, mode) -> Korthikanti2022.FIG7_RELATIVE_PERCENT.get(model).get(mode),
        (model, mode) -> raw.get(model).get(mode) / raw.get(model).get("none") * 100);
  }

  /**
   * One table of the original Calculon's layout: a row per model with Profile, Calc and Delta per
   * mode, then the mean and maximum error.
   */
  private void modeTable(String name, String title, List<String> modes, String unit,
                         ToDoubleBiFunction<String, String> measured, ToDoubleBiFunction<String, String> calculated) {
    StringBuilder head = new StringBuilder(title).append(",");
    StringBuilder columns = new StringBuilder("Model,");
    for (String mode : modes) {
      head.append("|,").append(mode).append(",,,");
      columns.append("|,Profile,Calc,Delta,");
    }
    out.println(head);
    out.println(columns);
    ErrorTally t = new ErrorTally();
    for (String model : Korthikanti2022.MODELS) {
      StringBuilder row = new StringBuilder(model).append(',');
      for (String mode : modes) {
        double p = measured.applyAsDouble(model, mode);
        double a = calculated.applyAsDouble(model, mode);
        cell(row, p, a, t.add(p, a), unit);
      }
      out.println(row);
    }
    finish(name, t);
  }

  private void tab5() throws ConfigError, Infeasible {
    if (verbose) {
      out.println("\n\nNow running test: seqsel_tab5");
    }
    SystemSpec sys = system(TAB5_SYSTEM);
    Map<String, Map<String, Stats>> runs = new LinkedHashMap<>();
    for (String model : Korthikanti2022.MODELS) {
      for (String mode : Korthikanti2022.TAB5_MODES) {
        runs.computeIfAbsent(model, k -> new LinkedHashMap<>()).put(mode, evaluate(model, "tab5", mode, sys));
      }
    }
    out.println("End-to-end,|,full,,,,|,seqsel,,,,");
    out.println("Model,|,Profile,Calc,Delta,GiB,|,Profile,Calc,Delta,GiB,");
    ErrorTally t = new ErrorTally();
    for (String model : Korthikanti2022.MODELS) {
      StringBuilder row = new StringBuilder(model).append(',');
      for (String mode : Korthikanti2022.TAB5_MODES) {
        Stats s = runs.get(model).get(mode);
        double p = Korthikanti2022.TAB5_ITERATION_SECONDS.get(model).get(mode);
        double a = s.get(StatField.TOTAL_TIME);
        double gib = s.get(StatField.PROC_MEM_TIER1_CAP_REQ) / BYTES_PER_GIB;
        row.append("|,").append(PyFormat.repr(p)).append(',').append(PyFormat.fixed(a, 2)).append(',')
            .append(PyFormat.fixed(t.add(p, a), 2)).append("%,").append(PyFormat.fixed(gib, 2)).append(',');
      }
      out.println(row);
    }
    finish("Table 5 iteration time", t);
  }

  /**
   * One row of the modern table: the run, what the model calculates for it and the error in
   * percent (100 * (1 - calculated / measured)); a run the reader or the model rejects has NaN
   * values and the one-line reason in {@code rejection}.
   */
  public record ModernRow(ModernRuns.Run run, double calculated, double errorPercent, String rejection) {
    /** Whether the model produced a value for the run. */
    public boolean evaluated() { return rejection == null; }
  }

  private final List<ModernRow> modernRows = new ArrayList<>();

  /**
   * One row of the memory table: a modern run whose source publishes its peak memory, what the
   * model needs per GPU in tier 1 ({@code PROC_MEM_TIER1_CAP_REQ}, the stage that needs the most),
   * in GiB, and the error in percent.
   */
  public record MemoryRow(ModernRuns.Run run, double calculatedGib, double errorPercent) {}

  private final List<MemoryRow> memoryRows = new ArrayList<>();

  /** The rows of the memory table of the last {@link #run()}, in the index's order. */
  public List<MemoryRow> memoryRows() { return List.copyOf(memoryRows); }
  private final List<ModernRow> moeRows = new ArrayList<>();

  /** The rows of the modern table of the last {@link #run()}, in the index's order. */
  public List<ModernRow> modernRows() { return List.copyOf(modernRows); }

  /**
   * Runs the MoE table alone (printed, with its summary line) and returns its rows.
   *
   * @throws ConfigError when the index cannot be read
   */
  public List<ModernRow> runMoeTable() throws ConfigError {
    moeRuns();
    return moeRows();
  }

  /** The rows of the MoE table of the last {@link #run()}, in the index's order. */
  public List<ModernRow> moeRows() { return List.copyOf(moeRows); }

  /**
   * Measured runs of modern models on H100 / H200 ({@link ModernRuns#INDEX}: model, system,
   * execution, metric, measured value, source and table).
   */
  private void modernRuns() throws ConfigError {
    measuredRuns("modern_runs", "Modern runs", ModernRuns.INDEX, MODERN_TABLE, modernRows);
  }

  /**
   * Measured Mixture-of-Experts runs ({@link ModernRuns#MOE_INDEX}, same format as the modern
   * runs; docs/validation.md, "MoE runs").
   */
  private void moeRuns() throws ConfigError {
    measuredRuns("moe_runs", "MoE runs", ModernRuns.MOE_INDEX, MOE_TABLE, moeRows);
  }

  /**
   * One table of measured runs read from {@code index}. Each run's error is printed; a run that
   * cannot be read or that the model rejects (out of memory, an unsupported key in this model
   * version) is printed with its reason and left out of the mean and maximum, which are over the
   * evaluated runs.
   */
  private void measuredRuns(String test, String title, String index, String tableName, List<ModernRow> rows)
      throws ConfigError {
    if (verbose) {
      out.println("\n\nNow running test: " + test);
    }
    List<ModernRuns.Run> runs = ModernRuns.read(baseDir, index);
    out.println(title + ",|,measured,,,");
    out.println("Run,|,Profile,Calc,Delta,");
    ErrorTally t = new ErrorTally();
    Map<String, ErrorTally> byFramework = new LinkedHashMap<>();
    for (ModernRuns.Run r : runs) {
      if (verbose) {
        out.println("Analyzing " + r.label() + " (" + r.source() + ")");
      }
      StringBuilder row = new StringBuilder(r.label()).append(" [").append(r.metric().jsonName).append("],");
      try {
        Application app = r.application(baseDir);
        Path exeFile = baseDir.resolve(r.execution());
        Execution exe = ExecutionReader.read(exeFile);
        SystemSpec sys = system(r.system());
        // as llm checks it: under calculon-moe the key the fork cannot run is named (context_par,
        // blocks_in_first_stage, tensor_par_overlap "async_tp", ...), not a fixed list
        RunChecks.check(app, exe, sys, baseDir.resolve(r.model()).toString(), exeFile.toString(), sys.name(),
            version == ModelVersion.CALCULON_MOE);
        Stats s = Evaluator.evaluate(app, exe, new Hardware(sys, exe.datatype()), version, false);
        double calc = r.metric().of(exe, app, s);
        double d = t.add(r.measured(), calc);
        byFramework.computeIfAbsent(r.framework().isEmpty() ? UNNAMED_FRAMEWORK : r.framework(), k -> new ErrorTally())
            .add(r.measured(), calc);
        cell(row, r.measured(), calc, d, "");
        rows.add(new ModernRow(r, calc, d, null));
        if (r.peakReservedGib() > 0) {
          double gib = s.get(StatField.PROC_MEM_TIER1_CAP_REQ) / BYTES_PER_GIB;
          memoryRows.add(new MemoryRow(r, gib, 100 * (1 - gib / r.peakReservedGib())));
        }
      } catch (ConfigError | Infeasible e) {
        // one cell of the comma-separated row: a message's commas become semicolons
        String why = e.getMessage().replace('\n', ' ').replace(',', ';');
        row.append("|,").append(PyFormat.repr(r.measured())).append(",rejected: ").append(why).append(',');
        rows.add(new ModernRow(r, Double.NaN, Double.NaN, why));
      }
      out.println(row);
    }
    if (t.n == 0) {
      out.println("Ave,,n/a (no run evaluated)");
      out.println(",");
      errors.add(new TableError(tableName, Double.NaN, Double.NaN, 0));
      return;
    }
    finish(tableName, t, byFramework);
  }

  /** The group of the runs whose index names no framework. */
  static final String UNNAMED_FRAMEWORK = "framework not stated";

  /**
   * The memory per GPU of the measured runs whose source publishes it, against the model's tier-1
   * requirement. The published figure is the caching allocator's peak reserved memory, which
   * holds the model's tensors plus the allocator's cached free blocks and fragmentation, so the
   * model should fall short of it by that overhead; the table shows by how much.
   */
  private void memoryPerGpu() {
    if (memoryRows.isEmpty()) {
      return;
    }
    out.println("Memory per GPU,|,peak reserved GiB,,,");
    out.println("Run,|,Profile,Calc,Delta,");
    ErrorTally t = new ErrorTally();
    for (MemoryRow m : memoryRows) {
      StringBuilder row = new StringBuilder(m.run().label()).append(',');
      cell(row, m.run().peakReservedGib(), m.calculatedGib(), t.add(m.run().peakReservedGib(), m.calculatedGib()), "");
      out.println(row);
    }
    finish(MEMORY_TABLE, t);
  }

  /** The name of the memory table in the summary. */
  public static final String MEMORY_TABLE = "Memory per GPU (peak reserved GiB, the measured runs that publish it)";

  /** The name of the MoE table in the summary. */
  public static final String MOE_TABLE = "MoE runs (H100 / GB200, " + ModernRuns.MOE_INDEX + ")";

  /** The name of the modern table in the summary. */
  public static final String MODERN_TABLE = "Modern runs (H100 / H200, " + ModernRuns.INDEX + ")";

  private static void cell(StringBuilder row, double profile, double calc, double delta, String unit) {
    row.append("|,").append(PyFormat.repr(profile)).append(unit).append(',')
        .append(PyFormat.fixed(calc, 2)).append(unit).append(',')
        .append(PyFormat.fixed(delta, 2)).append("%,");
  }
}
