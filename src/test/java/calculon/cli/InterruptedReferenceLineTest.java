package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.search.Counts;
import calculon.search.Search;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An interrupted search's "Reference-equivalent executions" line says what it covers: the
 * partitions standing for reference executions that the search reached (InterruptedCountsTest
 * derives the tallies: 10 of megatron-126M's 123 on 4 GPUs after its first 20 partitions), not
 * the planned space. A finished search's line is unchanged.
 */
class InterruptedReferenceLineTest {
  static Counts counts() {
    Counts c = new Counts();
    c.total = 900;
    c.good = 600;
    c.bad = 300;
    c.refTotal = 2700;
    c.refGood = 1800;
    c.refBad = 900;
    return c;
  }

  static String summary(Search.Outcome o) {
    OptimalExecutionCommand cmd = new OptimalExecutionCommand();
    ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
    cmd.out = new PrintStream(out, true, StandardCharsets.UTF_8);
    cmd.err = new PrintStream(err, true, StandardCharsets.UTF_8);
    cmd.printCounts(o);
    return out.toString(StandardCharsets.UTF_8).lines()
        .filter(l -> l.startsWith("Reference-equivalent") || l.startsWith("  ")).reduce("", (a, b) -> a + b + "\n");
  }

  @Test
  void theInterruptedLineNamesThePartitionsItCovers() {
    Search.Outcome whole = new Search.Outcome(List.of(), counts(), true, 1_000_000_000L, 20, 191, 0, 10, 123, 0);
    assertThat(summary(whole)).isEqualTo("Reference-equivalent executions: 2700 (good 1800, bad 900; interrupted: 10 of\n"
        + "  the 123 partitions with reference executions searched)\n");
    Search.Outcome inPart = new Search.Outcome(List.of(), counts(), true, 1_000_000_000L, 20, 191, 1, 10, 123, 1);
    assertThat(summary(inPart).replace("\n  ", " ")).isEqualTo("Reference-equivalent executions: 2700 (good 1800, "
        + "bad 900; interrupted: 10 of the 123 partitions with reference executions searched, 1 more in part)\n");
  }

  /**
   * Stopped after every partition that stands for reference executions was searched (others, the
   * corrected model's ZeRO 2 and 3 ones say, were left), the line says all were, not "of the 123
   * partitions ..., only the 123 searched".
   */
  @Test
  void allReferencePartitionsSearchedSaysAll() {
    Search.Outcome o = new Search.Outcome(List.of(), counts(), true, 1_000_000_000L, 150, 191, 0, 123, 123, 0);
    assertThat(summary(o).replace("\n  ", " ")).isEqualTo("Reference-equivalent executions: 2700 (good 1800, "
        + "bad 900; interrupted: all 123 partitions with reference executions searched)\n");
  }

  /** How far the search got, as the stderr line and the partial file's line say it. */
  @Test
  void searchedSoFarCountsWholeAndCutShortPartitions() {
    assertThat(SearchCommandBase.searchedSoFar(new Search.Outcome(List.of(), counts(), true, 1L, 63, 1012, 2, 0, 0, 0)))
        .isEqualTo("63 of 1012 partitions searched and 2 in part");
    assertThat(SearchCommandBase.searchedSoFar(new Search.Outcome(List.of(), counts(), true, 1L, 63, 1012, 0, 0, 0, 0)))
        .isEqualTo("63 of 1012 partitions searched");
  }

  /** A search of CP &gt; 1 only (or ZeRO 2 and 3 only) has no partition that stands for reference executions. */
  @Test
  void aSearchWithoutReferencePartitionsSaysSo() {
    Counts c = counts();
    c.refTotal = c.refGood = c.refBad = 0;
    Search.Outcome o = new Search.Outcome(List.of(), c, true, 1_000_000_000L, 3, 8, 0, 0, 0, 0);
    assertThat(summary(o).replace("\n  ", " ")).isEqualTo("Reference-equivalent executions: 0 (good 0, bad 0; "
        + "interrupted: the search has no partitions with reference executions)\n");
  }

  @Test
  void aFinishedSearchKeepsItsLine() {
    Search.Outcome done = new Search.Outcome(List.of(), counts(), false, 1_000_000_000L, 191, 191, 0, 123, 123, 0);
    assertThat(summary(done)).isEqualTo("Reference-equivalent executions: 2700 (good 1800, bad 900)\n");
  }
}
