package calculon.cli;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Architecture;
import calculon.config.ConfigError;
import calculon.config.ContextParallelImpl;
import calculon.config.CpCommType;
import calculon.config.Datatype;
import calculon.config.ExecutionReader;
import calculon.config.RunChecks;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.hardware.Memory;
import calculon.model.ModelVersion;
import calculon.report.ReportFiles;
import calculon.report.SearchPoints;
import calculon.report.SearchReport;
import calculon.report.SearchRow;
import calculon.search.Counts;
import calculon.search.DryRunEstimate;
import calculon.search.ExecutionEvaluator;
import calculon.search.Progress;
import calculon.search.ResultSink;
import calculon.search.Search;
import calculon.search.SearchFailure;
import calculon.search.SearchKind;
import calculon.search.SearchOptions;
import calculon.search.SearchRequest;
import calculon.search.Partition;
import calculon.search.SearchResult;
import calculon.search.SearchSpace;
import calculon.search.SpaceAxes;
import calculon.search.SearchTemplate;
import calculon.search.output.ResultWriter;
import calculon.search.output.ResultFormat;
import calculon.stats.StatsJson;
import calculon.util.ProgressBars;
import calculon.util.PyFormat;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * What the search commands share: the reference's positionals and options, reading the inputs,
 * running the search with progress and a Ctrl-C handler, and the summary lines.
 */
abstract class SearchCommandBase implements Callable<Integer>, CommandFiles {
  /** Builds the evaluator; tests replace it. */
  interface EvaluatorFactory {
    ExecutionEvaluator create(Application app, SystemSpec system, Datatype datatype, ModelVersion version);
  }

  static volatile EvaluatorFactory evaluatorFactory =
      (app, sys, dt, version) -> ExecutionEvaluator.model(app, new Hardware(sys, dt), version);

  /** Exit status of a search interrupted by SIGINT (what a shell reports for it). */
  static final int EXIT_INTERRUPTED = 130;

  @Parameters(index = "0", paramLabel = "MODEL", description = "Model (application) file, .json or .json.gz.")
  Path application;

  @Parameters(index = "1", paramLabel = "NUM_PROCS", description = "Number of processors (GPUs) of every execution.")
  int numProcs;

  @Parameters(index = "2", paramLabel = "MAX_BATCH_SIZE",
      description = "Maximum global batch size in samples; each split uses the largest multiple of its DP.")
  int maxBatchSize;

  @Parameters(index = "3", paramLabel = "DATATYPE",
      description = "Compute datatype: float4, float8, float16, bfloat16 or float32 (the system needs matrix and vector rates for it).",
      converter = DatatypeConverter.class)
  Datatype datatype;

  @Parameters(index = "4", paramLabel = "SYSTEM", description = "System file, .json or .json.gz.")
  Path system;

  /** The result file (the subclasses declare it, each with the formats it accepts). */
  Path output;

  /** The reference's {@code -d, --debug} (its "don't run, just count"): the names stay, the help says what it is. */
  @Option(names = {"-d", "--debug"}, description = DEBUG_HELP)
  boolean debug;

  /** {@code -d}'s help: a dry run, whatever the reference's name for it says. */
  static final String DEBUG_HELP = "Dry run (--debug is Calculon's name for it): print the counts (total, reference-equivalent and tier-valid "
      + "executions), the search's time (and, for llm-all-executions, its output's size) estimated from a few seconds "
      + "at most of timed sample evaluations, and what a search would evaluate and write; writes no file. Default: off.";

  @Option(names = {"-c", "--cpus"}, paramLabel = "N",
      description = "Threads to use; results never depend on it. Default: all available processors.")
  Integer cpus;

  @Option(names = {"-n", "--noneok"}, description = "When no execution is good, write an empty result and exit 0 (else exit 255, nothing written). Default: off.")
  boolean noneOk;

  @Option(names = {"-f", "--fused_activation"}, paramLabel = "true|false|both", arity = "1",
      description = "fused_activation of the executions: true, false or both. Default: true.")
  String fusedActivation = "true";

  @Option(names = "--no-tp-overlap", description = "Search only tensor_par_overlap none. Default: off (none, ring and pipe; "
      + "--tp-overlaps chooses others).")
  boolean noTpOverlap;

  @Option(names = "--no-dp-overlap", description = "Search only data_par_overlap false. Default: off (both).")
  boolean noDpOverlap;

  @Option(names = "--no-offload", description = "Search only weight_offload, activations_offload and "
      + "optimizer_offload false. Default: off (both, on a system with a tier-2 memory, mem2).")
  boolean noOffload;

  @Option(names = "--flash-attention", negatable = true,
      description = "Run every execution with (or, --no-flash-attention, without) a fused attention "
          + "kernel (execution key flash_attention). Default: the model version's (on in corrected, "
          + "off in calculon-moe, which ignores the flag).")
  Boolean flashAttention;

  @Option(names = "--quiet", description = "No progress on stderr. Default: off.")
  boolean quiet;

  @Option(names = "--progress", description = "Progress on stderr also when it is not a terminal: a "
      + "plain line every 5 s, for logs and pipes. Default: a bar on a terminal, nothing elsewhere.")
  boolean progressForced;

  @Option(names = "--report", paramLabel = "FILE",
      description = "Also write an HTML report of the search (top executions, best sample rate "
          + "over TP x PP, sample rate against tier-1 memory) to this .html file. Default: none.")
  Path report;

  @Option(names = "--pipeline-schedules", description = "Also enumerate the corrected model's pipeline "
      + "schedules (pipeline_schedule zb-h1, dualpipe, zb-v, dualpipev; docs/schedules.md) beside "
      + "Calculon's 1F1B / interleaved for every pipelined split. Default: off (Calculon's space).")
  boolean pipelineSchedules;

  @Option(names = "--execution-template", paramLabel = "FILE",
      description = "An execution file whose optional keys every execution of the search carries: "
          + "flash_attention, attention_kernel, recompute_modules (executions without full recompute), "
          + "recompute_method and recompute_num_layers (executions with full recompute), repeat_kv, "
          + "elementwise_kernels, loss_kernel, context_par_impl, fsdp_impl, optimizer_kernel, the storage datatypes (weight_datatype ... optimizer_datatype), fp8_recipe (float8 "
          + "searches only) and, in a MoE search, moe_dispatcher, moe_a2a_overlap, "
          + "moe_max_domains_per_token, moe_dispatch_datatype (elsewhere those keys change nothing: dropped, "
          + "with one note). What the search enumerates (split, tiers, batch, "
          + "recompute, ZeRO stage, CP, schedule, ...) is not taken from it. Default: none (every such key at "
          + "its default; --flash-attention still applies and wins over the file).")
  Path executionTemplate;

