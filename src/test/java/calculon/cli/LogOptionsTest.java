package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The global options apply to every command's report, as README ("Global options go before the
 * command name") promises and the reference's driver does for its {@code logger.info} lines
 * (bin/calculon: one handler, stdout or the {@code --log} file, at the {@code -v} level): {@code
 * --log FILE} puts the report in FILE, the same lines as on standard output without it, and
 * nothing on standard output, an earlier FILE kept as {@code FILE.~1~}; {@code -v WARNING}
 * silences it. Errors are not reports: the {@code ERROR:} line of an infeasible run and a search's
 * "No acceptable configurations found" (without {@code --noneok}) stay on standard output, and a
 * configuration error on standard error, whatever {@code --log} and {@code -v} say.
 */
class LogOptionsTest {
  private static final String MODEL = "models/megatron-126M.json";
  private static final String EXE = "src/test/resources/cli/dense-126M-tp2-pp2-dp2-execution.json";
  private static final String SYSTEM = "systems/H100_SXM_80g_dense.json";
  /** A file a user wrote where the log goes: kept byte for byte as FILE.~1~. */
  private static final byte[] EARLIER = "yesterday's log\n".getBytes(StandardCharsets.UTF_8);

  @TempDir Path dir;

  private String at(String name) {
    return dir.resolve(name).toString();
  }

  private static Run run(List<String> global, String... command) {
    List<String> args = new ArrayList<>(global);
    args.addAll(List.of(command));
    return CliRun.run(args.toArray(String[]::new));
  }

  /**
   * A report without its timing lines, which differ run to run: the calculation rate, points per
   * second, the dry run's estimated time (with its wrapped, indented continuation).
   */
  private static String untimed(String report) {
    StringBuilder kept = new StringBuilder();
    boolean skipping = false;
    for (String line : report.split("\n", -1)) {
      skipping = line.startsWith("Calculation rate: ") || line.startsWith("Points per second: ")
          || line.startsWith("Estimated search time: ") || (skipping && line.startsWith("  "));
      if (!skipping) {
        kept.append(line).append('\n');
      }
    }
    return kept.toString();
  }

  /**
   * Each command run three times: plainly (its report on standard output), with {@code --log FILE}
   * over an earlier FILE, and with {@code -v WARNING}.
   */
  private void reportFollowsTheGlobalOptions(String name, String expectedStart, String... command) throws IOException {
    Run plain = run(List.of(), command);
    assertThat(plain.status()).as(name + ": " + plain.err()).isZero();
    assertThat(plain.out()).as(name).startsWith(expectedStart);

    Path log = dir.resolve(name + ".log");
    Files.write(log, EARLIER);
    Run logged = run(List.of("--log", log.toString()), command);
    assertThat(logged.status()).as(name + ": " + logged.err()).isZero();
    assertThat(logged.out()).as(name).isEmpty();
    assertThat(logged.err()).as(name).contains(": kept the earlier " + log + " as " + log + ".~1~\n");
    assertThat(untimed(Files.readString(log))).as(name).isEqualTo(untimed(plain.out()));
    assertThat(Files.readAllBytes(Path.of(log + ".~1~"))).as(name).isEqualTo(EARLIER);

    Run quiet = run(List.of("-v", "WARNING"), command);
    assertThat(quiet.status()).as(name + ": " + quiet.err()).isZero();
    assertThat(quiet.out()).as(name).isEmpty();
  }

