package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * report given its arguments in another order names which argument looks like which kind of file,
 * in one line (exit 2), with the words sweep and llm use for theirs (FileKind.swapped), and writes
 * nothing: RESULTS and REPORT swapped (it said "a report must be an .html file" of the stats file),
 * a stats file or search results given as --model, --execution or --system (it listed the stats
 * file's 130 keys as unknown model keys), and llm's order of five arguments.
 */
class ReportSwappedArgumentsTest {
  private static final String[] LLAMA = {"models/llama3-70B.json", "examples/llama3-70B_256xH100.json",
      "systems/H100_SXM_80g_dense.json"};
  private static final String HELP = "check which file goes where (the command's --help lists its arguments in order)";

  @TempDir
  Path dir;

  private Path stats() {
    Path stats = dir.resolve("s.json");
    assertThat(MainTest.run("llm", LLAMA[0], LLAMA[1], LLAMA[2], stats.toString()).status()).isZero();
    return stats;
  }

  @Test
  void reportAndResultsSwappedAreNamed() throws Exception {
    Path stats = stats();
    byte[] before = Files.readAllBytes(stats);
    Path html = dir.resolve("out.html");
    assertThat(MainTest.run("report", html.toString(), stats.toString())).isEqualTo(new Run(2, "",
        "calculon report: " + html + ": this looks like a report (.html), not a stats file, search results or a sweep "
            + "output: check which file goes where (RESULTS first, then REPORT: calculon report " + stats + " " + html
            + ")\n"));
    assertThat(Files.readAllBytes(stats)).isEqualTo(before);
    assertThat(html).doesNotExist();
    assertThat(Path.of(stats + ".~1~")).doesNotExist();
    // the same words as sweep's SPEC and OUTPUT swapped
    Path csv = dir.resolve("quick.csv");
    assertThat(MainTest.run("sweep", csv.toString(), "examples/sweeps/quick.json").err()).isEqualTo("calculon sweep: "
        + csv + ": this looks like a sweep output (.csv), not a sweep spec (.json): check which file goes where (SPEC "
        + "first, then OUTPUT: calculon sweep examples/sweeps/quick.json " + csv + ")\n");
    // a second name that is no result file: the order, not a command to paste
    Path other = dir.resolve("notes.txt");
    assertThat(MainTest.run("report", html.toString(), other.toString()).err()).isEqualTo("calculon report: " + html
        + ": this looks like a report (.html), not a stats file, search results or a sweep output: check which file "
        + "goes where (RESULTS first, then REPORT: calculon report RESULTS " + html + ")\n");
  }

  @Test
  void aStatsFileGivenAsAnInputIsNamed() throws Exception {
    Path stats = stats();
    Path html = dir.resolve("out.html");
    // options: the line says which file the option takes, not the positional arguments' order
    String[][] places = {{"--model", "a model file"}, {"--execution", "an execution file"}, {"--system", "a system file"}};
    for (String[] p : places) {
      String[] files = LLAMA.clone();
      files[p[0].equals("--model") ? 0 : p[0].equals("--execution") ? 1 : 2] = stats.toString();
      Run r = MainTest.run("report", stats.toString(), html.toString(), "--model", files[0], "--execution", files[1],
          "--system", files[2]);
      assertThat(r).as(p[0]).isEqualTo(new Run(2, "", "calculon report: " + stats + ": this looks like a stats file "
          + "(block_fw_flops, sample_rate), not " + p[1] + ": check which file goes where (" + p[0] + " takes " + p[1]
          + ")\n"));
    }
    // llm's are positional: the order is the mistake
    assertThat(MainTest.run("llm", LLAMA[0], LLAMA[1], stats.toString(), "-").err()).isEqualTo("calculon llm: " + stats
        + ": this looks like a stats file (block_fw_flops, sample_rate), not a system file: " + HELP + "\n");
    assertThat(html).doesNotExist();
  }

  @Test
  void searchResultsGivenAsAnInputAreNamed() throws Exception {
    Path stats = stats();
    Path results = dir.resolve("best.json");
    assertThat(MainTest.run("loe", "models/megatron-126M.json", "8", "8", "float16", "systems/a100_80g.json",
        results.toString()).status()).isZero();
    Run r = MainTest.run("report", stats.toString(), dir.resolve("out.html").toString(), "--model", LLAMA[0],
        "--execution", results.toString(), "--system", LLAMA[2]);
    assertThat(r).isEqualTo(new Run(2, "", "calculon report: " + results + ": this looks like search results (\"0\": "
        + "execution, stats), not an execution file: check which file goes where (--execution takes an execution "
        + "file)\n"));
    // where they belong, they are read
    assertThat(MainTest.run("report", results.toString(), dir.resolve("search.html").toString()).status()).isZero();
  }

  @Test
  void llmsOrderOfFiveArgumentsSaysWhereTheInputsGo() throws Exception {
    Path stats = stats();
    Path html = dir.resolve("out.html");
    Run r = MainTest.run("report", LLAMA[0], LLAMA[1], LLAMA[2], stats.toString(), html.toString());
    assertThat(r).isEqualTo(new Run(2, "", "calculon report: extra arguments '" + LLAMA[2] + "', '"
        + stats + "', '" + html + "' (report takes two arguments, RESULTS then REPORT; give a stats file's model, "
        + "execution and system as --model, --execution and --system); see 'calculon report --help'\n"));
  }
}