  @Option(names = "--zero-stages", paramLabel = "LIST", split = ",",
      description = "ZeRO stages (zero_stage) to enumerate where DP x CP > 1, e.g. 1,3 (corrected model). "
          + "Default: 1,0,2,3 (all; where DP x CP is 1 only stage 0 runs, the others being the same execution).")
  List<Integer> zeroStages;

  @Option(names = "--context-par", paramLabel = "LIST|all",
      description = "Context-parallel degrees (context_par) to enumerate, exactly these, e.g. 1,2,4 (1 alone "
          + "turns CP off; 2 alone searches CP 2 only; a listed degree that cannot run is named on stderr, and "
          + "none that can is an error), or all: CP 1 and every degree that divides num_procs and the sequence "
          + "(corrected model). Default: CP 1 and the degrees that leave each rank at least 4096 tokens of the "
          + "sequence (CP is the long-context tool).")
  String contextPars;

  @Option(names = "--max-context-par", paramLabel = "N",
      description = "Largest context-parallel degree to enumerate (corrected model); alone, every degree up to N "
          + "(as --context-par all). Default: no limit beyond --context-par's.")
  Integer maxContextPar;

  @Option(names = "--cp-comm-types", paramLabel = "LIST", split = ",",
      description = "context_par_comm_type values to enumerate for CP > 1: p2p (ring attention), a2a "
          + "(Ulysses), all_gather (K/V all-gathered, Llama 3 / Megatron-Core / PyTorch), comma-separated "
          + "(corrected model). Default: p2p,a2a.")
  List<String> cpCommTypes;

  @Option(names = "--tp-overlaps", paramLabel = "LIST", split = ",",
      description = "tensor_par_overlap modes to enumerate where TP > 1: none, ring, pipe, async_tp (PyTorch's "
          + "async TP), backward (Megatron-Core without --tp-comm-overlap), userbuffers (Transformer Engine's, "
          + "Megatron-Core's --tp-comm-overlap; tried only with sequence parallelism, rs_ag, and on a system "
          + "with more than 16 SMs), comma-separated (corrected model; not with --no-tp-overlap). "
          + "Default: none,ring,pipe.")
  List<String> tpOverlaps;

  @Mixin
  ModelVersionOption modelVersion = new ModelVersionOption();

  /** Null when a test runs the command object alone (then {@link #out} and {@link #err} are its own). */
  @ParentCommand
  Main main;

  /** The report: the log's stream under Main (standard output or the --log file, silenced by -v WARNING; its Interrupted: line is {@link #warnings}). */
  PrintStream out = System.out;
  /**
   * The report's warning lines ({@code Interrupted: ...}): the log's stream at WARNING under Main,
   * so {@code -v WARNING} keeps them ({@link Log#warnings}); {@link #out} when a test runs the command alone.
   */
  PrintStream warnings;
  PrintStream err = System.err;
  /**
   * Standard output, for the failure the reference logged at CRITICAL (never silenced): no good
   * execution without --noneok ({@link #printNoneFound}); {@link #out} when a test runs the command alone.
   */
  PrintStream failures;

  /**
   * The inputs and every file the search may write: the output, the report, and the partial
   * names an interrupted search writes instead ({@link OutputGuard#partial}); {@code -d} writes nothing.
   */
  @Override
  public void declareFiles(OutputGuard guard) {
    guard.input("the model file", "MODEL", application).input("the system file", "SYSTEM", system);
    if (executionTemplate != null) {
      guard.input("the execution template", "--execution-template", executionTemplate);
    }
    // results go to a file, never to standard output: '-' is refused also with -d, which names OUTPUT
    guard.resultFile("OUTPUT", outputFormats(), output);
    if (debug) {
      return;
    }
    List<Path> partials = partialFiles();
    for (int i = 0; i < outputFiles().size(); i++) {
      Path p = outputFiles().get(i);
      guard.output(what(p), p).output("the partial " + what(p).substring("the ".length())
          + " an interrupted search writes", partials.get(i));
    }
    guard.output("the --report page", report).output("the partial --report page an interrupted search writes",
        report == null ? null : OutputGuard.partial(report));
  }

  /** The result file or its per-layer file, in words. */
  private String what(Path p) {
    return p == output ? "the result file" : "the per-layer file beside the result";
  }

  /** What OUTPUT takes, in words: its extensions ({@code .csv or .csv.gz}). */
  String outputFormats() {
    return ".json, .json.gz, .csv or .csv.gz";
  }

  /** The result files this search writes (the output, and for some commands a sidecar). */
  java.util.List<Path> outputFiles() {
    return java.util.List.of(output);
  }

  /**
   * The files an interrupted search writes instead of {@link #outputFiles()}, in the same order:
   * OUTPUT's partial name ({@link OutputGuard#partial}), and the per-layer file beside that.
   */
  List<Path> partialFiles() {
    return List.of(OutputGuard.partial(output));
  }

  /**
   * After the search wrote its result files ({@code written}, from {@code outcome}): an
   * interrupted search marks them as partial results ({@link PartialResults#mark}); a complete one
   * moves aside, to numbered backup names, the partial files an interrupted search to the same outputs left
   * ({@link PartialResults#setAsideStale}).
   */
  void settlePartials(Search.Outcome outcome, List<Path> written) {
    List<Path> targets = outputFiles();
    List<Path> partials = partialFiles();
    for (int i = 0; i < targets.size(); i++) {
      if (outcome.interrupted()) {
        if (written.contains(partials.get(i))) {
          PartialResults.mark(partials.get(i), targets.get(i));
        }
      } else if (written.contains(targets.get(i))) {
        PartialResults.setAsideStale(partials.get(i), targets.get(i), err, commandName());
      }
    }
  }

  /** Where {@code target} goes: itself, or its partial name when the search was interrupted. */
  static Path destination(Path target, Search.Outcome o) {
    return o.interrupted() ? OutputGuard.partial(target) : target;
  }

  /** The space this command searches. */
  abstract SearchKind kind();

  /** Calculon-MoE's default number of experts for its MoE searches ({@code -moe}). */
  static final int DEFAULT_EXPERTS = SearchRequest.DEFAULT_EXPERTS;

  int numExperts() { return 1; }

  /** The {@code -moe} value the user gave, or null. */
  Integer requestedExperts() { return null; }

