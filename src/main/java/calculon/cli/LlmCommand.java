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
import calculon.report.ReportFiles;
import calculon.report.RunReport;
import calculon.schedule.Evaluator;
import calculon.stats.ExecutionDict;
import calculon.stats.Peers;
import calculon.stats.Stats;
import calculon.stats.StatsJson;
import calculon.stats.Summary;
import calculon.util.PyJson;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code calculon llm}: one calculation of a model, an execution and a system (reference runner.py). */
@Command(name = "llm", description = "Run a single LLM calculation.")
public final class LlmCommand implements Callable<Integer>, CommandFiles {
  private static final String SUMMARY = "-";

  /** What {@code -l} with OUTPUT {@code -} and no {@code --report} says on standard error (it writes nothing more). */
  static final String LAYERS_WITHOUT_OUTPUT_NOTE = "note: --layers adds per-layer stats to a .json stats file "
      + "or a --report page; with OUTPUT - it prints nothing more";

  @ParentCommand
  private Main main;

  @Parameters(index = "0", paramLabel = "MODEL",
      description = "Model (application) configuration file, .json or .json.gz.")
  private Path application;

  @Parameters(index = "1", paramLabel = "EXECUTION",
      description = "Execution configuration file, .json or .json.gz.")
  private Path execution;

  @Parameters(index = "2", paramLabel = "SYSTEM",
      description = "System configuration file, .json or .json.gz.")
  private Path system;

  @Parameters(index = "3", paramLabel = "OUTPUT",
      description = "Where the stats go: - prints a text summary (logged at INFO), a .json file "
          + "gets them with indent 2, a .json.gz file gzipped on one line (times in seconds, "
          + "sizes in bytes, rates in flops/s and bytes/s).")
  private String stats;

  @Option(names = {"-l", "--layers"},
      description = "Include per-layer stats in a .json/.json.gz stats file and in the --report page. "
          + "The text summary (OUTPUT -) has none: there, without --report, -l adds nothing and says so "
          + "on standard error. Default: off.")
  private boolean layers;

  @Option(names = {"-p", "--peers"}, paramLabel = "FILE",
      description = "Also write each processor's tensor, context, pipeline and data parallel peers to "
          + "this .json/.json.gz file, as the original Calculon does (its rank order: TP fastest, then PP, "
          + "then DP; with context_par above 1 CP goes next to TP, as in Megatron-Core, and data_context lists "
          + "each processor's DP x CP group, the one gradients are reduced over; a note says when the "
          + "corrected model's DP rings place ranks otherwise). Default: none.")
  private Path peers;

  @Option(names = "--report", paramLabel = "FILE",
      description = "Also write an HTML report of the run (step time, memory, efficiency, layers "
          + "with -l) to this .html file, and say so (\"Report: FILE\"; on standard error with OUTPUT -). "
          + "Default: none.")
  private Path report;

  @Option(names = "-m",
      description = "Accepted and ignored, as in Calculon-MoE (its \"turn on MoE\" flag is never "
          + "read): MoE is chosen by the execution's model_MoE. Default: off.")
  private boolean moeFlag;

  @Mixin
  private ModelVersionOption modelVersion;


  /**
   * For the corrected model's infeasible line: the files a run that fits would have written and
   * this one did not, e.g. {@code  (not written: out.json, the --peers file p.json, the --report page
   * r.html)}; empty when the summary went to standard output and no peers file or page was asked for. calculon-moe keeps the
   * reference's text.
   */
  private String notWritten() {
    List<String> files = new ArrayList<>();
    if (!SUMMARY.equals(stats)) {
      files.add(stats);
    }
    if (peers != null) {
      files.add("the --peers file " + peers);
    }
    if (report != null) {
      files.add("the --report page " + report);
    }
    return files.isEmpty() ? "" : " (not written: " + String.join(", ", files) + ")";
  }

  @Override
  public void declareFiles(OutputGuard guard) {
    guard.input("the model file", "MODEL", application).input("the execution file", "EXECUTION", execution)
        .input("the system file", "SYSTEM", system)
        .output("the stats output", SUMMARY.equals(stats) ? null : Path.of(stats))
        .output("the --peers output", peers).output("the --report page", report);
  }

