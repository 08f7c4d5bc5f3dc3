package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Each command's help says only what applies to it: the Files section (outputs, numbered backups)
 * where the command writes files, 255 where an execution can be infeasible (or no point of a sweep
 * gives a result), 130/143 where it searches or sweeps; calculon's own help lists them all.
 */
class HelpFootersTest {
  private static String help(String... args) {
    CliRun.Run r = MainTest.run(args);
    assertThat(r.status()).as(r.err()).isZero();
    // picocli wraps the footer: compare with the line breaks as spaces
    return r.out().replaceAll("\\s+", " ");
  }

  @Test
  void commandsThatWriteNothingAndSearchNothingSayNeither() {
    for (String cmd : new String[] {"lpc", "version", "llm-validation"}) {
      String h = help(cmd, "--help");
      assertThat(h).as(cmd).doesNotContain("Files:", "numbered backup", "130", "143", "interrupted")
          .contains("Exit status: 0 done, 2 a configuration or usage error, ").contains("1 an internal error.");
    }
    assertThat(help("version", "--help")).doesNotContain("255");
    assertThat(help("llm-validation", "--help")).contains("255 an infeasible execution");
  }

  @Test
  void llmWritesFilesButDoesNotSearch() {
    String h = help("llm", "--help");
    assertThat(h).contains("Files:", "numbered backup, NAME.~N~", "255 an infeasible execution")
        .doesNotContain("130", "143");
  }

  @Test
  void searchesAndSweepsKeepWhatApplies() {
    String s = help("loe", "--help");
    assertThat(s).contains("Files:", "numbered backup", "255 no good execution (without --noneok)",
        "130 an interrupted search (143 when stopped by kill, SIGTERM");
    String w = help("sweep", "--help");
    // docs/sweeps.md: kill runs the same shutdown hook and exits 143; a sweep whose every point is
    // invalid or infeasible exits 255, as a search that finds no good execution
    assertThat(w).contains("Files:", "130 an interrupted sweep (143 when stopped by kill, SIGTERM",
        "255 no point gave a result, each invalid or infeasible (without --noneok)", "-n, --noneok");
    // the sweep's OUTPUT is appended to and resumed, not written complete (docs/sweeps.md, Resume)
    assertThat(w).contains("OUTPUT is appended to point", "resumes it").doesNotContain("written complete or not at all");
    String c = help("convert", "--help");
    assertThat(c).contains("Files:").doesNotContain("130", "255");
  }

  @Test
  void calculonsOwnHelpListsEveryStatus() {
    String h = help("--help");
    // 255 of every command in the words of its own footer (checked above), and what -n, --noneok changes
    assertThat(h).contains("Files:", "Exit status: 0 done, 2 a configuration or usage error, 255 an infeasible "
        + "execution (llm, llm-validation), no good execution (a search) or no point that gave a result, each invalid "
        + "or infeasible (sweep), where a search's or sweep's -n, --noneok exits 0 instead, 130 an interrupted search "
        + "or sweep (143 when stopped by kill, SIGTERM, which keeps the same results), 1 an internal error.");
  }
}