  boolean mbsBreak() { return false; }

  int topN() { return 1; }

  boolean withLayers() { return false; }

  int threads() {
    return cpus != null ? cpus : Runtime.getRuntime().availableProcessors();
  }

  SearchOptions options() {
    return new SearchOptions(kind(), numProcs, maxBatchSize, datatype,
        FusedActivationConverter.parse(fusedActivation), mbsBreak(),
        !noTpOverlap, !noDpOverlap, !noOffload, numExperts(), topN(), withLayers());
  }

  /** Checks the options that need no file; returns an error message or null. */
  String checkArguments() {
    if (FusedActivationConverter.parse(fusedActivation) == null) {
      return "-f: must be true, false or both, got " + fusedActivation;
    }
    if (topN() <= 0) {
      return "-t: must be a positive integer, got " + topN();
    }
    if (cpus != null && cpus <= 0) {
      return "-c: must be a positive integer, got " + cpus;
    }
    if (numProcs <= 0) {
      return "num_procs: must be a positive integer, got " + numProcs;
    }
    if (maxBatchSize <= 0) {
      return "max_batch_size: must be a positive integer, got " + maxBatchSize;
    }
    if (kind().isMoe() && numExperts() <= 0) {
      return "-moe: must be a positive integer, got " + numExperts();
    }
    return null;
  }

  /** A failure to report as one line, with its exit status. */
  static final class CommandError extends Exception {
    private static final long serialVersionUID = 1L;
    final int status;