  @Override
  public Integer call() throws ConfigError {
    // "-" in an input's place (llm M E - S) was refused by Main's OutputGuard, naming the arguments
    // Check the output names first, so a long run cannot end in a rejected name.
    if (!SUMMARY.equals(stats) && !PyJson.isJsonExtension(stats)) {
      throw new ConfigError(stats, "", "unknown stats extension: use -, .json or .json.gz");
    }
    if (peers != null && !PyJson.isJsonExtension(peers.getFileName().toString())) {
      throw new ConfigError(peers.toString(), "", "unknown extension for --peers (-p): use .json or .json.gz");
    }
    if (report != null) {
      ReportFiles.checkHtmlName(report);
    }
    Application app;
    Execution exe;
    SystemSpec sys;
    // keys that change nothing for this run (fp8_recipe of a run not float8, moe_* of a dense
    // run) are dropped by the reader; its one note is said after the evaluation, as the others
    String[] ignoredKeys = {null};
    try {
      app = ApplicationReader.read(application);
      // outside a Calculon-MoE parity run the processor count is checked first (ExecutionReader.check)
      exe = ExecutionReader.read(execution, note -> ignoredKeys[0] = note,
          modelVersion.version() != calculon.model.ModelVersion.CALCULON_MOE);
      sys = SystemReader.read(system);
    } catch (ConfigError e) {
      // all three are positional: a file in another's place is an order mistake
      throw FileKind.where(e, FileKind.ARGUMENT_ORDER);
    }
    RunChecks.check(app, exe, sys, application.toString(), execution.toString(), system.toString(),
        modelVersion.version() == calculon.model.ModelVersion.CALCULON_MOE);
    String ignored = modelVersion.version() == calculon.model.ModelVersion.CALCULON_MOE
        ? ExecutionDict.calculonMoeIgnoredNote(app, application, exe, execution, "the run is") : null;
    if (ignored != null) {
      // the run is the fork's, number for number: say which of the files' choices it leaves out
      main.err().println("calculon llm: " + ignored);
    }
    if (layers && SUMMARY.equals(stats) && report == null) {
      // the per-layer stats go to a stats file or a report page only: do not let -l pass for done
      main.err().println("calculon llm: " + LAYERS_WITHOUT_OUTPUT_NOTE);
    }

    Stats result;
    Hardware hw = new Hardware(sys, exe.datatype());
    try {
      result = Evaluator.evaluate(app, exe, hw, modelVersion.version(), layers);
    } catch (Infeasible e) {
      // calculon-moe keeps the reference's Llm.Error text (the golden cases record it); the
      // corrected model names the file, the keys, their values and the rule where it can
      String line = modelVersion.version().corrected()
          ? InfeasibleLine.of(e, "llm", app, exe, hw, execution.toString(), system.toString()) : null;
      main.out().println("ERROR: " + (line != null ? line : e.getMessage())
          + (modelVersion.version().corrected() ? notWritten() : ""));
      main.out().flush();
      return Main.EXIT_INFEASIBLE;
    }
    // after the evaluation, as the note below: an infeasible run prints its one ERROR line only
    String expertsFromExecution = modelVersion.version().corrected()
        ? expertsFromExecutionNote(app, application, exe, execution) : null;
    if (expertsFromExecution != null) {
      main.err().println("calculon llm: " + expertsFromExecution);
    }
    if (ignoredKeys[0] != null) {
      // both model versions: the dropped keys never reach calculon-moe's note of the keys it ignores
      main.err().println("calculon llm: " + ignoredKeys[0]);
    }
    String unsupported = modelVersion.version().corrected()
        ? calculon.schedule.EpA2aOverlap.unsupportedNote(exe, execution) : null;
    if (unsupported != null) {
      // the corrected model ran it anyway (docs/moe.md): say where that leaves Megatron-Core
      main.err().println("calculon llm: " + unsupported);
    }
    // calculon-moe names the key among those it ignores (ExecutionDict.calculonMoeIgnoredNote)
    String cpImplUnused = modelVersion.version().corrected() ? contextParImplUnusedNote(exe, execution) : null;
    if (cpImplUnused != null) {
      main.err().println("calculon llm: " + cpImplUnused);
    }
    // calculon-moe refuses recompute_method block (RunChecks); the corrected model runs it and,
    // where it covers every chunk, says the run is plain full recompute
    String blockIsFull = modelVersion.version().corrected()
        ? calculon.search.BlockRecomputeNote.forRun(app.numBlocks(), exe, execution) : null;
    if (blockIsFull != null) {
      main.err().println("calculon llm: " + blockIsFull);
    }

    if (SUMMARY.equals(stats)) {
      main.log().info(Summary.text(result, modelVersion.version()));
    } else {
      Path path = Path.of(stats);
      try {
        StatsJson.write(result, layers, new StatsJson.Provenance(VersionCommand.VERSION, modelVersion.version()), path);
      } catch (IOException e) {
        throw OutputGuard.writeError(path, e);
      }
    }
    if (report != null) {
      try {
        RunReport.write(result, RunReport.Inputs.of(result, modelVersion.version()), report);
      } catch (IOException e) {
        throw OutputGuard.writeError(report, e);
      }
    }
    if (peers != null) {
      try {
        PyJson.writeFile(peers, Peers.of(exe));
      } catch (IOException e) {
        throw OutputGuard.writeError(peers, e);
      }
      // the file keeps Calculon's rank order; the corrected model's DP rings follow Megatron-Core's
      String order = modelVersion.version().corrected() ? Peers.rankOrderNote(exe, peers) : null;
      if (order != null) {
        main.err().println("calculon llm: " + order);
      }
      // the file's ids follow TP, CP, PP, DP; say so where the execution's tiers order them otherwise
      String tiers = modelVersion.version().corrected() ? Peers.tierOrderNote(exe, peers) : null;
      if (tiers != null) {
        main.err().println("calculon llm: " + tiers);
      }
    }
    if (report != null) {
      // the line the searches and sweeps print for their --report; with OUTPUT - on stderr, so
      // that standard output is the summary alone, as without --report
      (SUMMARY.equals(stats) ? main.err() : main.log().reports()).println("Report: " + report);
    }
    return 0;
  }