  @Test
  void everyCommandsReportGoesToTheLogFileAndIsSilencedByWarning() throws IOException {
    // llm-parameter-calculator: the reference's own logger.info line (Calculon-MoE's golden for Megatron 126M)
    reportFollowsTheGlobalOptions("lpc", "megatron-126M -> 125.949 M\n", "lpc", MODEL);
    // llm-validation: the reference printed its tables with print(); here they are the report too
    reportFollowsTheGlobalOptions("lv", "*Params & Opt,|,none,,,|,seqsel,,,\n", "lv");
    // llm with a stats file and a report page: the "Report:" line is the whole report
    reportFollowsTheGlobalOptions("llm", "Report: " + at("r.html") + "\n",
        "llm", MODEL, EXE, SYSTEM, at("stats.json"), "--report", at("r.html"));
    reportFollowsTheGlobalOptions("report", "Report: " + at("again.html") + "\n", "report", at("stats.json"),
        at("again.html"));
    reportFollowsTheGlobalOptions("convert", "Converted: " + at("stats.csv") + " (", "convert", at("stats.json"),
        at("stats.csv"));
    reportFollowsTheGlobalOptions("import-hf", "Wrote " + at("llama.json") + "\n", "import-hf",
        "src/test/resources/hf/Llama-2-7b-hf.json", at("llama.json"), "--force");
    // the searches: the reference's logger.info counts, best rate and output lines
    reportFollowsTheGlobalOptions("loe", "Total executions: ", "loe", MODEL, "1", "8", "float16", SYSTEM,
        at("best.json"), "--quiet");
    reportFollowsTheGlobalOptions("lae", "Total executions: ", "lae", MODEL, "1", "8", "float16", SYSTEM,
        at("all.csv"), "--quiet");
    reportFollowsTheGlobalOptions("loe-d", "Total executions: ", "loe", MODEL, "1", "8", "float16", SYSTEM,
        at("dry.json"), "-d");
  }

  @Test
  void aSweepsSummaryGoesToTheLogFile() throws IOException {
    String spec = "{\"models\": [\"" + Path.of(MODEL).toAbsolutePath() + "\"], \"systems\": [\""
        + Path.of(SYSTEM).toAbsolutePath() + "\"], \"search\": {\"command\": \"loe\", "
        + "\"num_procs\": 1, \"max_batch_size\": 8, \"datatype\": \"bfloat16\"}, \"grid\": {\"max_batch_size\": [4, 8]}}";
    Path specFile = Files.writeString(dir.resolve("spec.json"), spec);
    Path log = dir.resolve("sweep.log");
    Files.write(log, EARLIER);
    Run logged = CliRun.run("--log", log.toString(), "sweep", specFile.toString(), at("s.csv"), "--quiet", "-c", "1");
    assertThat(logged.status()).as(logged.err()).isZero();
    assertThat(logged.out()).isEmpty();
    assertThat(Files.readAllBytes(Path.of(log + ".~1~"))).isEqualTo(EARLIER);
    String report = Files.readString(log);
    assertThat(report).startsWith("Points: 2 (2 evaluated now, 0 resumed) on local, 1 thread")
        .contains("\nBest sample rate: ").endsWith("\nOutput: " + at("s.csv") + "\n");

    Run quiet = CliRun.run("-v", "WARNING", "sweep", specFile.toString(), at("t.csv"), "--quiet", "-c", "1");
    assertThat(quiet.status()).as(quiet.err()).isZero();
    assertThat(quiet.out()).isEmpty();
    assertThat(Files.readString(dir.resolve("t.csv"))).isEqualTo(Files.readString(dir.resolve("s.csv")));
  }

