package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A word after all of a command's arguments is one line naming it and the command's usage, exit 2
 * (picocli said "Unmatched argument at index 5: 'e'", an index counted from the command's name);
 * an unknown option is named before anything it caused (arguments left missing, a word read as the
 * wrong argument, an extra word beside it), with the did-you-mean hint.
 */
class ExtraArgumentsTest {
  /**
   * Every command, its arguments filled with words its converters accept (numbers for NUM_PROCS and
   * MAX_BATCH_SIZE, a datatype for DATATYPE: the parse must reach the extra word), then "extra".
   */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "llm | a b c d | MODEL EXECUTION SYSTEM OUTPUT",
      "llm-optimal-execution | m 8 8 bfloat16 s o | MODEL NUM_PROCS MAX_BATCH_SIZE DATATYPE SYSTEM OUTPUT",
      "llm-optimal-execution-moe | m 8 8 bfloat16 s o | MODEL NUM_PROCS MAX_BATCH_SIZE DATATYPE SYSTEM OUTPUT",
      "llm-optimal-execution-moe-flexible | m 8 8 bfloat16 s o | MODEL NUM_PROCS MAX_BATCH_SIZE DATATYPE SYSTEM OUTPUT",
      "llm-all-executions | m 8 8 bfloat16 s o | MODEL NUM_PROCS MAX_BATCH_SIZE DATATYPE SYSTEM OUTPUT",
      "llm-parameter-calculator | m | MODEL",
      "llm-validation | | ''",
      "sweep | s o | SPEC OUTPUT",
      "convert | i o | INPUT OUTPUT",
      "import-hf | c o | CONFIG OUTPUT",
      "version | | ''",
  })
  void anExtraWordNamesItselfAndTheUsage(String command, String given, String labels) {
    List<String> args = new ArrayList<>(List.of(command));
    if (given != null) {
      args.addAll(List.of(given.split(" ")));
    }
    args.add("extra");
    CliRun.Run r = CliRun.run(args.toArray(String[]::new));
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).isEqualTo("calculon " + command + ": extra argument 'extra' (usage: calculon " + command
        + " [OPTIONS]" + (labels.isEmpty() ? "" : " " + labels) + "); see 'calculon " + command + " --help'\n");
  }

  /** Two extra words are both named, by an alias too (the line gives the command's name). */
  @Test
  void severalExtraWordsAreAllNamed() {
    CliRun.Run r = CliRun.run("llm", "a", "b", "c", "d", "e", "f");
    assertThat(r).isEqualTo(new CliRun.Run(2, "", "calculon llm: extra arguments 'e', 'f' (usage: calculon llm "
        + "[OPTIONS] MODEL EXECUTION SYSTEM OUTPUT); see 'calculon llm --help'\n"));
    CliRun.Run lpc = CliRun.run("lpc", "m", "b");
    assertThat(lpc.err()).isEqualTo("calculon llm-parameter-calculator: extra argument 'b' (usage: calculon "
        + "llm-parameter-calculator [OPTIONS] MODEL); see 'calculon llm-parameter-calculator --help'\n");
  }

  /** report keeps its own hint (RESULTS then REPORT; the inputs as options) in place of the usage. */
  @Test
  void reportGivesItsOwnHint() {
    CliRun.Run r = CliRun.run("report", "a", "b", "c");
    assertThat(r).isEqualTo(new CliRun.Run(2, "", "calculon report: extra argument 'c' (report takes two arguments, "
        + "RESULTS then REPORT; give a stats file's model, execution and system as --model, --execution and "
        + "--system); see 'calculon report --help'\n"));
  }

  /**
   * The unknown option first: where picocli said "Missing required parameters: 'EXECUTION',
   * 'SYSTEM', 'OUTPUT'" for llm --layer x (it set --layer aside and read x as MODEL), said a word
   * was not an int, or listed the option among extra words.
   */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "llm --layer x | llm | --layer | ' (did you mean --layers?)'",
      "llm --layer | llm | --layer | ' (did you mean --layers?)'",
      "llm a b --layer | llm | --layer | ' (did you mean --layers?)'",
      "llm a b c d e --layer | llm | --layer | ' (did you mean --layers?)'",
      "llm --bogus 5 a b c d | llm | --bogus | ''",
      "llm-optimal-execution --bogus m x | llm-optimal-execution | --bogus | ''",
      "lpc --alignmnet 3 | llm-parameter-calculator | --alignmnet | ' (did you mean --alignment?)'",
  })
  void theUnknownOptionComesFirst(String line, String command, String option, String hint) {
    CliRun.Run r = CliRun.run(line.split(" "));
    assertThat(r).isEqualTo(new CliRun.Run(2, "", "calculon " + command + ": Unknown option: '" + option + "'"
        + hint + "; see 'calculon " + command + " --help'\n"));
  }
}
