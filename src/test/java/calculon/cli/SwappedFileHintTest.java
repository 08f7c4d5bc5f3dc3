package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file of another kind given in an input's place says where it was given: the positional
 * arguments' order ("the command's --help lists its arguments in order") only where the files are
 * positional arguments, the option's file where an option took it, nothing more where a sweep
 * spec's entry names it (the line names the entry). The hint used to follow every such line, an
 * option's and a spec entry's too, where the order of arguments has nothing to do with it.
 */
class SwappedFileHintTest {
  static final String MODEL = "models/megatron-1T.json";
  static final String EXE = "examples/megatron_1T_training_4096_original.json";
  static final String SYSTEM = "systems/a100_80g.json";

  @TempDir Path dir;

  @Test
  void positionalArgumentsKeepTheOrderHint() {
    assertThat(MainTest.run("llm", MODEL, SYSTEM, EXE, "-")).isEqualTo(new Run(2, "", "calculon llm: " + SYSTEM
        + ": this looks like a system file (matrix, networks), not an execution file: check which file goes where "
        + "(the command's --help lists its arguments in order)\n"));
    assertThat(MainTest.run("loe", EXE, "8", "8", "float16", SYSTEM, dir.resolve("o.json").toString()).err())
        .isEqualTo("calculon llm-optimal-execution: " + EXE + ": this looks like an execution file (num_procs, "
            + "tensor_par), not a model file: check which file goes where (the command's --help lists its arguments "
            + "in order)\n");
  }

  /**
   * OUTPUT "-" before SYSTEM (llm M E - S): the argument named, not "-: must be a .json or .json.gz
   * file" (the line every command gives, StandardOutputAsInputTest).
   */
  @Test
  void standardOutputInAnInputsPlaceNamesTheArgument() {
    String usage = " (usage: calculon llm [OPTIONS] MODEL EXECUTION SYSTEM OUTPUT); see 'calculon llm --help'\n";
    assertThat(MainTest.run("llm", MODEL, EXE, "-", SYSTEM)).isEqualTo(new Run(2, "", "calculon llm: SYSTEM is '-', "
        + "standard output, which no command reads: give the system file" + usage));
    assertThat(MainTest.run("llm", "-", EXE, SYSTEM, "-").err()).isEqualTo("calculon llm: MODEL is '-', "
        + "standard output, which no command reads: give the model file" + usage);
  }

  @Test
  void anOptionNamesWhatItTakes() {
    assertThat(MainTest.run("loe", MODEL, "8", "8", "float16", SYSTEM, dir.resolve("o.json").toString(),
        "--execution-template", MODEL)).isEqualTo(new Run(2, "", "calculon llm-optimal-execution: " + MODEL
        + ": this looks like a model file (hidden, num_blocks), not an execution file: check which file goes where "
        + "(--execution-template takes an execution file)\n"));
    assertThat(MainTest.run("lpc", MODEL, "-e", SYSTEM).err()).isEqualTo("calculon llm-parameter-calculator: "
        + SYSTEM + ": this looks like a system file (matrix, networks), not an execution file: check which file goes "
        + "where (--execution takes an execution file)\n");
  }

  /** A sweep spec's entry: the line names the entry and where the file belongs in the spec. */
  @Test
  void aSweepSpecEntryNeedsNoOrderHint() throws Exception {
    Path spec = dir.resolve("spec.json");
    String sys = Path.of(SYSTEM).toAbsolutePath().toString();
    Files.writeString(spec, "{\"models\": [\"" + sys + "\"], \"systems\": [\"" + sys + "\"], \"execution\": \""
        + Path.of(EXE).toAbsolutePath() + "\", \"grid\": {\"mem1.GiB\": [80, 120]}}");
    Run r = MainTest.run("sweep", spec.toString(), dir.resolve("o.csv").toString());
    assertThat(r).isEqualTo(new Run(2, "", "calculon sweep: " + spec + ": models[0]: " + sys + " looks like a system "
        + "file (matrix, networks), not a model file (hidden, num_blocks): list it under systems\n"));
  }
}
