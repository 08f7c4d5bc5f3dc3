package calculon.cli;

import calculon.config.ConfigError;
import calculon.config.FileKind;
import calculon.report.ReportFiles;
import calculon.report.SweepReport;
import calculon.sweep.InputPaths;
import calculon.sweep.Sweep;
import calculon.sweep.SweepEngine;
import calculon.sweep.SweepEngines;
import calculon.sweep.SweepFormat;
import calculon.sweep.SweepOutput;
import calculon.sweep.SweepRunner;
import calculon.sweep.SweepSpec;
import calculon.util.ProgressBars;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code sweep SPEC OUTPUT}: parses, then hands over to package calculon.sweep (docs/sweeps.md). */
@Command(name = "sweep", mixinStandardHelpOptions = true,
    description = "Run a co-design sweep: at each point of a grid over models, systems and their "
        + "fields, search the best execution (or run a fixed one) and append its stats to OUTPUT. "
        + "Re-running the same SPEC and OUTPUT resumes. See docs/sweeps.md.")
public final class SweepCommand implements Callable<Integer>, CommandFiles, UnknownOptionHint {
  @Parameters(index = "0", paramLabel = "SPEC", description = "The sweep's SPEC file (.json)")
  Path spec;

  @Parameters(index = "1", paramLabel = "OUTPUT", description = "Output: .csv or .jsonl (resumed when it exists)")
  Path output;

  @Option(names = "--engine", paramLabel = "local|spark", defaultValue = "local",
      description = "Where the points run: local (this machine's cores) or spark. Default: ${DEFAULT-VALUE}.")
  String engine;

  @Option(names = "--master", paramLabel = "URL",
      description = "Spark master URL (with --engine spark), e.g. local[*]. Default: spark-submit's, else local[*].")
  String master;

  @Option(names = {"-c", "--cpus"}, paramLabel = "N",
      description = "Local engine threads (default: all available processors). Output never depends on it.")
  Integer cpus;

  @Option(names = "--progress", description = "Show progress on stderr also when it is not a terminal (one line every 5 s)")
  boolean progress;

  @Option(names = "--quiet", description = "No progress on stderr")
  boolean quiet;

  @Option(names = {"-n", "--noneok"},
      description = "When no point gives a result (every point invalid or infeasible), exit 0 (else exit 255; "
          + "OUTPUT keeps every point's record either way). Default: off.")
  boolean noneOk;

  @Option(names = "--report", paramLabel = "FILE",
      description = "Also write the sweep report (charts of the best metric against each swept field, "
          + "heatmaps, Pareto front of performance against cost) to this .html file. Default: none.")
  Path report;

  @ParentCommand
  private Main main;

  PrintStream err = System.err;

  /**
   * Where the summary's {@link #NO_RESULT} line goes when it fails the sweep (exit 255, no {@code
   * --noneok}): {@link Log#failures}, which {@code -v} never silences; null when a test calls
   * {@link #finish} alone, where it is the report's stream.
   */
  PrintStream failures;

  /** Exit status of a sweep interrupted by SIGINT. */
  static final int EXIT_INTERRUPTED = 130;

  /**
   * The SPEC's input files as named from the working folder, for the summary's {@code Not run:}
   * line ({@link InputPaths}); null (the SPEC's names) when a test calls {@link #finish} alone.
   */
  InputPaths inputPaths;

  /**
   * Whether the report goes where stderr goes: the report is standard output, and standard output
   * and standard error are one terminal, file or pipe (a plain terminal, {@code 2>&1}). There an
   * interrupted sweep's {@code Interrupted:} line is written once, in the report (up to {@code -v
   * WARNING}: the line is a warning, {@link Log#warnings}); everywhere else ({@code --log FILE},
   * {@code -v ERROR}, standard output redirected on its own) stderr has it too, where scripts and
   * SparkInterruptTest read it.
   */
  boolean reportIsStderr;

  /**
   * {@code --model-version}, which the other commands take: a sweep's model version is its SPEC's
   * key {@code model_version}, so that its output and resume say which model ran.
   */
  @Override
  public String hintFor(java.util.List<String> unmatched) {
    for (String a : unmatched) {
      if (a.equals("--model-version") || a.startsWith("--model-version=")) {
        return "a sweep's model version is its SPEC's key model_version, e.g. \"model_version\": \"calculon-moe\"; "
            + "default corrected";
      }
    }
    return null;
  }

  @Override
  public void declareFiles(OutputGuard guard) {
    guard.input("the sweep spec", "SPEC", spec).resultFile("OUTPUT", ".csv or .jsonl", output)
        .output("the sweep output", output)
        .output("the sweep's record", output == null ? null : SweepOutput.specFile(output))
        .output("the --report page", report);
  }