    CommandError(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  /** Reads the inputs and builds the space. */
  SearchSpace space() throws CommandError {
    String bad = checkArguments();
    if (bad != null) {
      throw new CommandError(EXIT_BAD_INPUT, bad);
    }
    if (report != null) {
      // checked before the search, so a long run cannot end in a rejected name
      try {
        ReportFiles.checkHtmlName(report);
      } catch (ConfigError e) {
        throw new CommandError(EXIT_BAD_INPUT, e.getMessage());
      }
    }
    Application app;
    SystemSpec sys;
    try {
      try {
        app = ApplicationReader.read(application);
        sys = SystemReader.read(system);
      } catch (ConfigError e) {
        // MODEL and SYSTEM are positional: a file in another's place is an order mistake
        throw calculon.config.FileKind.where(e, calculon.config.FileKind.ARGUMENT_ORDER);
      }
      if (!modelVersion.version().corrected()) {
        RunChecks.checkForkCanRunModel(app, application.toString());
      }
    } catch (ConfigError e) {
      throw new CommandError(EXIT_BAD_INPUT, e.getMessage());
    }
    if (!sys.matrix().containsKey(datatype) || !sys.vector().containsKey(datatype)) {
      throw new CommandError(EXIT_BAD_INPUT, system + ": " + (sys.matrix().containsKey(datatype) ? "vector" : "matrix")
          + "." + datatype.jsonName + ": missing: the search's datatype " + datatype.jsonName + " needs matrix and vector rates");
    }
    SearchOptions opts = options();
    Architecture.Moe declared = app.architecture().moe();
    if (declared != null) {
      if (!kind().isMoe()) {
        throw new CommandError(EXIT_BAD_INPUT, application + ": moe: a mixture-of-experts model ("
            + declared.numExperts() + " experts): search it with llm-optimal-execution-moe, llm-optimal-execution-moe-flexible or llm-all-executions -moe " + declared.numExperts());
      }
      Integer asked = requestedExperts();
      if (asked != null && asked != declared.numExperts()) {
        throw new CommandError(EXIT_BAD_INPUT, "-moe: " + asked + " contradicts " + application
            + ", whose moe.num_experts is " + declared.numExperts());
      }
      opts = opts.withNumExperts(declared.numExperts());
    }
    SpaceAxes axes = axes();
    SearchTemplate template = template();
    if (!modelVersion.version().corrected() && template.layerOptions().partialRecompute()) {
      // as llm refuses such a file (RunChecks): the fork recomputes every block from its own checkpoint
      boolean block = template.layerOptions().givenRecomputeMethod() == calculon.config.RecomputeMethod.BLOCK;
      throw new CommandError(EXIT_BAD_INPUT, executionTemplate + ": " + (block ? "recompute_method" : "recompute_num_layers")
          + ": needs the corrected model (Calculon-MoE recomputes every block from its own checkpoint); "
          + "drop --model-version calculon-moe or the key");
    }
    String ignored = modelVersion.version().corrected() ? null
        : calculon.stats.ExecutionDict.calculonMoeIgnoredNote(app, application,
            SearchRequest.withoutIgnoredKeys(templateFile, kind(), datatype), executionTemplate,
            "the results are");
    if (ignored != null) {
      // as llm says it: the fork's searches evaluate without them, and their results leave them out
      err.println("calculon " + commandName() + ": " + ignored);
    }
    String dropped = SearchRequest.templateIgnoredKeysNote(templateFile, String.valueOf(executionTemplate), kind(),
        datatype);
    if (dropped != null) {
      // once for the search, as llm says it for its run: no execution of the search carries them
      err.println("calculon " + commandName() + ": " + dropped);
    }
    try {
      SearchRequest.checkTemplate(template, String.valueOf(executionTemplate), datatype, sys, system.toString());
    } catch (SearchRequest.Invalid e) {
      throw invalid(e);
    }
    boolean pytorchCp = template.layerOptions().givenContextParImpl() == ContextParallelImpl.PYTORCH;
    if (pytorchCp && cpCommTypes != null && cpCommTypes.contains(CpCommType.A2A.jsonName)) {
      // asked for by name: a search that quietly dropped it would answer another question
      throw new CommandError(EXIT_BAD_INPUT, "--cp-comm-types: a2a cannot run with context_par_impl \"pytorch\" of "
          + executionTemplate + ": PyTorch's context_parallel has no head all-to-all; list p2p or all_gather");
    }
    boolean defaultExperts = kind().isMoe() && declared == null && requestedExperts() == null;
    expertsNote = defaultExperts
        ? SearchRequest.defaultExpertsNote(commandName(), application.toString(), "-moe", "-moe E", "llm-optimal-execution") : null;
    SearchSpace space;
    try {
      // the corrected model merges no-op duplicates; calculon-moe keeps the reference's enumeration
      space = new SearchSpace(app, sys, opts, modelVersion.version().corrected(), template, axes);
    } catch (IllegalArgumentException e) {
      // the reference fails here with an assertion (exit status 1); for us it is bad input
      String line = "num_procs: " + e.getMessage();
      if (defaultExperts) {
        // the experts were nobody's choice: say where the number came from
        line += " (" + numExperts() + " is -moe's default, taken because " + application
            + " has no moe.num_experts; give -moe E)";
      }
      throw new CommandError(EXIT_BAD_INPUT, line);
    }
    // the search enumerates exactly the listed CP degrees: none that can run is bad input
    String noCp = space.contextParsNoneCanRun();
    if (noCp != null) {
      throw new CommandError(EXIT_BAD_INPUT, "--context-par: " + noCp);
    }
    if (modelVersion.version().corrected() && template.layerOptions().givenContextParImpl() != null
        && space.partitions().stream().noneMatch(p -> p.cp() > 1)) {
      // the template's choice of context-parallel attention reaches no execution: once, as llm
      // says it for one (calculon-moe names the key among those it ignores, above)
      err.println("calculon " + commandName() + ": note: context_par_impl in " + executionTemplate
          + " changes nothing: the search tries context_par 1 only (--context-par lists the degrees)");
    }
    String blockIsFull = modelVersion.version().corrected()
        ? calculon.search.BlockRecomputeNote.forSearch(app.numBlocks(), template.layerOptions(), space.partitions(), executionTemplate)
        : null;
    if (blockIsFull != null) {
      // the template's recompute_method block covers every chunk the search tries: once, as llm says it
      err.println("calculon " + commandName() + ": " + blockIsFull);
    }
    if (space.skipsUlysses() && space.partitions().stream().anyMatch(p -> p.cp() > 1)) {
      // the default comm types (p2p, a2a) with a PyTorch template: once, where CP > 1 is searched
      err.println("calculon " + commandName() + ": note: context_par_comm_type a2a not tried: " + executionTemplate
          + " sets context_par_impl \"pytorch\", whose context_parallel has no head all-to-all");
    }
    return space;
  }

  /** {@code --execution-template} as {@link #template} read it, or null without one. */
  private calculon.config.Execution templateFile;

  /**
   * The keys every execution carries: {@code --execution-template}'s, then {@code --flash-attention}.
   * Keeps the template file read in {@link #templateFile}.
   */
  SearchTemplate template() throws CommandError {
    calculon.config.Execution file = null;
    if (executionTemplate != null) {
      try {
        file = ExecutionReader.readTemplate(executionTemplate);
      } catch (ConfigError e) {
        throw new CommandError(EXIT_BAD_INPUT,
            calculon.config.FileKind.where(e, "--execution-template takes an execution file").getMessage());
      }
    }
    templateFile = file;
    return SearchRequest.template(file, String.valueOf(executionTemplate), kind(), datatype, flashAttention);
  }

  /**
   * What the space enumerates beyond Calculon's knobs ({@link SearchRequest#axes}, the rules the
   * sweeps share): in the corrected model every ZeRO stage and CP degree with both comm types
   * unless the options restrict them; in calculon-moe Calculon's space, and the options are an
   * error there.
   */
  SpaceAxes axes() throws CommandError {
    try {
      return SearchRequest.axes(modelVersion.version(), pipelineSchedules, zeroStages,
          contextPars == null ? null : List.of(contextPars.split(",", -1)), "\"" + contextPars + "\"",
          maxContextPar, cpCommTypes, tpOverlaps, noTpOverlap);
    } catch (SearchRequest.Invalid e) {
      throw invalid(e);
    }
  }

  /** A broken option rule as the command says it: the flag, or the template file for its keys. */
  private CommandError invalid(SearchRequest.Invalid e) {
    String who = e.key() == SearchRequest.Key.EXECUTION_TEMPLATE ? String.valueOf(executionTemplate) : e.key().flag;
    return new CommandError(EXIT_BAD_INPUT, who + ": " + e.rule());
  }

  /** Exit status for input errors (as the config errors of the other commands). */
  static final int EXIT_BAD_INPUT = 2;

  /**
   * A MoE search of a model without {@code moe.num_experts} and without {@code -moe}: the note that
   * says so (the search runs with -moe's default), or null.
   */
  private String expertsNote;

  /**
   * Names on stderr, one note each ({@link SearchSpace#notTried}) with the command's prefix as its
   * other notes, the asked values no execution of the space runs ("calculon llm-optimal-execution:
   * note: not tried: context_par 3 (it does not divide num_procs 8)"), so none is dropped silently,
   * and a MoE search's default number of experts when nobody chose it; stdout (the reference's
   * summary) and the result files stay what they were.
   */
  void sayNotTried(SearchSpace space) {
    if (expertsNote != null) {
      err.println(expertsNote);
    }
    space.notTried(tpOverlaps != null).forEach(line -> err.println("calculon " + commandName() + ": " + line));
  }

  /**
   * The {@code -d} run: the counts, then what the search would cost, measured on a sample
   * ({@link #printEstimate}), then what that means (nothing written; how many executions a search
   * would count and how many of them it would run the model on, and what it would write). No good
   * or bad counts and no calculation rate: the counts evaluate nothing (the rate would time the
   * counting). The counts' own words: {@code Total executions} counts every distinct execution,
   * the tier assignments that break a network-tier rule included (a search counts those bad
   * without a model call); {@code Tier-valid executions} the rest, which a search evaluates (fewer
   * calls where a rejection of one tier assignment is inferred for its block); where they differ
   * the line names the other part and its rules, e.g. {@code Tier-valid executions: 23056 (the
   * other 23056 of the 46112 break a network-tier rule: 23056 network tier too small for the
   * groups placed on it; a search counts them bad without running the model)}. With
   * {@code --no-offload} on a space that would try offload, a line says how many executions it
   * leaves out ({@link #noOffloadLine}).
   */
  int debugRun(SearchSpace space) {
    sayNotTried(space);
    Counts c = space.count();
    long tierValid = c.total - c.tierRejected;
    out.println("Total executions: " + c.total);
    out.println("Reference-equivalent executions: " + c.refTotal);
    out.println(c.tierRejected == 0 ? "Tier-valid executions: " + tierValid
        : fit("Tier-valid executions: " + tierValid + " (the other " + c.tierRejected + " of the " + c.total
            + " break a network-tier rule: " + c.rejectionSummary() + "; a search counts them bad without running "
            + "the model)"));
    String noOffload = noOffloadLine(space, c);
    if (noOffload != null) {
      out.println(fit(noOffload));
    }
    printMerged(c);
    printEstimate(space, tierValid);
    String counted;
    if (mbsBreak()) {
      counted = "count at least these " + c.total + " executions, at least these " + tierValid + " of them tier-valid, "
          + "the ones it evaluates (with -m the counts stop each microbatch loop after its first size: nothing is good "
          + "when nothing is evaluated; a search goes on to the next size after a good one)";
    } else if (c.tierRejected == 0) {
      counted = "evaluate up to these " + c.total + " executions, every one tier-valid,";
    } else {
      counted = "count these " + c.total + " executions, evaluate up to the " + tierValid + " tier-valid ones";
    }
    out.println("Dry run (-d): nothing written; a search would " + counted + " and write " + dryRunWrites());
    return 0;
  }

  /**
   * With {@code --no-offload} on a space that would otherwise try the offload flags on (dense, a
   * system with {@code mem2}), the line saying what the counts above leave out, counted the same
   * way (the same {@code -m} floor): {@code Left out by --no-offload: 273000 executions with
   * weight, activation or optimizer offload on (without the option: 319112 executions, 159560
   * tier-valid)}; else null.
   */
  String noOffloadLine(SearchSpace space, Counts c) {
    if (!noOffload || !space.offloadApplies()) {
      return null;
    }
    Counts all = space.withOffload(true).count();
    return "Left out by --no-offload: " + (all.total - c.total) + " executions with weight, activation or optimizer "
        + "offload on (without the option: " + all.total + " executions, " + (all.total - all.tierRejected)
        + " tier-valid)";
  }

  /** {@code -d}'s sampling budget: the JIT warm-up's cap, then the timed part ({@link DryRunEstimate}); tests lengthen it. */
  static volatile long dryRunWarmupNanos = DryRunEstimate.DEFAULT_MAX_WARMUP_NANOS;
  static volatile long dryRunMeasureNanos = DryRunEstimate.DEFAULT_MEASURE_NANOS;

  /** Whether the search keeps every good execution (a file of all of them, or {@code --report}'s points). */
  boolean collectsAll() {
    return report != null;
  }

  /**
   * The rows this command's output gets for a list of good results, for {@code -d}'s size
   * estimate, or null when the output is the best N only.
   */
  java.util.function.Function<List<SearchResult>, byte[]> dryRunRows(SearchSpace space) {
    return null;
  }

  /** The output's bytes before any row ({@link #dryRunRows}'s header). */
  long dryRunHeaderBytes(SearchSpace space) {
    return 0;
  }

  /**
   * {@code -d}'s measured cost: "Estimated search time: ..." from a timed sample of the space, on
   * the evaluator and threads the search would use, and for a command that writes every good
   * execution "Estimated output: ..." from the sample's rows formatted by the real writer
   * ({@link DryRunEstimate}; nothing is assumed about speed).
   */
  void printEstimate(SearchSpace space, long tierValid) {
    if (tierValid == 0) {
      out.println("Estimated search time: none (no tier-valid execution to evaluate)");
      return;
    }
    ExecutionEvaluator ev = evaluatorFactory.create(space.application(), space.system(), datatype,
        modelVersion.version());
    java.util.function.Function<List<SearchResult>, byte[]> rows = dryRunRows(space);
    boolean gzip = rows != null && output != null && output.getFileName().toString().endsWith(".gz");
    DryRunEstimate.Result r = DryRunEstimate.measure(space, ev, threads(), collectsAll(), rows, gzip,
        dryRunWarmupNanos, dryRunMeasureNanos);
    String basis = estimateBasis(r, rows != null, mbsBreak(), collectsAll());
    String threadsSaid = " with " + r.threads() + (r.threads() == 1 ? " thread" : " threads");
    out.println(fit("Estimated search time: about " + duration(r.seconds()) + threadsSaid + " (" + basis + ")"));
    if (rows != null) {
      long header = dryRunHeaderBytes(space);
      long bytes = header + r.estimatedRowBytes();
      String gz = "";
      if (gzip) {
        long gzBytes = r.estimatedRowGzipBytes();
        gz = "; gzip-compressed, as " + output.getFileName() + " is, about " + bytes(gzBytes) + " (" + gzBytes
            + " bytes) at the sample's ratio, " + r.rowGzipBytes() + " of " + r.rowBytes() + " bytes";
      }
      out.println(fit("Estimated output: about " + bytes(bytes) + " (" + bytes + " bytes) of CSV in "
          + r.estimatedRows() + " rows (measured: the sampled partitions' " + r.rowsSampled() + " rows took "
          + r.rowBytes() + " bytes" + (r.complete() ? "" : ", scaled by executions") + ", plus the " + header
          + "-byte header" + gz + ")"));
    }
  }

  /**
   * What {@code -d}'s time estimate was measured on, the bracket of its line: the search itself
   * when the sample ran every partition in full, else the partitions the sample ran in full and
   * those the time stopped in part ({@code measured: 1010 of 1012 partitions in full and 2 in
   * part, ...}: it said "1012 of 1012 partitions" when the sample had reached every partition but
   * not finished the last, so that the estimate looked like the whole search's), how they were
   * chosen, then the timed part and how it scales.
   *
   * @param rows        the sample formatted its rows (a command writing every good execution)
   * @param mbsBreak    {@code -m}: the space's executions count every microbatch size
   * @param collectsAll the search keeps every good execution (no best-N bound)
   */
  static String estimateBasis(DryRunEstimate.Result r, boolean rows, boolean mbsBreak, boolean collectsAll) {
    if (r.complete()) {
      return "measured: the search itself, all " + r.partitionsTotal() + " partitions, " + r.evaluations() + " model calls"
          + (rows ? ", their rows formatted" : "") + ", in " + seconds(r.sampleNanos());
    }
    int full = r.partitionsSampled() - r.partitionsCutShort();
    return "measured: " + full + " of " + r.partitionsTotal() + " partitions"
        + (r.partitionsCutShort() > 0 ? " in full and " + r.partitionsCutShort() + " in part" : "")
        + ", neighbours run from the starts of " + r.stretches() + " stretches spread over the space, searched as the "
        + "search does (" + r.evaluations() + " model calls" + (rows ? ", their rows formatted" : "") + ", sharing "
        + "cached layer blocks" + (collectsAll ? "" : " and the best-N bound") + "), in " + seconds(r.sampleNanos())
        + (r.warmupNanos() > 0 ? ": after a " + seconds(r.warmupNanos()) + " warm-up (the JIT compiling, each "
            + "stretch's first partitions filling the cache), " : ": ")
        + r.executionsTimed() + " executions in " + seconds(r.timedNanos()) + "; the rest of each stretch at its own "
        + "timed cost, to the space's " + r.executionsTotal()
        + (mbsBreak ? " with every microbatch size, before -m's stops" : "") + caveat(r);
  }

  /**
   * The estimate's caveat, "" when none: fewer than {@link DryRunEstimate#MIN_WHOLE_PARTITIONS}
   * partitions timed in full ({@link DryRunEstimate.Result#smallSample}) or a warm-up stopped at
   * its cap ({@link DryRunEstimate.Result#warmupCut}) make it rough (the README's Mixtral search,
   * 2508 partitions, once gave 1.5 to 1.8 hours from 2 whole partitions, sampled one by one far
   * apart, for a search of under a minute; on a loaded machine it still gives 3 to 4 minutes for
   * about 1); a rate still rising through the timed part ({@link
   * DryRunEstimate.Result#rateStillRising}) alone makes it lean long (the flexible MoE searches of
   * gpt-1.8T on 2,048 and 4,096 GPUs: 0.8 to 1.4 times the search).
   */
  static String caveat(DryRunEstimate.Result r) {
    List<String> why = new ArrayList<>();
    if (r.smallSample()) {
      why.add("only " + r.partitionsTimed() + " partitions timed in full, whose costs differ widely");
    }
    if (r.warmupCut()) {
      why.add("the warm-up cut short at " + seconds(r.warmupNanos()) + ", before the rate settled (the JIT compiling, "
          + "the layer-block cache filling)");
    }
    boolean rough = !why.isEmpty();
    if (r.rateStillRising()) {
      why.add("the rate still rising at the end (the JIT still compiling)");
    }
    if (why.isEmpty()) {
      return "";
    }
    return (rough ? "; a rough estimate, possibly many times too long: " : "; likely long: ") + String.join(" and ", why);
  }

  /** Nanoseconds as seconds with two decimals, "1.02 s". */
  private static String seconds(long nanos) {
    return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
  }

  /** A duration for the estimate lines: seconds, minutes, hours or days, 2 significant digits or so. */
  static String duration(double seconds) {
    if (seconds < 1) {
      return String.format(Locale.ROOT, "%.2f s", seconds);
    } else if (seconds < 100) {
      return String.format(Locale.ROOT, "%.0f s", seconds);
    } else if (seconds < 100 * 60) {
      return String.format(Locale.ROOT, "%.1f minutes", seconds / 60);
    } else if (seconds < 48 * 3600) {
      return String.format(Locale.ROOT, "%.1f hours", seconds / 3600);
    }
    return String.format(Locale.ROOT, "%.1f days", seconds / 86400);
  }

  /** A size in decimal units (kB = 1000 bytes, as file managers and the README's "13.7 GB" count). */
  static String bytes(long n) {
    String[] units = {"kB", "MB", "GB", "TB", "PB"};
    if (n < 1000) {
      return n + " bytes";
    }
    double v = n;
    int u = -1;
    while (v >= 1000 && u < units.length - 1) {
      v /= 1000;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  /** What a search would write, for the {@code -d} line: "the best one to o.json". */
  String dryRunWrites() {
    return "the best " + (topN() == 1 ? "one" : String.valueOf(topN())) + " to " + output;
  }

  /**
   * Runs the search with progress on stderr; on SIGINT the search stops, {@code finish} still
   * runs on what was found, and the hook waits for it before the JVM exits.
   */
  Search.Outcome runSearch(SearchSpace space, ResultSink sink, Finisher finish) throws IOException {
    sayNotTried(space);
    outsideReferenceKnobs = outsideReferenceKnobs(space);
    ExecutionEvaluator ev = evaluatorFactory.create(space.application(), space.system(), datatype,
        modelVersion.version());
    Search search = new Search(space, ev);
    if (report != null) {
      // every good execution, in partition order (the same points for any thread count)
      points = new SearchPoints();
      sink = tee(sink, (partition, results, partial) -> results.forEach(r -> points.add(r.stats())));
    }
    Progress progress = new Progress();
    progress.setTotal(space.size());
    CountDownLatch finished = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      if (finished.getCount() > 0) {
        search.cancel();
        try {
          finished.await(120, TimeUnit.SECONDS);
        } catch (InterruptedException ignored) {
          // exit anyway
        }
      }
    }, "search-sigint");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      Search.Outcome o;
      ProgressLine line = new ProgressLine(progress, err, ProgressBars.mode(quiet, progressForced));
      try {
        o = search.run(threads(), sink, progress);
      } finally {
        line.close();
      }
      finish.finish(o);
      return o;
    } finally {
      finished.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running: it sees the latch
      }
    }
  }