  /**
   * The note of a model file without a {@code moe} object that its execution runs as MoE
   * ({@code model_MoE} true): Calculon-MoE's way (its model files have none; the README's
   * gpt-1.8T example is one), in which every block gets the execution's {@code num_experts}
   * experts, {@code top_k_experts} of them per token, each an MLP of the file's
   * {@code feedforward} width ({@code calculon.model.ParameterCount#withExperts}). Said because a
   * dense model file (llama3-8B) with a MoE execution is otherwise silently a different, larger
   * model: {@code note: models/llama3-8B.json has no moe object;
   * examples/mixtral-8x7B_64xH100.json's model_MoE runs it with 8 experts, top 2, each of
   * feedforward 14336 (Calculon-MoE's way)}, without the {@code calculon llm: } prefix; null
   * when the file has a {@code moe} object or the run is dense.
   */
  static String expertsFromExecutionNote(Application app, Object appFile, Execution exe, Object exeFile) {
    if (!exe.modelMoE() || app.architecture().moe() != null) {
      return null;
    }
    return "note: " + appFile + " has no moe object; " + exeFile + "'s model_MoE runs it with "
        + exe.numExperts() + " experts, top " + exe.topKExperts() + ", each of feedforward "
        + app.feedforward() + " (Calculon-MoE's way)";
  }

  /**
   * The note of an execution that gives {@code context_par_impl} with {@code context_par} 1: the
   * key chooses whose context-parallel attention runs (the K/V exchange's backward and the merge
   * between the CP steps, {@code ContextParallelComm}, {@code ContextParallelMerge}), and without
   * context parallelism there is none, so the run is the same with either value. Said because the
   * file's choice is otherwise silently dropped: {@code note: context_par_impl in exe.json changes
   * nothing: context_par is 1 (it chooses whose context-parallel attention runs when context_par
   * is above 1; docs/reference.md)}, without the {@code calculon llm: } prefix; null when the file
   * does not give the key or runs CP above 1.
   */
  static String contextParImplUnusedNote(Execution exe, Object exeFile) {
    if (exe.layerOptions().givenContextParImpl() == null || exe.contextPar() > 1) {
      return null;
    }
    return "note: context_par_impl in " + exeFile + " changes nothing: context_par is 1 (it chooses whose "
        + "context-parallel attention runs when context_par is above 1; docs/reference.md)";
  }
}