  @Override
  public Integer call() throws ConfigError, IOException {
    // the summary is the sweep's report: standard output or the --log file, silenced by -v WARNING
    // (all but its line that no point gave a result, when that exits 255)
    PrintStream out = main.log().reports();
    // its Interrupted: line a warning, which -v WARNING keeps
    PrintStream warnings = main.log().warnings();
    // its line that no point gave a result, when that fails the sweep: at any -v level
    failures = main.log().failures();
    err = main.err();
    SweepFormat format = SweepFormat.of(output.getFileName().toString());
    SweepFormat specAsOutput = SweepFormat.of(spec.getFileName().toString());
    if (specAsOutput != null) {
      // SPEC and OUTPUT swapped (sweep out.csv spec.json): name it, as llm, report and convert do
      throw FileKind.swapped(spec.toString(), "a sweep output (" + specAsOutput.extension + ")",
          "a sweep spec (.json)", "SPEC first, then OUTPUT: calculon sweep " + (format == null ? output : "SPEC.json")
              + " " + spec);
    }
    if (format == null && calculon.util.PyJson.isJsonExtension(output.getFileName().toString())) {
      throw FileKind.swapped(output.toString(), "a sweep spec (.json)", "a sweep output (.csv or .jsonl)",
          "SPEC first, then OUTPUT");
    }
    if (format == null) {
      throw new ConfigError(output.toString(), "", "unknown sweep output extension: use .csv or .jsonl");
    }
    if (report != null) {
      ReportFiles.checkHtmlName(report);
    }
    if (cpus != null && cpus <= 0) {
      throw new ConfigError("--cpus", "", "must be a positive integer, got " + cpus);
    }
    Sweep sweep = new Sweep(SweepSpec.read(spec), format);
    sweep.validate();
    inputPaths = InputPaths.of(spec, sweep.spec());
    // the Interrupted: line goes to warnings (standard output up to -v WARNING), so that is the stream compared
    reportIsStderr = warnings == main.out() && main.out() == System.out && err == System.err && stdoutIsStderr();
    String ignored = sweep.calculonMoeIgnoredNote();
    if (ignored != null) {
      // as llm and the searches say it: the fork's points run without those keys
      err.println("calculon sweep: " + ignored);
    }
    // keys of the execution (or template) that change nothing at some points: once, not per point
    sweep.ignoredKeysNotes().forEach(note -> err.println("calculon sweep: " + note));
    // a recompute_method block that recomputes every block: plain full recompute, said once
    sweep.blockRecomputeNotes().forEach(note -> err.println("calculon sweep: " + note));
    // asked values no execution runs, as the search commands name them (stderr, each line with the
    // command's prefix as the notes above; OUTPUT is unchanged)
    sweep.notTried().forEach(err::println);
    int threads = cpus != null ? cpus : Runtime.getRuntime().availableProcessors();
    ProgressBars.Mode mode = ProgressBars.mode(quiet, progress);
    int[] status = {0};
    try (SweepEngine eng = SweepEngines.create(engine, master, threads);
         SweepOutput sink = SweepOutput.open(output, sweep)) {
      if (sink.complete()) {
        err.println(output + " already holds all " + sweep.size() + " points: nothing to evaluate");
      } else if (sink.resumeFrom() > 0) {
        // SweepOutput drops the last point written, which an interrupted run may have cut short
        err.println("Resuming " + output + ": " + sink.resumeFrom() + " of " + sweep.size()
            + " points kept (the last point written runs again, in case it was cut short)");
      }
      // the summary is printed before the Ctrl-C hook lets the JVM exit
      runWithInterrupt(sweep, sink, eng, mode, o -> status[0] = finish(o, eng.describe(), out, warnings));
    }
    return status[0];
  }

