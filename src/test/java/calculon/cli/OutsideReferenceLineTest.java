package calculon.cli;

import static calculon.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import calculon.search.Counts;
import calculon.search.Search;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference-equivalent line of a corrected-model search counts Calculon-MoE's space only
 * (ZeRO stage 0 or 1, no CP, Calculon's schedule and TP overlaps), so beside {@code Good
 * executions} it says what it leaves out: the README's dense search with {@code --no-offload}
 * printed {@code good 0} beside {@code Good executions: 272}, every good execution being of ZeRO
 * stage 2 or 3 (without offload, every ZeRO 0 or 1 execution overflows the A100's 80 GiB).
 */
class OutsideReferenceLineTest {
  @TempDir Path dir;

  static final Pattern TOTAL = Pattern.compile("Total executions: (\\d+)\n");
  static final Pattern GOOD = Pattern.compile("Good executions: (\\d+)\n");

  static long count(Pattern p, String out) {
    Matcher m = p.matcher(out);
    assertThat(m.find()).as(out).isTrue();
    return Long.parseLong(m.group(1));
  }

  String[] readmeSearch(String out, String... extra) {
    List<String> a = new java.util.ArrayList<>(List.of("llm-optimal-execution", "models/megatron-1T.json", "5128",
        "2520", "float16", "systems/a100_80g.json", dir.resolve(out).toString(), "-m", "--no-offload", "--quiet"));
    a.addAll(List.of(extra));
    return a.toArray(new String[0]);
  }

  /**
   * The README's line, and the counts it names are the other stages' share: the same search
   * restricted to ZeRO stages 0 and 1 (Calculon-MoE's) has the total and good counts the line does
   * not count subtracted, and the same reference-equivalent line without the clause.
   */
  @Test
  void theNoOffloadSearchSaysWhatItsReferenceCountLeavesOut() {
    Run all = run(readmeSearch("all.json"));
    assertThat(all.status()).as(all.err()).isZero();
    String joined = all.out().replace("\n  ", " ");
    assertThat(joined).contains("Total executions: 46344\nGood executions: 272\nBad executions: 46072\n"
        + "Reference-equivalent executions: 24112 (good 0, bad 24112; not counted: the 23288 executions, 272 good, "
        + "with ZeRO stage 2 or 3, which Calculon-MoE does not search)\n");
    Run calculonStages = run(readmeSearch("z01.json", "--zero-stages", "0,1", "-n"));
    assertThat(calculonStages.status()).as(calculonStages.err()).isZero();
    assertThat(count(TOTAL, calculonStages.out())).isEqualTo(46344 - 23288);
    assertThat(count(GOOD, calculonStages.out())).isEqualTo(272 - 272);
    assertThat(calculonStages.out()).contains("Reference-equivalent executions: 24112 (good 0, bad 24112)\n");
  }

  /** The line as printCounts writes it, wrapped at 80 columns, and the choices it names. */
  @Test
  void theClauseNamesTheCountsAndChoices() {
    Counts c = new Counts();
    c.total = 46344;
    c.good = 272;
    c.bad = 46072;
    c.refTotal = 24112;
    c.refBad = 24112;
    c.outsideReference = 23288;
    c.outsideReferenceGood = 272;
    assertThat(SearchCommandBase.outsideReferenceClause(c, "ZeRO stage 2 or 3, CP > 1 or TP overlap userbuffers"))
        .isEqualTo("not counted: the 23288 executions, 272 good, with ZeRO stage 2 or 3, CP > 1 or TP overlap "
            + "userbuffers, which Calculon-MoE does not search");
    Search.Outcome done = new Search.Outcome(List.of(), c, false, 1_000_000_000L, 10, 10, 0, 5, 5, 0);
    assertThat(InterruptedReferenceLineTest.summary(done)).isEqualTo(
        "Reference-equivalent executions: 24112 (good 0, bad 24112; not counted: the\n"
            + "  23288 executions, 272 good, with the corrected model's own choices, which\n"
            + "  Calculon-MoE does not search)\n");
  }
}