  /** The report's points (every good execution), while a search with {@code --report} runs. */
  private SearchPoints points;

  private static ResultSink tee(ResultSink first, ResultSink second) {
    if (first == null) {
      return second;
    }
    return new ResultSink() {
      @Override
      public Object prepare(Partition partition, List<SearchResult> results) {
        return first.prepare(partition, results);
      }

      @Override
      public void accept(Partition partition, List<SearchResult> results, boolean partial) throws IOException {
        accept(partition, results, partial, prepare(partition, results));
      }

      @Override
      public void accept(Partition partition, List<SearchResult> results, boolean partial, Object prepared)
          throws IOException {
        first.accept(partition, results, partial, prepared);
        second.accept(partition, results, partial);
      }
    };
  }

  /** Writes the {@code --report} page of a finished search, if asked: the ranked results and all points. */
  void writeReport(SearchSpace space, Search.Outcome o) throws IOException {
    if (report == null) {
      return;
    }
    List<SearchRow> ranked = new ArrayList<>(o.best().size());
    for (SearchResult r : o.best()) {
      // the execution as the result file has it (the comm type the model ran)
      ranked.add(new SearchRow(ResultFormat.executionJson(r.execution(), !space.axes().isCalculon()),
          StatsJson.toMap(r.stats(), false)));
    }
    Path to = destination(report, o);
    SearchReport.write(ranked, points, new SearchReport.Options(reportTitle(o),
        SearchReport.DEFAULT_TOP_SHOWN, new Memory(space.system().mem1()).capacityBytes()), to);
    out.println("Report: " + to);
    if (o.interrupted()) {
      PartialResults.mark(to, report);
    } else {
      PartialResults.setAsideStale(OutputGuard.partial(report), report, err, commandName());
    }
  }

