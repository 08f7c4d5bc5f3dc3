package calculon.cli;

import calculon.cli.CliRun.Run;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.ConfigError;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import picocli.CommandLine;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
  private static final String MODEL = "models/megatron-126M.json";
  private static final String SYSTEM = "systems/H100_80g_sxm.json";
  private static final String DENSE_EXE = "src/test/resources/cli/dense-126M-tp2-pp2-dp2-execution.json";

  static Run run(String... args) {
    return CliRun.run(args);
  }

  @Test
  void versionLogsTheProjectVersion() throws Exception {
    // the command and the option print the same line
    assertThat(run("version")).isEqualTo(new Run(0, "calculon " + VersionCommand.VERSION + "\n", ""));
    assertThat(run("v")).isEqualTo(new Run(0, "calculon " + VersionCommand.VERSION + "\n", ""));
    assertThat(run("version")).isEqualTo(run("--version"));
    Matcher m = Pattern.compile("<artifactId>calculon</artifactId>\\s*<version>([^<]+)</version>")
        .matcher(Files.readString(Path.of("pom.xml")));
    assertThat(m.find()).isTrue();
    assertThat(VersionCommand.VERSION).isEqualTo(m.group(1));
  }

  @Test
  void verbosityWarningSilencesTheReports() {
    assertThat(run("-v", "WARNING", "version")).isEqualTo(new Run(0, "", ""));
    assertThat(run("--verbosity", "DEBUG", "version").out()).isEqualTo("calculon " + VersionCommand.VERSION + "\n");
  }

  @Test
  void logFileReceivesTheReports(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("calculon.log");
    assertThat(run("--log", log.toString(), "version")).isEqualTo(new Run(0, "", ""));
    assertThat(Files.readString(log)).isEqualTo("calculon " + VersionCommand.VERSION + "\n");
  }

  @Test
  void unwritableLogFileIsAOneLineErrorWithStatus2(@TempDir Path dir) {
    Run r = run("--log", dir.resolve("missing/dir/x.log").toString(), "version");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err().lines()).hasSize(1).first().asString().contains("x.log");
  }

  @Test
  void helpExplainsEveryGlobalOptionAndCommand() {
    Run r = run("--help");
    assertThat(r.status()).isZero();
    assertThat(r.out()).contains("--log=FILE", "Default: -", "-V, --version", "folder that must already exist", "-v, --verbosity=LEVEL", "Default: INFO",
        "version, v", "llm");
  }

  @Test
  void llmHelpExplainsEveryArgument() {
    Run r = run("llm", "--help");
    assertThat(r.status()).isZero();
    assertThat(r.out()).contains("MODEL", "EXECUTION", "SYSTEM", "OUTPUT", "-l, --layers",
        "-p, --peers=FILE", "-m", "ignored", "Default: off", "Default: none");
  }

  /**
   * Usage errors are one line on stderr (the problem, picocli's near-miss suggestions, where the
   * help is) and exit status 2; nothing on stdout, no usage text: that is what --help is for.
   */
  @Test
  void usageErrorsAreOneLineNamingTheProblemAndWhereTheHelpIs() {
    String[][] cases = {
        {"", "calculon: Missing required command; see 'calculon --help'"},
        {"lmm", "calculon: Unknown command: 'lmm' (did you mean llm or llm-validation or llm-all-executions?); "
            + "see 'calculon --help'"},
        {"--bogus", "calculon: Unknown option: '--bogus'; see 'calculon --help'"},
        {"llm a.json b.json", "calculon llm: Missing required parameters: 'SYSTEM', 'OUTPUT'; see 'calculon llm --help'"},
        {"llm --bogus a.json b.json c.json -", "calculon llm: Unknown option: '--bogus'; see 'calculon llm --help'"},
        {"llm --layer a.json b.json c.json -",
            "calculon llm: Unknown option: '--layer' (did you mean --layers?); see 'calculon llm --help'"},
        {"llm a.json b.json c.json - extra",
            "calculon llm: extra argument 'extra' (usage: calculon llm [OPTIONS] MODEL EXECUTION SYSTEM OUTPUT); "
            + "see 'calculon llm --help'"},
        {"-v LOUD version", "calculon: Invalid value for option '--verbosity': unknown level 'LOUD' "
            + "(use DEBUG, INFO, WARNING, ERROR or CRITICAL; also WARN, FATAL or NOTSET); see 'calculon --help'"},
        // Python's Logger.setLevel takes a level name from the reference's -v, not a number
        {"-v 5 version", "calculon: Invalid value for option '--verbosity': unknown level '5' "
            + "(use DEBUG, INFO, WARNING, ERROR or CRITICAL; also WARN, FATAL or NOTSET); see 'calculon --help'"},
        {"--verbosity=-1 version", "calculon: Invalid value for option '--verbosity': unknown level '-1' "
            + "(use DEBUG, INFO, WARNING, ERROR or CRITICAL; also WARN, FATAL or NOTSET); see 'calculon --help'"},
        // a command's option before the command: named alone (not "Unknown options: '-l', 'f.txt'"),
        // with the global option it may have meant and the commands that have it
        {"-l f.txt version", "calculon: Unknown option: '-l' (not a global option; did you mean --log? -l is "
            + "--layers of llm, llm-optimal-execution, llm-optimal-execution-moe and "
            + "llm-optimal-execution-moe-flexible, given after the command); see 'calculon --help'"},
        {"--layers 3 version", "calculon: Unknown option: '--layers' (not a global option; --layers is an option of "
            + "llm, llm-optimal-execution, llm-optimal-execution-moe and llm-optimal-execution-moe-flexible, given "
            + "after the command); see 'calculon --help'"},
        {"llm-optimal-execution x", "calculon llm-optimal-execution: Missing required parameters: 'NUM_PROCS', 'MAX_BATCH_SIZE', "
            + "'DATATYPE', 'SYSTEM', 'OUTPUT'; see 'calculon llm-optimal-execution --help'"},
        // a global option after the command: where it goes, not picocli's "did you mean --version?",
        // and the option alone, not its value or the positional it shifted out
        {"llm a.json b.json c.json - --log f.txt", "calculon llm: Misplaced option: '--log' (--log is an option "
            + "of calculon itself, before the command: calculon --log FILE llm ...); see 'calculon llm --help'"},
        {"llm --log f.txt a.json b.json c.json -", "calculon llm: Misplaced option: '--log' (--log is an option "
            + "of calculon itself, before the command: calculon --log FILE llm ...); see 'calculon llm --help'"},
        {"loe a.json 8 8 float16 s.json o.json --log=f.txt", "calculon llm-optimal-execution: Misplaced option: "
            + "'--log' (--log is an option of calculon itself, before the command: calculon --log FILE "
            + "llm-optimal-execution ...); see 'calculon llm-optimal-execution --help'"},
        // before the positionals, its value shifts them: picocli's error is about num_procs
        {"loe --log f.txt a.json 8 8 float16 s.json o.json", "calculon llm-optimal-execution: Misplaced option: "
            + "'--log' (--log is an option of calculon itself, before the command: calculon --log FILE "
            + "llm-optimal-execution ...); see 'calculon llm-optimal-execution --help'"},
        {"llm a.json b.json c.json - -v DEBUG", "calculon llm: Misplaced option: '-v' (-v is an option of "
            + "calculon itself, before the command: calculon -v LEVEL llm ...); see 'calculon llm --help'"},
        {"-v INFO llm -vDEBUG a.json b.json c.json -", "calculon llm: Misplaced option: '-v' (-v is an option of "
            + "calculon itself, before the command: calculon -v LEVEL llm ...); see 'calculon llm --help'"},
        {"sweep s.json o.csv --verbosity=ERROR", "calculon sweep: Misplaced option: '--verbosity' (--verbosity is "
            + "an option of calculon itself, before the command: calculon --verbosity LEVEL sweep ...); see 'calculon "
            + "sweep --help'"},
        // the sweep's model version is a SPEC key (the unknown option alone: its value is not an
        // option, and picocli's "Unknown options: '--model-version', 'calculon-moe'" read as two)
        {"sweep s.json o.csv --model-version calculon-moe", "calculon sweep: Unknown option: '--model-version' "
            + "(a sweep's model version is its SPEC's key model_version, e.g. \"model_version\": "
            + "\"calculon-moe\"; default corrected); see 'calculon sweep --help'"},
        // another command's option: which commands have it, not what picocli made of it (the dense
        // search's -m took -moe for -m -o -e: "Unknown options: '-oe' (while processing option: '-moe')")
        {"loe a.json 8 8 float16 s.json o.json -moe 8", "calculon llm-optimal-execution: Unknown option: '-moe' "
            + "(-moe is an option of llm-optimal-execution-moe, llm-optimal-execution-moe-flexible and "
            + "llm-all-executions, not of this command); see 'calculon llm-optimal-execution --help'"},
        {"llm a.json b.json c.json - -t 3", "calculon llm: Unknown option: '-t' (-t is an option of "
            + "llm-optimal-execution, llm-optimal-execution-moe and llm-optimal-execution-moe-flexible, not of this "
            + "command); see 'calculon llm --help'"},
        {"loe a.json 8 8 float16 s.json o.json --flexible", "calculon llm-optimal-execution: Unknown option: "
            + "'--flexible' (--flexible is an option of llm-all-executions, not of this command); see "
            + "'calculon llm-optimal-execution --help'"},
    };
    for (String[] c : cases) {
      String[] args = c[0].isEmpty() ? new String[0] : c[0].split(" ");
      Run r = run(args);
      assertThat(r).as(c[0]).isEqualTo(new Run(2, "", c[1] + "\n"));
    }
  }

  /** --help itself still prints the whole usage, on stdout, with status 0. */
  @Test
  void helpIsStillTheWholeUsage() {
    Run r = run("llm", "--help");
    assertThat(r.status()).isZero();
    assertThat(r.err()).isEmpty();
    assertThat(r.out()).startsWith("Usage: calculon llm [-hlmV]").contains("MODEL EXECUTION SYSTEM OUTPUT",
        "--report=FILE");
    assertThat(run("help", "llm").out()).isEqualTo(r.out());
    // an unknown command after help is said as a mistyped command is (picocli: "Unknown subcommand 'nope'.")
    Run unknown = run("help", "nope");
    assertThat(unknown.status()).isEqualTo(2);
    assertThat(unknown.err()).isEqualTo("calculon: Unknown command: 'nope'; see 'calculon --help'\n");
  }

  @Test
  void unknownStatsExtensionIsAOneLineErrorWithStatus2() {
    Run r = run("llm", MODEL, DENSE_EXE, SYSTEM, "stats.txt");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).isEqualTo("calculon llm: stats.txt: unknown stats extension: use -, .json or .json.gz\n");
  }

  @Test
  void unreadableInputIsAOneLineErrorWithStatus2() {
    Run r = run("llm", "models/no-such-model.json", DENSE_EXE, SYSTEM, "-");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err().lines()).hasSize(1).first().asString().contains("no-such-model.json");
  }

  @Test
  void configErrorsAreOneLineAndStatus2() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Main.reportFailure(new ConfigError("exe.json", "tensor_par", "must be at least 1"),
        new PrintStream(err, true, StandardCharsets.UTF_8), "calculon llm");
    assertThat(status).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("calculon llm: exe.json: tensor_par: must be at least 1\n");
  }

  @Test
  void ourBugsAreOneLineAndStatus1() {
    Assumptions.assumeTrue(System.getenv(Main.DEBUG_ENV) == null, "stack traces are on");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Main.reportFailure(new IllegalStateException("boom"), new PrintStream(err, true, StandardCharsets.UTF_8),
        "calculon llm");
    assertThat(status).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .isEqualTo("calculon llm: internal error: java.lang.IllegalStateException: boom\n");
  }

  /** End to end: stats as the reference's, and the original Calculon's peers file. */
  @Test
  void llmWritesStatsAndPeers(@TempDir Path dir) throws Exception {
    Path stats = dir.resolve("stats.json");
    Path peers = dir.resolve("peers.json");
    Run r = run("llm", MODEL, DENSE_EXE, SYSTEM, stats.toString(), "-p", peers.toString(), "--model-version", "calculon-moe");
    assertThat(r).isEqualTo(new Run(0, "", ""));
    assertThat(Files.readString(peers)).isEqualTo(resource("/peers/tp2-pp2-dp2.json"));
    ObjectMapper mapper = new ObjectMapper();
    JsonNode expected = mapper.readTree(resource("/cli/dense-126M-tp2-pp2-dp2-H100_80g_sxm-stats.json"));
    JsonNode written = mapper.readTree(stats.toFile());
    for (Iterator<String> it = expected.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      assertThat(written.get(key).doubleValue()).as(key)
          .isCloseTo(expected.get(key).doubleValue(), org.assertj.core.data.Percentage.withPercentage(1e-10));
    }
  }

  private static String resource(String name) throws Exception {
    try (var in = MainTest.class.getResourceAsStream(name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** Issue 13, item 4: {@code --version} and {@code -V} on the top command and on every command. */
  @Test
  void versionOptionOnEveryCommand() {
    assertThat(run("--version")).isEqualTo(new Run(0, "calculon " + VersionCommand.VERSION + "\n", ""));
    CommandLine cl = Main.commandLine(new Main());
    for (String name : cl.getSubcommands().keySet()) {
      if (name.equals("help")) {
        continue;   // picocli's help command: "help X" shows X's help
      }
      for (String flag : new String[] {"--version", "-V"}) {
        Run r = run(name, flag);
        assertThat(r).as(name + " " + flag).isEqualTo(new Run(0, "calculon " + VersionCommand.VERSION + "\n", ""));
      }
    }
  }

  /**
   * Issue 13, item 4: a short option letter means one thing across all commands (the global log
   * option lost -l, which is --layers; llm-validation's --verbose lost -v, the global
   * --verbosity). One documented exception: llm's -m, the fork's ignored "turn on MoE" flag,
   * accepted so its scripts run, which does nothing.
   */
  @Test
  void aShortOptionLetterMeansOneThing() {
    Map<String, Set<String>> meanings = new TreeMap<>();
    collect(Main.commandLine(new Main()), meanings);
    meanings.get("-m").remove("llm -m");
    for (Map.Entry<String, Set<String>> e : meanings.entrySet()) {
      assertThat(e.getValue()).as(e.getKey()).hasSize(1);
    }
    assertThat(meanings).containsKeys("-l", "-v", "-V", "-h");
    assertThat(meanings.get("-l")).containsExactly("--layers");
  }

  /** Short name -> the long names it stands for (or "command -x" where it has none). */
  private static void collect(CommandLine c, Map<String, Set<String>> meanings) {
    for (picocli.CommandLine.Model.OptionSpec o : c.getCommandSpec().options()) {
      String longName = null;
      for (String n : o.names()) {
        if (n.startsWith("--")) {
          longName = n;
        }
      }
      for (String n : o.names()) {
        if (n.length() == 2 && n.charAt(0) == '-') {
          meanings.computeIfAbsent(n, k -> new TreeSet<>())
              .add(longName != null ? longName : c.getCommandName() + " " + n);
        }
      }
    }
    for (CommandLine sub : new java.util.LinkedHashSet<>(c.getSubcommands().values())) {
      collect(sub, meanings);
    }
  }
}
