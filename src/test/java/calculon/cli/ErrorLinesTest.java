package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every error line of the command line has one shape: {@code calculon CMD: ...} (the command's
 * name, also when an alias was typed, as picocli's usage errors say it), one line, exit status 2,
 * no stack trace, nothing on stdout, nothing written. The search commands' own checks (their
 * options' rules, the experts, the datatype's rates) printed their message without the prefix
 * ({@code --tp-overlaps: each mode must be ...}, {@code num_procs: num_procs=8 must be divisible by
 * num_experts=16 ...}), and so did every configuration error of the other commands ({@code
 * nonexist.json: file not found}). This walks each bad input found by trying bad values of every
 * search option, positional and output, on each search command, then one of each other command.
 */
class ErrorLinesTest {
  private static final String MODEL = "models/megatron-126M.json";
  private static final String SYSTEM = "systems/a100_80g.json";

  @TempDir Path dir;

  /** {alias typed, name the line gives}. */
  private static final String[][] SEARCHES = {
      {"loe", "llm-optimal-execution"},
      {"loe-moe", "llm-optimal-execution-moe"},
      {"loe-moe-flex", "llm-optimal-execution-moe-flexible"},
      {"lae", "llm-all-executions"}};

  /**
   * Options with a bad value and what the line says after the prefix; {@code OUTPUT} stands for the
   * command's output file.
   */
  private static final String[][] BAD_OPTIONS = {
      {"-c 0", "-c: must be a positive integer, got 0"},
      {"-c abc", "Invalid value for option '--cpus': 'abc' is not an int"},
      {"-f maybe", "-f: must be true, false or both, got maybe"},
      {"--zero-stages 5", "--zero-stages: each stage must be 0, 1, 2 or 3, got 5"},
      {"--zero-stages 1,1", "--zero-stages: a stage is listed twice: [1, 1]"},
      {"--context-par x", "--context-par: must be all or a list of degrees above 0 such as 1,2,4, got \"x\""},
      {"--max-context-par 0", "--max-context-par: must be a positive integer, got 0"},
      {"--cp-comm-types foo", "--cp-comm-types: each type must be p2p, a2a or all_gather, got \"foo\""},
      {"--tp-overlaps foo", "--tp-overlaps: each mode must be none, ring, pipe, async_tp, backward or userbuffers, "
          + "got \"foo\""},
      {"--tp-overlaps userbuffers --no-tp-overlap", "--tp-overlaps: cannot be combined with --no-tp-overlap"},
      {"--zero-stages 1 --model-version calculon-moe", "--zero-stages: enumerates the corrected model's execution "
          + "keys; drop it or the model version calculon-moe"},
      {"--model-version foo", "Invalid value for option '--model-version': 'foo' is not a model version"},
      {"--execution-template DIR/missing.json", "DIR/missing.json: file not found"},
      {"--report DIR/r.txt", "DIR/r.txt: a report must be an .html file"},
      {"--report DIR/no/r.html", "the folder DIR/no of the --report page DIR/no/r.html does not exist: outputs go into "
          + "an existing folder"},
  };

  /** Positionals (MODEL NUM_PROCS MAX_BATCH_SIZE DATATYPE SYSTEM OUTPUT) that break a rule. */
  private static final String[][] BAD_POSITIONALS = {
      {"MODEL 0 16 float16 SYSTEM OUTPUT", "num_procs: must be a positive integer, got 0"},
      {"MODEL 16 0 float16 SYSTEM OUTPUT", "max_batch_size: must be a positive integer, got 0"},
      {"MODEL abc 16 float16 SYSTEM OUTPUT", "Invalid value for positional parameter at index 1 (NUM_PROCS): 'abc' is "
          + "not an int"},
      {"MODEL 16 16 float64 SYSTEM OUTPUT", "Invalid value for positional parameter at index 3 (DATATYPE)"},
      {"MODEL 16 16 float8 SYSTEM OUTPUT", SYSTEM + ": matrix.float8: missing: the search's datatype float8 needs "
          + "matrix and vector rates"},
      {"DIR/missing.json 16 16 float16 SYSTEM OUTPUT", "DIR/missing.json: file not found"},
      {"DIR/broken.json 16 16 float16 SYSTEM OUTPUT", "DIR/broken.json: invalid JSON at line 1"},
      {"MODEL 16 16 float16 DIR/missing.json OUTPUT", "DIR/missing.json: file not found"},
      {"MODEL 16 16 float16 SYSTEM DIR/o.txt", "DIR/o.txt: "},
      {"MODEL 16 16 float16 SYSTEM DIR/no/o.csv", "the folder DIR/no of the result file DIR/no/o.csv does not exist"},
      {"MODEL 16 16 float16 SYSTEM MODEL", "the result file " + MODEL + " is the model file given as MODEL; give "
          + "another output name"},
  };