  private String reportTitle(Search.Outcome o) {
    Command c = getClass().getAnnotation(Command.class);
    return (c == null ? "search" : c.name()) + " " + application.getFileName() + " " + numProcs + " "
        + maxBatchSize + " " + datatype.jsonName + " " + system.getFileName() + " (model "
        + modelVersion.version().cliName + (o.interrupted() ? ", interrupted" : "") + ")";
  }

  /**
   * What an interrupted search says of its OUTPUT: {@code best.json is untouched} when an earlier
   * file lies there, {@code best.json was not written} when none does.
   */
  static String untouched(Object output) {
    return output + (java.nio.file.Files.exists(java.nio.file.Path.of(output.toString())) ? " is untouched" : " was not written");
  }

  /** This command's name, as its error and notice lines start ({@code calculon NAME: ...}). */
  String commandName() {
    Command c = getClass().getAnnotation(Command.class);
    return c == null ? "search" : c.name();
  }

  /** Reports and writes a finished (or interrupted) search. */
  @FunctionalInterface
  interface Finisher {
    void finish(Search.Outcome o) throws IOException;
  }

  /**
   * The summary lines the reference logs, plus the reference-equivalent counts. Of an interrupted
   * search every line counts what it searched (the blocks done before the stop), the
   * reference-equivalent line too, not the planned space ({@link #debugRun} counts that); that line
   * says so, naming the partitions standing for reference executions it reached
   * ({@link #interruptedReferenceCoverage}).
   */
  void printCounts(Search.Outcome o) {
    Counts c = o.counts();
    if (o.interrupted()) {
      err.println(fit("Interrupted: " + searchedSoFar(o) + "; results and counts cover what was searched"));
    }
    double s = Math.max(o.elapsedNanos() / 1e9, 1e-9);
    out.println("Total executions: " + c.total);
    out.println("Good executions: " + c.good);
    out.println("Bad executions: " + c.bad);
    String ref = "Reference-equivalent executions: " + c.refTotal + " (good " + c.refGood
        + ", bad " + c.refBad + (c.refUnevaluated > 0 ? ", not run " + c.refUnevaluated : "");
    if (c.outsideReference > 0) {
      ref += "; " + outsideReferenceClause(c, outsideReferenceKnobs);
    }
    out.println(o.interrupted() || c.outsideReference > 0
        ? fit(ref + (o.interrupted() ? "; " + interruptedReferenceCoverage(o) : "") + ")") : ref + ")");
    out.println(String.format(Locale.ROOT, "Calculation rate: %.2f calcs/sec", c.total / s));
    printMerged(c);
  }

