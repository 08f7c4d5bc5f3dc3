package calculon.cli;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.ConfigError;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.FileKind;
import calculon.config.RunChecks;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.Infeasible;
import calculon.model.ModelVersion;
import calculon.report.ReportFiles;
import calculon.report.RunReport;
import calculon.report.SearchReport;
import calculon.schedule.Evaluator;
import calculon.stats.StatField;
import calculon.stats.Stats;
import calculon.stats.StatsJson;
import calculon.util.PyFormat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code calculon report}: an HTML report of a stats file or of search results written earlier. */
@Command(name = "report", description = "Write an HTML report of a stats file (llm ... out.json), "
    + "of search results (.json, .json.gz, .csv, .csv.gz) or of a sweep's output (.csv, .jsonl, or as convert "
    + "writes it: .json, .json.gz, .csv.gz).")
public final class ReportCommand implements Callable<Integer>, CommandFiles, UnknownOptionHint {
  @ParentCommand
  private Main main;

  @Parameters(index = "0", paramLabel = "RESULTS",
      description = "A stats file or search results: .json, .json.gz, .csv or .csv.gz; or a sweep output: .csv, "
          + ".jsonl (or .json, .json.gz, .csv.gz from convert).")
  private Path results;

  @Parameters(index = "1", paramLabel = "REPORT", description = "The .html file to write.")
  private Path report;

  @Option(names = "--model", paramLabel = "FILE",
      description = "For a stats file: the model it was computed for, shown among the inputs. Default: unknown.")
  private Path model;

  @Option(names = "--execution", paramLabel = "FILE",
      description = "For a stats file: its execution (also needed for memory capacities and the "
          + "offload split). Default: unknown.")
  private Path execution;

  @Option(names = "--system", paramLabel = "FILE",
      description = "For a stats file: its system (memory capacities); given with --model and "
          + "--execution, all three are checked against the stats (the system by the times it sets: "
          + "README section 3) and refused when they differ. For search results: the scatter plot's "
          + "tier-1 capacity line. Default: unknown.")
  private Path system;

  @Option(names = "--top", paramLabel = "N", defaultValue = "" + SearchReport.DEFAULT_TOP_SHOWN,
      description = "For search results: rows of the top table. Default: ${DEFAULT-VALUE}.")
  private int top;

  @Option(names = "--model-version", paramLabel = "VERSION", converter = ModelVersionOption.Converter.class,
      description = "For a stats file: the model version that computed it (calculon-moe or "
          + "corrected), shown among the inputs. Default: the file's model_version (stats files "
          + "written by calculon record it), else unknown; refused when the file records another, and for "
          + "search results.")
  private ModelVersion modelVersion;


  /**
   * More than two arguments, as llm takes them ({@code report MODEL EXECUTION SYSTEM STATS
   * REPORT}): report takes two, and the inputs as options.
   */
  @Override
  public String hintFor(java.util.List<String> unmatched) {
    if (unmatched.stream().anyMatch(a -> !a.startsWith("-"))) {
      return "report takes two arguments, RESULTS then REPORT; give a stats file's model, execution "
          + "and system as --model, --execution and --system";
    }
    return null;
  }

  @Override
  public void declareFiles(OutputGuard guard) {
    guard.input("the results file", "RESULTS", results).input("the model file", "--model", model)
        .input("the execution file", "--execution", execution).input("the system file", "--system", system)
        .output("the report", report).resultFile("REPORT", ".html", report);
  }

