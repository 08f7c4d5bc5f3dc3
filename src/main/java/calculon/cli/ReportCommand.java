package calculon.cli;

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
import calculon.report.ReportFiles;
import calculon.report.RunReport;
import calculon.report.SearchReport;
import calculon.schedule.Evaluator;
import calculon.stats.StatField;
import calculon.stats.Stats;
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
    + "of search results (.json, .json.gz, .csv, .csv.gz) or of a sweep's output (.csv, .jsonl).")
public final class ReportCommand implements Callable<Integer>, CommandFiles {
  @ParentCommand
  private Main main;

  @Parameters(index = "0", paramLabel = "RESULTS",
      description = "A stats file or search results: .json, .json.gz, .csv or .csv.gz; or a sweep output: .csv, .jsonl.")
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
      description = "For a stats file: its system (memory capacities); for search results the "
          + "scatter plot's tier-1 capacity line. Default: unknown.")
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


  @Override
  public void declareFiles(OutputGuard guard) {
    guard.input("the results file", "RESULTS", results).input("the model file", "--model", model)
        .input("the execution file", "--execution", execution).input("the system file", "--system", system)
        .output("the report", report);
  }

  @Override
  public Integer call() throws ConfigError {
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
    Application app = model == null ? null : ApplicationReader.read(model);
    Execution exe = execution == null ? null : ExecutionReader.read(execution);
    SystemSpec sys = system == null ? null : SystemReader.read(system);
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
        checkInputsBelong(stats, app, exe, sys, version);
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
   * Checks that --model, --execution and --system belong to the stats file: a stats file records
   * no names or counts of its inputs, so with all three files the run is computed again and
   * {@link #INPUT_FIELDS} compared; a mismatch, or files that cannot run, is refused (exit 2)
   * naming both files and the field. With some of the files only, nothing can be checked and a
   * note on standard error says so.
   */
  private void checkInputsBelong(Stats stats, Application app, Execution exe, SystemSpec sys,
                                 ModelVersion version) throws ConfigError {
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
      if (Math.abs(got - want) > INPUT_FIELD_TOLERANCE * Math.max(Math.abs(want), Math.abs(got))) {
        throw ConfigError.sentence(results.toString(), results + ": " + f.key
            + " " + PyFormat.repr(want) + " but " + inputs + " give " + PyFormat.repr(got)
            + ": the files do not belong to this stats file");
      }
    }
  }

  /** Says what was written, as {@code llm --report}, the searches and the sweeps do; exit status 0. */
  private int written() {
    main.out().println("Report: " + report);
    return 0;
  }
}