  @Test
  void everySearchErrorIsOneLineAfterTheCommandsName() throws Exception {
    Files.writeString(dir.resolve("broken.json"), "{");
    for (String[] search : SEARCHES) {
      String out = dir.resolve(search[0].equals("lae") ? "o.csv" : "o.json").toString();
      // the flexible search needs -moe; 8 experts divide the 16 processors
      String experts = search[0].equals("loe-moe-flex") ? " -moe 8" : "";
      for (String[] bad : BAD_OPTIONS) {
        String args = "MODEL 16 16 float16 SYSTEM OUTPUT " + bad[0] + experts;
        assertOneLine(search, words(args.replace("DIR", dir.toString()), out), bad[1].replace("DIR", dir.toString()));
      }
      for (String[] bad : BAD_POSITIONALS) {
        assertOneLine(search, words((bad[0] + experts).replace("DIR", dir.toString()), out),
            bad[1].replace("DIR", dir.toString()));
      }
    }
    // the MoE searches' experts: the default 16 on 8 processors (named as the default), a -moe the
    // model contradicts, and llm-all-executions' CSV-only output
    assertOneLine(SEARCHES[1], words("MODEL 8 16 float16 SYSTEM OUTPUT", dir.resolve("o.json").toString()),
        "num_procs: num_procs=8 must be divisible by num_experts=16 (16 is -moe's default, taken because " + MODEL
            + " has no moe.num_experts; give -moe E)");
    assertOneLine(SEARCHES[1], words("models/mixtral-8x7B.json 8 16 float16 SYSTEM OUTPUT -moe 4",
        dir.resolve("o.json").toString()), "-moe: 4 contradicts models/mixtral-8x7B.json, whose moe.num_experts is 8");
    assertOneLine(SEARCHES[3], words("MODEL 16 16 float16 SYSTEM OUTPUT", dir.resolve("o.json").toString()),
        dir.resolve("o.json") + ": llm-all-executions writes .csv or .csv.gz");
    assertOneLine(SEARCHES[3], words("MODEL 16 16 float16 SYSTEM OUTPUT --flexible", dir.resolve("o.csv").toString()),
        "--flexible needs -moe");
    // every positive-integer rule in one wording (-t and -moe once said "must be more than 0")
    assertOneLine(SEARCHES[0], words("MODEL 16 16 float16 SYSTEM OUTPUT -t 0", dir.resolve("o.json").toString()),
        "-t: must be a positive integer, got 0");
    assertOneLine(SEARCHES[3], words("MODEL 16 16 float16 SYSTEM OUTPUT -moe 0", dir.resolve("o.csv").toString()),
        "-moe: must be a positive integer, got 0");
  }