  /**
   * What the reference-equivalent counts leave out of a corrected-model search, so that they are
   * not read against {@code Good executions}: {@code not counted: the 23288 executions, 272 good,
   * with ZeRO stage 2 or 3, which Calculon-MoE does not search} (the README's dense search with
   * {@code --no-offload}, whose reference-equivalent good count is 0: every execution of ZeRO stage
   * 0 or 1 without offload overflows the A100's 80 GiB).
   *
   * @param knobs the corrected-model choices of the space ({@link #outsideReferenceKnobs(SearchSpace)})
   */
  static String outsideReferenceClause(Counts c, String knobs) {
    return "not counted: the " + c.outsideReference + " executions, " + c.outsideReferenceGood + " good, with "
        + knobs + ", which Calculon-MoE does not search";
  }

  /** The corrected-model choices of the space searched, for {@link #outsideReferenceClause}. */
  private String outsideReferenceKnobs = "the corrected model's own choices";

  /**
   * The corrected-model choices a space enumerates, which stand for no reference execution:
   * {@code ZeRO stage 2 or 3, CP > 1, a named pipeline schedule or TP overlap backward}, naming
   * only those its partitions and TP overlap modes hold.
   */
  static String outsideReferenceKnobs(SearchSpace space) {
    java.util.TreeSet<Integer> stages = new java.util.TreeSet<>();
    boolean cp = false;
    boolean schedule = false;
    for (calculon.search.Partition p : space.partitions()) {
      if (p.zeroStage() >= 2) {
        stages.add(p.zeroStage());
      }
      cp |= p.cp() > 1;
      schedule |= p.schedule() != null;
    }
    List<String> parts = new ArrayList<>();
    if (!stages.isEmpty()) {
      parts.add("ZeRO stage " + stages.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(" or ")));
    }
    if (cp) {
      parts.add("CP > 1");
    }
    if (schedule) {
      parts.add("a named pipeline schedule");
    }
    List<String> overlaps = new ArrayList<>();
    for (calculon.config.TpOverlap t : space.axes().tpOverlaps()) {
      if (t.correctedOnly()) {
        overlaps.add(t.jsonName);
      }
    }
    if (!overlaps.isEmpty()) {
      parts.add("TP overlap " + String.join(" or ", overlaps));
    }
    if (parts.isEmpty()) {
      return "the corrected model's own choices";
    }
    String last = parts.remove(parts.size() - 1);
    return parts.isEmpty() ? last : String.join(", ", parts) + " or " + last;
  }

  /**
   * What an interrupted search's reference-equivalent count covers: the reference executions of
   * the partitions it reached that stand for some ({@link calculon.search.Partition#standsForReference}:
   * Calculon's knobs, ZeRO stage 0 or 1, no CP, Calculon's schedule), the whole ones and the blocks
   * done of those it stopped inside, not the planned space's: {@code interrupted: 12 of the 40
   * partitions with reference executions searched, 1 more in part}; {@code interrupted: all 40
   * partitions with reference executions searched} when the stop came after the last of them;
   * {@code interrupted: the search has no partitions with reference executions} when none stands
   * for any (a search of CP &gt; 1 only, say).
   */
  static String interruptedReferenceCoverage(Search.Outcome o) {
    int total = o.referencePartitionsTotal();
    if (total == 0) {
      return "interrupted: the search has no partitions with reference executions";
    }
    int done = o.referencePartitionsDone();
    return "interrupted: " + (done == total ? "all " + total : done + " of the " + total)
        + " partitions with reference executions searched"
        + (o.referencePartitionsCutShort() > 0 ? ", " + o.referencePartitionsCutShort() + " more in part" : "");
  }

  /**
   * How far an interrupted search got, for its lines: {@code 63 of 1012 partitions searched}, with
   * {@code  and 2 in part} when workers stopped inside some (their blocks searched before the stop).
   */
  static String searchedSoFar(Search.Outcome o) {
    return o.partitionsDone() + " of " + o.partitionsTotal() + " partitions searched"
        + (o.partitionsCutShort() > 0 ? " and " + o.partitionsCutShort() + " in part" : "");
  }

  /** The no-op duplicates merged (corrected model only; see NoOpKnobs). */
  void printMerged(Counts c) {
    if (c.mergedNoOps > 0) {
      String twins = c.mergedRedoTwins == 0 ? ""
          : "; " + c.mergedRedoTwins + " of them seq_par_ag_redo false under tensor_par_overlap backward or "
            + "userbuffers, which re-gather anyway";
      out.println(fit("Merged no-op duplicates: " + c.mergedNoOps + " (not in the counts above: the TP comm type "
          + "has no effect at TP 1" + twins + "; " + mergedWhere() + ")"));
    }
  }

  /**
   * Columns the summary's own long lines are wrapped to: the classic terminal width (VT100, and
   * the width the progress bar is laid out for, FittedBarRenderer). The reference's lines are
   * short and stay as they are.
   */
  static final int SUMMARY_WIDTH_COLUMNS = 80;

  /**
   * {@code line} wrapped at spaces to {@link #SUMMARY_WIDTH_COLUMNS}, each continuation indented
   * two spaces (a word longer than that, such as a long path, stays whole on its own line). A
   * reader joins the lines back by replacing each "\n  " with " ".
   */
  static String fit(String line) {
    StringBuilder out = new StringBuilder();
    int col = 0;
    for (String word : line.split(" ", -1)) {
      if (col > 0 && col + 1 + word.length() > SUMMARY_WIDTH_COLUMNS) {
        out.append(System.lineSeparator()).append("  ");
        col = 2;
      } else if (col > 0) {
        out.append(' ');
        col++;
      }
      out.append(word);
      col += word.length();
    }
    return out.toString();
  }

  /**
   * Where the merged duplicates show in this command's result: a JSON result lists them under the
   * execution kept ({@code "equivalent"}, ResultWriter); a CSV has a row for the kept one only.
   */
  String mergedWhere() {
    boolean csv;
    try {
      csv = output != null && ResultWriter.formatOf(output) == ResultWriter.Format.CSV;
    } catch (IllegalArgumentException unknown) {
      csv = false;
    }
    return csv ? "no CSV rows of their own: each is the same run as the execution kept"
        : "listed as \"equivalent\" in JSON results";
  }

  /**
   * "No acceptable configurations found :(" with its binding reason on the same line
   * ({@link #noneFoundLine}), then what to relax: how many executions each rule rejected, and how
   * many parallel splits had no batch that DP divides.
   */
  void printNoneFound(SearchSpace space, Search.Outcome o) {
    // with --noneok a report (exit 0); without, the search's failure (exit 255), as llm's ERROR line
    PrintStream out = noneOk ? this.out : failures;
    out.println(noneFoundLine(o.counts(), space.splitsWithoutBatch(), maxBatchSize));
    String rejected = o.counts().rejectionSummary();
    if (!rejected.isEmpty()) {
      out.println("Rejected: " + rejected);
    }
    if (space.splitsWithoutBatch() > 0) {
      int n = space.splitsWithoutBatch();
      out.println("Not searched: " + n + (n == 1 ? " parallel split whose data parallelism exceeds"
          : " parallel splits whose data parallelism exceeds") + " max_batch_size " + maxBatchSize
          + " (no batch is a multiple of DP)");
    }
  }

  /**
   * The reference's "No acceptable configurations found :(" followed by the reason that bound,
   * so the line a user reads first says it (the per-rule counts follow on their own lines):
   * <ul>
   *   <li>one rule rejected everything: {@code No acceptable configurations found :( (all 96
   *       executions rejected: memory tier 1 (mem1) too small)};</li>
   *   <li>several: the one that rejected the most, {@code (416432 of 431040 rejected executions:
   *       memory tier 1 (mem1) too small; the rest below)};</li>
   *   <li>nothing to evaluate because every parallel split's DP exceeds max_batch_size: {@code (no
   *       execution to try: the data parallelism of all 3 parallel splits exceeds max_batch_size 2)},
   *       or {@code the only parallel split's data parallelism exceeds ...};</li>
   *   <li>nothing to evaluate otherwise (an interrupt before the first, or no split at all): {@code
   *       (no execution was evaluated)}.</li>
   * </ul>
   */
  static String noneFoundLine(Counts c, int splitsWithoutBatch, int maxBatchSize) {
    String line = "No acceptable configurations found :( (";
    calculon.model.Infeasible.Rule main = c.mainRejection();
    if (main != null) {
      long n = c.rejectedBy[main.ordinal()];
      return line + (n == c.bad ? "all " + n + " executions rejected: " + main.description + ")"
          : n + " of " + c.bad + " rejected executions: " + main.description + "; the rest below)");
    }
    if (c.total == 0 && splitsWithoutBatch > 0) {
      return line + "no execution to try: " + (splitsWithoutBatch == 1 ? "the only parallel split's data parallelism exceeds"
          : "the data parallelism of all " + splitsWithoutBatch + " parallel splits exceeds") + " max_batch_size "
          + maxBatchSize + ")";
    }
    return line + "no execution was evaluated)";
  }

  static String rate(double r) {
    return PyFormat.repr(r);
  }

  @Override
  public final Integer call() {
    if (main != null) {
      // the streams Main.execute was given (standard output and error from the shell), the
      // report through the log (--log, -v)
      out = main.log().reports();
      warnings = main.log().warnings();
      failures = main.out();
      err = main.err();
    } else {
      failures = out;
      warnings = out;
      // run alone (a test): the backups' notices go to this command's own stderr, as under Main
      PrintStream e = err;
      calculon.util.Backups.noticesTo(line -> e.println(Main.errorLine(Main.commandName(this), line)));
    }
    try {
      return run();
    } catch (CommandError e) {
      err.println(Main.errorLine(Main.commandName(this), e.getMessage()));
      return e.status;
    } catch (SearchFailure e) {
      // a bug of ours (the model failed on a well-formed execution), as Main reports one
      err.println(Main.internalErrorLine(Main.commandName(this), e.getMessage()));
      return Main.EXIT_INTERNAL_ERROR;
    } catch (IOException e) {
      // a result that could not be written: the user's file and the reason
      err.println(Main.errorLine(Main.commandName(this), OutputGuard.writeError(output, e).getMessage()));
      return EXIT_BAD_INPUT;
    } finally {
      if (main == null) {
        calculon.util.Backups.noticesTo(null);
      }
    }
  }

  abstract int run() throws IOException, CommandError;
}
