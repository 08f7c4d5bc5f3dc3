package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.search.DryRunEstimate;
import org.junit.jupiter.api.Test;

/**
 * What {@code -d}'s time estimate says it measured. A sample that reached every partition of the
 * README's dense search with {@code -m} (1012) but was stopped inside the last two said "1012 of
 * 1012 partitions", as if it had been the whole search; it now counts the partitions run in full
 * and those stopped in part, and only a sample that ran every partition in full is "the search
 * itself".
 */
class DryRunBasisLineTest {
  // 1012 partitions and 521856 executions (every microbatch size), as the README's search with -m
  static DryRunEstimate.Result sample(int sampled, int cutShort, long executionsSampled) {
    return new DryRunEstimate.Result(1012, sampled, cutShort, 521856, executionsSampled, 300000, 40000, 2,
        750_000_000L, 1_030_000_000L, 0, 0, -1);
  }

  @Test
  void aSampleStoppedInsideItsLastPartitionsIsNotTheWholeSearch() {
    assertThat(SearchCommandBase.estimateBasis(sample(1012, 2, 521000), false, true, false)).isEqualTo(
        "measured: 1010 of 1012 partitions in full and 2 in part, spread over the space, searched as the search "
            + "does (40000 model calls): after a 1.03 s JIT warm-up, 300000 executions in 0.75 s, scaled to the space's "
            + "521856 with every microbatch size, before -m's stops; likely less, as the search shares cached layer "
            + "blocks and its best-N bound between neighbouring partitions and compiles its hot paths for longer");
    assertThat(SearchCommandBase.estimateBasis(sample(424, 0, 200000), false, true, false))
        .startsWith("measured: 424 of 1012 partitions, spread over the space, ");
  }

  /**
   * The README's Mixtral search's -d said "about 92.0 minutes" (and 1.8 hours, 7.4 minutes, 84 s)
   * from 2 whole partitions of 2508, its rate still rising, for a search of 20 to 52 s: the line
   * now says so.
   */
  @Test
  void aSmallOrWarmUpSampleSaysItIsRough() {
    DryRunEstimate.Result r = new DryRunEstimate.Result(2508, 4, 2, 3949248, 3500, 584, 177, 2, 820_000_000L,
        540_000_000L, 0, 0, -1, 200, 410_000_000L);
    assertThat(SearchCommandBase.estimateBasis(r, false, false, false)).endsWith("compiles its hot paths for longer; "
        + "a rough estimate, possibly many times too long: only 2 whole partitions, whose costs differ widely and the "
        + "rate still rising at the end (the JIT still compiling)");
    // enough whole partitions and a settled rate: no caveat
    assertThat(SearchCommandBase.caveat(sample(1012, 2, 521000))).isEmpty();
  }

  @Test
  void onlyASampleOfEveryPartitionInFullIsTheSearch() {
    assertThat(SearchCommandBase.estimateBasis(sample(1012, 0, 521856), false, true, false))
        .isEqualTo("measured: the search itself, all 1012 partitions, 40000 model calls, in 0.75 s");
  }
}