  @Override
  public Integer call() throws ConfigError {
    if (ReportFiles.isHtmlName(results) && !ReportFiles.isHtmlName(report)) {
      // RESULTS and REPORT swapped (report out.html s.json): named as sweep names its SPEC and OUTPUT swapped
      throw FileKind.swapped(results.toString(), "a report (.html)", "a stats file, search results or a sweep output",
          "RESULTS first, then REPORT: calculon report " + (ReportFiles.isResultName(report) ? report : "RESULTS")
              + " " + results);
    }
    ReportFiles.checkHtmlName(report);
    if (calculon.report.SweepReport.isSweepOutput(results)) {
      try {
        calculon.report.SweepReport.write(results, report);
      } catch (IOException e) {
        throw OutputGuard.writeError(report, e);
      }
      return written();
    }
    ReportFiles.Content content = ReportFiles.read(results);
    if (content instanceof ReportFiles.SweepContent w) {
      // a sweep output convert wrote (.json, .json.gz, .csv.gz): the same report as from the sweep's file
      try {
        calculon.report.SweepReport.write(w, results.getFileName().toString(), report);
      } catch (IOException e) {
        throw OutputGuard.writeError(report, e);
      }
      return written();
    }
    Application app;
    Execution exe;
    SystemSpec sys;
    try {
      app = model == null ? null : ApplicationReader.read(model);
    } catch (ConfigError e) {
      throw FileKind.where(e, "--model takes a model file");
    }
    try {
      exe = execution == null ? null : ExecutionReader.read(execution);
    } catch (ConfigError e) {
      throw FileKind.where(e, "--execution takes an execution file");
    }
    try {
      sys = system == null ? null : SystemReader.read(system);
    } catch (ConfigError e) {
      throw FileKind.where(e, "--system takes a system file");
    }
    try {
      if (content instanceof ReportFiles.StatsContent s) {
        Stats stats = ReportFiles.toStats(s, results.toString());
        ModelVersion recorded = ReportFiles.modelVersion(s);
        if (modelVersion != null && recorded != null && modelVersion != recorded) {
          // the flag labels a file that does not say; it never relabels one that does
          throw new ConfigError("--model-version", "", "the stats file " + results + " records model_version "
              + recorded.cliName + ", which computed it; drop the flag or give " + recorded.cliName);
        }
        ModelVersion version = modelVersion != null ? modelVersion : recorded;
        checkInputsBelong(stats, s, app, exe, sys, version);
        RunReport.write(stats, new RunReport.Inputs(app, exe, sys, version), report);
      } else {
        if (modelVersion != null) {
          throw new ConfigError("--model-version", "", "applies to a stats file; " + results
              + " holds search results, whose rows do not depend on it");
        }
        double cap = sys == null ? Double.NaN : new calculon.hardware.Memory(sys.mem1()).capacityBytes();
        SearchReport.write(((ReportFiles.SearchContent) content).rows(),
            new SearchReport.Options(results.getFileName().toString(), top, cap), report);
      }
    } catch (IOException e) {
      throw OutputGuard.writeError(report, e);
    }
    return written();
  }

  /**
   * Fields of a stats file that the model and the execution alone fix (the system's speeds do
   * not enter them): a block's forward flops and its weight bytes per processor. Files that give
   * other values are not the files the stats were computed from.
   */
  static final StatField[] INPUT_FIELDS = {
      StatField.BLOCK_FW_FLOPS, StatField.BLOCK_WEIGHT_SPACE};

  /**
   * How far a recomputed {@link #INPUT_FIELDS} value may stray from the stats file's before the
   * files are refused: the stats may come from an older calculon, so not bit equality; a model
   * or an execution of another run moves them by far more (a different hidden size, TP or datatype).
   */
  static final double INPUT_FIELD_TOLERANCE = 0.01;

  /**
   * A stats field that the system's speeds set for a given amount of work: {@code time} is
   * recomputed from the same model and execution, whose {@code work} field must match first (then
   * only the system can move the time).
   *
   * @param work what the model and the execution fix (flops, bytes per block)
   * @param time seconds per block for that work on the system
   * @param part what differs in the system when the time does, as the message says it: "its mem1 bandwidth differs"
   */
  record SystemField(StatField work, StatField time, String part) {}

  /**
   * The fields that tell the stats file's system from another, given that {@link #INPUT_FIELDS}
   * matched: a block's forward compute time (the matrix and vector rates at the run's datatype,
   * with their efficiency curves: {@code Processor}'s flop time), its forward memory time (mem1's
   * bandwidth and {@code MB_efficiency}) and its forward TP communication time (the network TP
   * runs on; 0 in both with TP 1). A stats file records no system name, no capacity and no rate,
   * so these are the system figures it carries; a memory capacity too small for the run is
   * refused earlier, as files that cannot run.
   */
  static final SystemField[] SYSTEM_FIELDS = {
      new SystemField(StatField.BLOCK_FW_FLOPS, StatField.BLOCK_FW_FLOPS_TIME,
          "its matrix and vector rates at the run's datatype differ"),
      new SystemField(StatField.BLOCK_FW_MEM_ACCESSED, StatField.BLOCK_FW_MEM_TIME,
          "its mem1 bandwidth differs"),
      new SystemField(StatField.BASEBLOCK_FW_TP_SIZE, StatField.BASEBLOCK_FW_TP_TIME,
          "its network tier for TP (tensor_par_net) differs")};