  /**
   * An infeasible llm run: its ERROR line stays on standard output (the reference's print(), which
   * no logger level or file reaches), exit 255; the log file gets nothing. Llama 3 70B at
   * microbatch 8 without recompute on 80 GiB H100s does not fit (InfeasibleMemoryMessageTest).
   */
  @Test
  void anInfeasibleRunsErrorLineIsNeitherLoggedNorSilenced() throws IOException {
    ObjectMapper mapper = new ObjectMapper();
    ObjectNode e = (ObjectNode) mapper.readTree(Path.of("examples/llama3-70B_256xH100.json").toFile());
    e.put("microbatch_size", 8).put("activation_recompute", "none").put("pipeline_interleaving", 1);
    Path exe = dir.resolve("exe.json");
    mapper.writeValue(exe.toFile(), e);
    Path log = dir.resolve("llm.log");
    Run r = CliRun.run("--log", log.toString(), "-v", "CRITICAL", "llm", "models/llama3-70B.json", exe.toString(),
        SYSTEM, "-", "--model-version", "calculon-moe");
    assertThat(r.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(r.out()).isEqualTo("ERROR: Mem tier1 needs 1.746 TiB but only has 80.000 GiB\n");
    assertThat(log).doesNotExist(); // no report line, so no log file
  }

  /**
   * A search that finds nothing good: without --noneok its failure (exit 255) is said on standard
   * output at any level, the counts before it in the log; with --noneok it is a report like the
   * counts (exit 0). Megatron 1T on 8 A100s at batch 4: every execution is rejected for memory
   * (NoAcceptableConfigurationTest).
   */
  @Test
  void aSearchsNoneFoundIsAFailureWithoutNoneokAndAReportWithIt() throws IOException {
    Path log = dir.resolve("loe.log");
    String[] search = {"loe", "models/megatron-1T.json", "8", "4", "float16", "systems/a100_80g.json", at("o.json"),
        "--quiet", "-c", "2"};
    List<String> args = new ArrayList<>(List.of("--log", log.toString(), "-v", "ERROR"));
    args.addAll(List.of(search));
    Run failed = CliRun.run(args.toArray(String[]::new));
    assertThat(failed.status()).isEqualTo(-1);
    assertThat(failed.out()).startsWith("No acceptable configurations found :( (").contains("\nRejected: ");
    assertThat(log).doesNotExist(); // the counts are below ERROR: no report line, so no log file

    Run none = run(List.of("--log", log.toString()), append(search, "--noneok"));
    assertThat(none.status()).as(none.err()).isZero();
    assertThat(none.out()).isEmpty();
    String report = Files.readString(log);
    assertThat(report).startsWith("Total executions: ").contains("\nGood executions: 0\n",
        "\nNo acceptable configurations found :( (", "\nRejected: ").endsWith("\nOutput: " + at("o.json") + "\n");
  }

  /** A configuration error is one line on standard error, exit 2, whatever the level and the log. */
  @Test
  void aConfigurationErrorIsNeitherLoggedNorSilenced() throws IOException {
    Path log = dir.resolve("lpc.log");
    Path model = Files.writeString(dir.resolve("empty-model.json"), "{}");
    Run r = CliRun.run("--log", log.toString(), "-v", "CRITICAL", "lpc", model.toString());
    assertThat(r.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("calculon llm-parameter-calculator: " + model + ": ").hasLineCount(1);
    assertThat(log).doesNotExist();
  }

  /**
   * The log file is opened with the first report line: a run that fails before any report (a
   * missing input, a bad value, no command at all) leaves the earlier FILE byte for byte as it
   * was, makes no backup and creates nothing; the next run that reports keeps it as FILE.~1~.
   */
  @Test
  void aRunThatFailsBeforeAnyReportLeavesTheEarlierLogAlone() throws IOException {
    Path log = Files.write(dir.resolve("l.txt"), EARLIER);
    Run missing = CliRun.run("--log", log.toString(), "llm", MODEL, at("nofile.json"), SYSTEM, "-");
    assertThat(missing.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(missing.err()).isEqualTo("calculon llm: " + at("nofile.json") + ": file not found\n");
    Path bad = Files.writeString(dir.resolve("bad-model.json"), "{}");
    Run badValue = CliRun.run("--log", log.toString(), "lpc", bad.toString());
    assertThat(badValue.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(badValue.err()).startsWith("calculon llm-parameter-calculator: " + bad + ": ").hasLineCount(1);
    Run noCommand = CliRun.run("--log", log.toString());
    assertThat(noCommand.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(noCommand.err()).isEqualTo("calculon: Missing required command; see 'calculon --help'\n");
    assertThat(Files.readAllBytes(log)).isEqualTo(EARLIER);
    assertThat(Path.of(log + ".~1~")).doesNotExist();

    Path fresh = dir.resolve("fresh.txt");
    Run none = CliRun.run("--log", fresh.toString(), "llm", MODEL, at("nofile.json"), SYSTEM, "-");
    assertThat(none.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(fresh).doesNotExist();

    Run ok = CliRun.run("--log", log.toString(), "lpc", MODEL);
    assertThat(ok.status()).as(ok.err()).isZero();
    assertThat(ok.err()).isEqualTo("calculon llm-parameter-calculator: kept the earlier " + log + " as " + log
        + ".~1~\n");
    assertThat(Files.readString(log)).isEqualTo("megatron-126M -> 125.949 M\n");
    assertThat(Files.readAllBytes(Path.of(log + ".~1~"))).isEqualTo(EARLIER);
  }

  /** An empty --log name is refused as such, not as "the --log file  is a folder" (the current folder). */
  @Test
  void anEmptyLogNameIsRefusedAsEmpty() {
    Run r = CliRun.run("--log", "", "version");
    assertThat(r.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).isEqualTo("calculon version: the --log file has an empty name: give a file name\n");
  }

  private static String[] append(String[] words, String word) {
    String[] all = java.util.Arrays.copyOf(words, words.length + 1);
    all[words.length] = word;
    return all;
  }
}