  @Test
  void theOtherCommandsErrorsAreOneLineAfterTheirNames() throws Exception {
    Files.writeString(dir.resolve("broken.json"), "{");
    String missing = dir.resolve("missing.json").toString();
    String broken = dir.resolve("broken.json").toString();
    assertOneLine(new String[] {"llm", "llm"}, List.of(MODEL, missing, SYSTEM, "-"), missing + ": file not found");
    assertOneLine(new String[] {"llm", "llm"}, List.of(MODEL, broken, SYSTEM, "-"), broken + ": invalid JSON at line 1");
    assertOneLine(new String[] {"lpc", "llm-parameter-calculator"}, List.of(missing), missing + ": file not found");
    assertOneLine(new String[] {"report", "report"}, List.of(missing, dir.resolve("r.html").toString()),
        missing + ": file not found");
    assertOneLine(new String[] {"convert", "convert"}, List.of(missing, dir.resolve("s.xlsx").toString()),
        dir.resolve("s.xlsx") + ": use a .json, .json.gz, .csv or .csv.gz file (or .jsonl for a sweep output)");
    assertOneLine(new String[] {"import-hf", "import-hf"}, List.of(missing, dir.resolve("m.json").toString()),
        missing + ": file not found");
    assertOneLine(new String[] {"sweep", "sweep"}, List.of(broken, dir.resolve("o.csv").toString()),
        broken + ": invalid JSON at line 1");
    assertOneLine(new String[] {"sweep", "sweep"}, List.of(missing, dir.resolve("o.txt").toString()),
        dir.resolve("o.txt") + ": unknown sweep output extension: use .csv or .jsonl");
    // files in each other's places are named as such, not as a list of unknown keys
    String exe = "examples/megatron_1T_training_4096_original.json";
    assertOneLine(new String[] {"llm", "llm"}, List.of(exe, MODEL, SYSTEM, "-"), exe + ": this looks like an execution "
        + "file (num_procs, tensor_par), not a model file: check which file goes where");
    assertOneLine(new String[] {"llm", "llm"}, List.of(MODEL, SYSTEM, exe, "-"), SYSTEM + ": this looks like a system "
        + "file (matrix, networks), not an execution file");
    assertOneLine(new String[] {"loe", "llm-optimal-execution"}, List.of(MODEL, "8", "8", "float16", MODEL,
        dir.resolve("o.json").toString()), MODEL + ": this looks like a model file (hidden, num_blocks), not a system file");
    assertOneLine(new String[] {"llm", "llm"}, List.of(MODEL, exe, SYSTEM, "-", "-p", dir.resolve("p.csv").toString()),
        dir.resolve("p.csv") + ": unknown extension for --peers (-p): use .json or .json.gz");
    // the global --log, checked before the command runs, is named by the command it came with
    List<String> log = new ArrayList<>(List.of("--log", dir.resolve("no/log.txt").toString(), "llm", MODEL, missing,
        SYSTEM, "-"));
    CliRun.Run r = CliRun.run(log.toArray(String[]::new));
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).isEqualTo("calculon llm: the folder " + dir.resolve("no") + " of the --log file "
        + dir.resolve("no/log.txt") + " does not exist: outputs go into an existing folder\n");
  }

  private static List<String> words(String args, String out) {
    List<String> w = new ArrayList<>();
    for (String a : args.split(" ")) {
      w.add(a.equals("MODEL") ? MODEL : a.equals("SYSTEM") ? SYSTEM : a.equals("OUTPUT") ? out : a);
    }
    return w;
  }

  /** {@code command[0] args} fails with exit 2 and the one line "calculon command[1]: " + a text starting with {@code says}. */
  private void assertOneLine(String[] command, List<String> args, String says) throws Exception {
    List<String> all = new ArrayList<>(List.of(command[0]));
    all.addAll(args);
    String[] argv = all.toArray(String[]::new);
    CliRun.Run r = CliRun.run(argv);
    String what = String.join(" ", argv) + "\n" + r.err();
    assertThat(r.status()).as(what).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(r.out()).as(what).isEmpty();
    assertThat(r.err()).as(what).endsWith("\n").doesNotContain("Exception").doesNotContain("\tat ");
    assertThat(r.err().strip()).as(what).doesNotContain("\n").startsWith("calculon " + command[1] + ": " + says);
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()).sorted().toList()).as(what + ": nothing written")
          .isSubsetOf("broken.json");
    }
  }
}