  /**
   * Checks that --model, --execution and --system belong to the stats file: a stats file records
   * no names or counts of its inputs, so with all three files the run is computed again and
   * {@link #INPUT_FIELDS} compared (the model and the execution), then {@link #SYSTEM_FIELDS} (the
   * system), then the step time (any of the three); a mismatch, or files that cannot run, is refused (exit 2) naming the files and the
   * field. Times move when the corrected model does, so the system is compared only where this
   * calculon reproduces the file's times: a file written by this calculon version, or any
   * calculon-moe file (that version is the reference's, number for number); otherwise a note says
   * the system was not checked. With some of the files only, nothing can be checked and a note on
   * standard error says so.
   */
  private void checkInputsBelong(Stats stats, ReportFiles.StatsContent content, Application app, Execution exe,
                                 SystemSpec sys, ModelVersion version) throws ConfigError {
    if (app == null && exe == null && sys == null) {
      return;
    }
    if (app == null || exe == null || sys == null) {
      main.err().println("calculon report: note: " + results + " records no names of its inputs; "
          + "give --model, --execution and --system together to check them against its numbers "
          + "(shown unchecked)");
      return;
    }
    String inputs = model + ", " + execution + " and " + system;
    ModelVersion v = version != null ? version : ModelVersion.CORRECTED;
    RunChecks.check(app, exe, sys, model.toString(), execution.toString(), system.toString(),
        v == ModelVersion.CALCULON_MOE);
    Stats again;
    Hardware hw = new Hardware(sys, exe.datatype());
    try {
      again = Evaluator.evaluate(app, exe, hw, v, false);
    } catch (Infeasible e) {
      throw ConfigError.sentence(results.toString(), results + " is not the stats of "
          + inputs + ": they cannot run (" + InfeasibleLine.reason(e, v, app, exe, hw, execution.toString(),
          system.toString()) + ")");
    }
    for (StatField f : INPUT_FIELDS) {
      double want = stats.get(f), got = again.get(f);
      if (differ(want, got)) {
        throw ConfigError.sentence(results.toString(), results + ": " + f.key
            + " " + PyFormat.repr(want) + " but " + inputs + " give " + PyFormat.repr(got)
            + ": the files do not belong to this stats file");
      }
    }
    Object written = content.stats().get(StatsJson.CALCULON_VERSION_KEY);
    if (v != ModelVersion.CALCULON_MOE && !VersionCommand.VERSION.equals(written)) {
      main.err().println("calculon report: note: " + results + (written == null ? " records no calculon version"
          : " was written by calculon " + written) + ", whose corrected-model times this calculon "
          + VersionCommand.VERSION + " may not reproduce: " + system + " is not checked against them (the model "
          + "and execution are)");
      return;
    }
    for (SystemField f : SYSTEM_FIELDS) {
      if (differ(stats.get(f.work()), again.get(f.work()))) {
        continue;  // another amount of work: not the system's doing, and INPUT_FIELDS said nothing
      }
      double want = stats.get(f.time()), got = again.get(f.time());
      if (differ(want, got)) {
        throw ConfigError.sentence(results.toString(), results + ": " + f.time().key + " " + PyFormat.repr(want)
            + " but " + system + " gives " + PyFormat.repr(got) + " for the same " + f.work().key + " (with "
            + model + " and " + execution + "): the system does not belong to this stats file ("
            + f.part() + ")");
      }
    }
    // the step as a whole: what the per-block fields do not reach (the DP and PP networks, or an
    // execution of another PP or schedule with the same blocks) can be any of the three files
    double want = stats.get(StatField.TOTAL_TIME), got = again.get(StatField.TOTAL_TIME);
    if (differ(want, got)) {
      throw ConfigError.sentence(results.toString(), results + ": " + StatField.TOTAL_TIME.key + " "
          + PyFormat.repr(want) + " but " + inputs + " give " + PyFormat.repr(got)
          + ": the files do not belong to this stats file");
    }
  }

  /** Whether a recomputed value strays from the stats file's by more than {@link #INPUT_FIELD_TOLERANCE}. */
  private static boolean differ(double want, double got) {
    return Math.abs(got - want) > INPUT_FIELD_TOLERANCE * Math.max(Math.abs(want), Math.abs(got));
  }

  /** Says what was written, as {@code llm --report}, the searches and the sweeps do; exit status 0. */
  private int written() {
    main.log().reports().println("Report: " + report);
    return 0;
  }
}
