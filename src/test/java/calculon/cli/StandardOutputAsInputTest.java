package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * "-" is standard output where an output takes it (llm's OUTPUT, --log) and no command reads from
 * it. Given for an input (most often an argument left out, or OUTPUT given too early), it is named
 * by its argument in one line, with the command's usage, exit status 2, before any file is read
 * (OutputGuard, for every command alike): not the reader's "-: must be a .json or .json.gz file",
 * which named no argument. Several such arguments are all named in the one line, not the first alone.
 * A search's or sweep's OUTPUT, a file of results, is refused as '-' the same way, with what it takes.
 */
class StandardOutputAsInputTest {
  static final String MODEL = "models/megatron-1T.json";
  static final String EXE = "examples/megatron_1T_training_4096_original.json";
  static final String SYSTEM = "systems/a100_80g.json";
  static final String READS = ", standard output, which no command reads: give ";

  @TempDir Path dir;

  private String out(String name) {
    return dir.resolve(name).toString();
  }

  private static String usage(String command, String arguments) {
    return " (usage: calculon " + command + " [OPTIONS] " + arguments + "); see 'calculon " + command + " --help'\n";
  }

  private static final String SEARCH_ARGUMENTS = "MODEL NUM_PROCS MAX_BATCH_SIZE DATATYPE SYSTEM OUTPUT";

  @Test
  void aSearchsSystemGivenAsStandardOutputIsNamed() {
    Run r = MainTest.run("llm-optimal-execution", MODEL, "8", "4096", "bfloat16", "-", out("o.csv"));
    assertThat(r).isEqualTo(new Run(2, "", "calculon llm-optimal-execution: SYSTEM is '-'" + READS
        + "the system file" + usage("llm-optimal-execution", SEARCH_ARGUMENTS)));
    assertThat(dir.resolve("o.csv")).doesNotExist();
  }

  @Test
  void everySearchCommandSaysTheSame() {
    for (String command : new String[] {"llm-optimal-execution-moe", "llm-optimal-execution-moe-flexible",
        "llm-all-executions"}) {
      assertThat(MainTest.run(command, "-", "8", "4096", "bfloat16", SYSTEM, out("o.csv")))
          .isEqualTo(new Run(2, "", "calculon " + command + ": MODEL is '-'" + READS + "the model file"
              + usage(command, SEARCH_ARGUMENTS)));
    }
  }

  @Test
  void everyArgumentGivenAsStandardOutputIsNamedInOneLine() {
    String llm = usage("llm", "MODEL EXECUTION SYSTEM OUTPUT");
    assertThat(MainTest.run("llm", "-", "-", SYSTEM, out("s.json"))).isEqualTo(new Run(2, "",
        "calculon llm: MODEL and EXECUTION are '-'" + READS + "the model file and the execution file" + llm));
    assertThat(MainTest.run("llm", "-", "-", "-", "-")).isEqualTo(new Run(2, "", "calculon llm: MODEL, EXECUTION "
        + "and SYSTEM are '-'" + READS + "the model file, the execution file and the system file" + llm));
    assertThat(MainTest.run("llm-optimal-execution", "-", "8", "4096", "bfloat16", "-", out("o.csv"), "--execution-template",
        "-")).isEqualTo(new Run(2, "", "calculon llm-optimal-execution: MODEL, SYSTEM and --execution-template are '-'"
        + READS + "the model file, the system file and the execution template"
        + usage("llm-optimal-execution", SEARCH_ARGUMENTS)));
  }

  @Test
  void theOtherCommandsInputsSayTheSame() {
    assertThat(MainTest.run("sweep", "-", out("s.csv"))).isEqualTo(new Run(2, "",
        "calculon sweep: SPEC is '-'" + READS + "the sweep spec" + usage("sweep", "SPEC OUTPUT")));
    assertThat(MainTest.run("convert", "-", out("c.csv"))).isEqualTo(new Run(2, "",
        "calculon convert: INPUT is '-'" + READS + "the file to convert" + usage("convert", "INPUT OUTPUT")));
    assertThat(MainTest.run("report", "-", out("r.html"))).isEqualTo(new Run(2, "",
        "calculon report: RESULTS is '-'" + READS + "the results file" + usage("report", "RESULTS REPORT")));
    assertThat(MainTest.run("import-hf", "-", out("m.json"))).isEqualTo(new Run(2, "",
        "calculon import-hf: CONFIG is '-'" + READS + "the Hugging Face config" + usage("import-hf", "CONFIG OUTPUT")));
    assertThat(MainTest.run("llm-parameter-calculator", "-", "-e", "-")).isEqualTo(new Run(2, "",
        "calculon llm-parameter-calculator: MODEL and --execution are '-'" + READS
        + "the model file and the execution file" + usage("llm-parameter-calculator", "MODEL")));
  }

  /** An option's file is named by the option, as the clash lines name it. */
  @Test
  void anOptionsFileIsNamedByTheOption() throws Exception {
    Path results = Files.writeString(dir.resolve("r.csv"), "a\n1\n");
    assertThat(MainTest.run("report", results.toString(), out("r.html"), "--model", "-", "--system", "-"))
        .isEqualTo(new Run(2, "", "calculon report: --model and --system are '-'" + READS
            + "the model file and the system file" + usage("report", "RESULTS REPORT")));
  }

  static final String TAKES = " is '-', standard output, which takes no result file: give a ";

  /**
   * A search's OUTPUT is a file of results (.json, .csv, gzipped or not), never standard output:
   * '-' there is refused before any input is read (the model named here does not exist, and it is
   * not what the line names) and before a dry run (-d) estimates a search that would write to it.
   * Before, the search read its inputs and failed late on "-: unknown file type", or on an input's
   * rule first (llm-optimal-execution-moe's num_experts).
   */
  @Test
  void aSearchsOutputGivenAsStandardOutputIsRefusedBeforeAnyWork() {
    String json = ".json, .json.gz, .csv or .csv.gz file";
    for (String command : new String[] {"llm-optimal-execution", "llm-optimal-execution-moe",
        "llm-optimal-execution-moe-flexible", "llm-all-executions"}) {
      String line = "calculon " + command + ": OUTPUT" + TAKES
          + (command.equals("llm-all-executions") ? ".csv or .csv.gz file" : json) + usage(command, SEARCH_ARGUMENTS);
      assertThat(MainTest.run(command, dir.resolve("missing.json").toString(), "8", "8", "float16", SYSTEM, "-"))
          .as(command).isEqualTo(new Run(2, "", line));
      assertThat(MainTest.run(command, "models/megatron-126M.json", "8", "8", "float16", SYSTEM, "-", "-d"))
          .as(command + " -d").isEqualTo(new Run(2, "", line));
    }
  }

  /** An input given as '-' is named first, in its own line, as without OUTPUT '-'. */
  @Test
  void anInputGivenAsStandardOutputIsNamedBeforeOutput() {
    assertThat(MainTest.run("llm-optimal-execution", MODEL, "8", "8", "float16", "-", "-")).isEqualTo(new Run(2, "",
        "calculon llm-optimal-execution: SYSTEM is '-'" + READS + "the system file"
            + usage("llm-optimal-execution", SEARCH_ARGUMENTS)));
  }

  /** A sweep's OUTPUT, appended to and resumed, is a file too: the same line, with its formats. */
  @Test
  void aSweepsOutputGivenAsStandardOutputIsRefused() {
    assertThat(MainTest.run("sweep", "examples/sweeps/quick.json", "-")).isEqualTo(new Run(2, "",
        "calculon sweep: OUTPUT" + TAKES + ".csv or .jsonl file" + usage("sweep", "SPEC OUTPUT")));
  }

  /**
   * report's REPORT, convert's OUTPUT and import-hf's OUTPUT write files too: the same line, before
   * any input is read (the inputs named here do not exist). Before, each had a terse line of its own
   * ("-: a report must be an .html file", "-: use a .json, ...", "-: a model file must end .json"),
   * found by a fresh-user walkthrough.
   */
  @Test
  void reportConvertAndImportOutputsGivenAsStandardOutputAreRefused() {
    String missing = dir.resolve("missing.json").toString();
    assertThat(MainTest.run("report", missing, "-")).isEqualTo(new Run(2, "",
        "calculon report: REPORT" + TAKES + ".html file" + usage("report", "RESULTS REPORT")));
    assertThat(MainTest.run("convert", missing, "-")).isEqualTo(new Run(2, "",
        "calculon convert: OUTPUT" + TAKES + ".json, .json.gz, .csv, .csv.gz or .jsonl file"
            + usage("convert", "INPUT OUTPUT")));
    assertThat(MainTest.run("import-hf", missing, "-")).isEqualTo(new Run(2, "",
        "calculon import-hf: OUTPUT" + TAKES + ".json file" + usage("import-hf", "CONFIG OUTPUT")));
  }

  /** OUTPUT - (llm's text summary) and --log - stay what they were: standard output. */
  @Test
  void standardOutputWhereAnOutputTakesItIsNoError() {
    Run r = MainTest.run("--log", "-", "llm", MODEL, EXE, SYSTEM, "-");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).isNotEmpty();
  }
}