  /**
   * Prints the summary of a finished or interrupted sweep (and writes the report when every point
   * is done); the exit status: 0, {@link #EXIT_INTERRUPTED}, or {@link Main#EXIT_INFEASIBLE} when the
   * sweep is done and no point gave a result (without {@code --noneok}; OUTPUT keeps their records).
   *
   * @param engine the engine as the Points line names it ("local, 2 threads")
   * @param out the report ({@link Log#reports})
   * @param warnings the report's warning lines, the Interrupted: line ({@link Log#warnings})
   */
  int finish(SweepRunner.Outcome o, String engine, PrintStream out, PrintStream warnings)
      throws ConfigError, IOException {
    out.println("Points: " + o.pointsTotal() + " (" + (o.pointsDone() - o.resumedFrom()) + " evaluated now, "
        + o.resumedFrom() + " resumed) on " + engine);
    double s = Math.max(o.elapsedNanos() / 1e9, 1e-9);
    long evaluated = o.pointsDone() - o.resumedFrom();
    if (evaluated > 0) {
      out.println(String.format(Locale.ROOT, "Points per second: %.2f", evaluated / s));
    }
    // points were done and none gave a result: each invalid or infeasible
    boolean noResult = Double.isNaN(o.bestRate()) && o.pointsDone() > 0;
    String notRun = o.notRun().line(output, inputPaths == null ? UnaryOperator.identity() : inputPaths::rewrite);
    if (notRun != null) {
      // invalid and infeasible points: OUTPUT's status column holds the reasons, the summary counts them
      out.println(notRun);
    }
    if (!Double.isNaN(o.bestRate())) {
      out.println("Best sample rate: " + calculon.util.PyFormat.repr(o.bestRate()) + " (" + o.bestLabel() + ")");
    } else if (noResult) {
      // without --noneok the sweep's failure (exit 255), which -v WARNING must not hide, as a search's
      // "No acceptable configurations found"; in place in the report, alone where the rest is silenced
      PrintStream stream = noneOk || o.interrupted() || failures == null ? out : failures;
      stream.println(NO_RESULT);
      stream.flush();
    }
    out.println("Output: " + output);
    if (o.interrupted()) {
      String line = interruptedLine(o.pointsDone(), o.pointsTotal());
      out.flush();
      warnings.println(line);
      warnings.flush();
      if (!reportIsStderr) {
        // stderr has it too (scripts and SparkInterruptTest read it there), unless that is the report's own stream
        err.println(line);
        err.flush();
      }
      return EXIT_INTERRUPTED;
    }
    out.flush();
    if (report != null) {
      try {
        SweepReport.write(output, report);
      } catch (IOException e) {
        throw OutputGuard.writeError(report, e);
      }
      out.println("Report: " + report);
    }
    // every point invalid or infeasible: a failure for scripts, as a search that finds no good
    // execution, unless --noneok; OUTPUT holds each point's record either way
    return noResult && !noneOk ? Main.EXIT_INFEASIBLE : 0;
  }

  /**
   * An interrupted sweep's last line: {@code Interrupted: 5 of 48 points are in f6.csv; run the same
   * command again to continue (it evaluates the last point written again)} (a resume drops the last
   * point written, which the stop may have cut short); before any point was written, {@code (no
   * point was written yet: it starts from the first point)}. With {@code --report}, that the page
   * was not written or an earlier one is untouched.
   */
  String interruptedLine(long pointsDone, long pointsTotal) {
    return "Interrupted: " + pointsDone + " of " + pointsTotal + " points are in " + output
        + "; run the same command again to continue ("
        + (pointsDone == 0 ? "no point was written yet: it starts from the first point"
            : "it evaluates the last point written again") + ")"
        // the page covers a finished sweep only: an earlier one is left as it was
        + (report == null ? "" : "; " + SearchCommandBase.untouched(report) + " (--report writes it once every point is done)");
  }

  /**
   * Whether this process's standard output and standard error are one terminal, file or pipe (the
   * same device and inode); false where the system cannot say (no {@code /dev/stdout}).
   */
  static boolean stdoutIsStderr() {
    try {
      return sameFile(Path.of("/dev/stdout"), Path.of("/dev/stderr"));
    } catch (java.nio.file.InvalidPathException e) {
      return false;
    }
  }

  /** Whether {@code a} and {@code b} are one file (links followed); false when either cannot be read. */
  static boolean sameFile(Path a, Path b) {
    try {
      return Files.isSameFile(a, b);
    } catch (IOException | SecurityException e) {
      return false;
    }
  }

  /**
   * The summary's line where none of the points done gave a result (each is invalid or infeasible,
   * as the Not run line before it counts).
   */
  static final String NO_RESULT = "Best sample rate: none (no point gave a result)";

  /** What runs on the outcome while the Ctrl-C hook still holds the JVM. */
  @FunctionalInterface
  private interface Finisher {
    void finish(SweepRunner.Outcome o) throws ConfigError, IOException;
  }

  /** Runs with a Ctrl-C hook that stops at the next point and waits until {@code finish} is done. */
  private void runWithInterrupt(Sweep sweep, SweepOutput sink, SweepEngine eng, ProgressBars.Mode mode,
                                Finisher finish) throws ConfigError, IOException {
    java.util.concurrent.atomic.AtomicBoolean cancelled = new java.util.concurrent.atomic.AtomicBoolean();
    CountDownLatch finished = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      cancelled.set(true);
      try {
        finished.await(120, TimeUnit.SECONDS);
      } catch (InterruptedException ignored) {
        // exit anyway
      }
    }, "sweep-sigint");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      finish.finish(SweepRunner.run(sweep, sink, eng, mode, err, cancelled::get));
    } finally {
      finished.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running: it sees the latch
      }
    }
  }
}
