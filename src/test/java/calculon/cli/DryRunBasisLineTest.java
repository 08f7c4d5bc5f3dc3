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
    return new DryRunEstimate.Result(1012, sampled, cutShort, 32, 400, 521856, executionsSampled, 300000, 40000, 2,
        1_780_000_000L, 1_030_000_000L, false, 750_000_000L, 100_000_000L, 0, 0, -1, -1, -1);
  }

  @Test
  void aSampleStoppedInsideItsLastPartitionsIsNotTheWholeSearch() {
    assertThat(SearchCommandBase.estimateBasis(sample(1012, 2, 521000), false, true, false)).isEqualTo(
        "measured: 1010 of 1012 partitions in full and 2 in part, neighbours run from the starts of 32 stretches "
            + "spread over the space, searched as the search does (40000 model calls, sharing cached layer blocks and "
            + "the best-N bound), in 1.78 s: after a 1.03 s warm-up (the JIT compiling, each stretch's first partitions "
            + "filling the cache), 300000 executions in 0.75 s; the rest of each stretch at its own timed cost, to the "
            + "space's 521856 with every microbatch size, before -m's stops");
    assertThat(SearchCommandBase.estimateBasis(sample(424, 0, 200000), false, true, false))
        .startsWith("measured: 424 of 1012 partitions, neighbours run from the starts of 32 stretches spread over the space, ");
    // a search keeping every good execution has no best-N bound
    assertThat(SearchCommandBase.estimateBasis(sample(424, 0, 200000), true, false, true))
        .contains("(40000 model calls, their rows formatted, sharing cached layer blocks), in 1.78 s: ")
        .endsWith("to the space's 521856");
  }

  /**
   * The README's Mixtral search's -d said "about 92.0 minutes" (and 1.8 hours, 7.4 minutes, 84 s)
   * from 2 whole partitions of 2508, its rate still rising, for a search of 20 to 52 s: the line
   * says when its sample is that thin, its warm-up was cut short or its rate still rose.
   */
  @Test
  void aSmallOrWarmUpSampleSaysItIsRough() {
    DryRunEstimate.Result r = new DryRunEstimate.Result(2508, 40, 2, 32, 12, 3949248, 3500, 584, 177, 2,
        4_820_000_000L, 4_000_000_000L, true, 820_000_000L, 90_000_000_000L, 0, 0, -1, 200, 410_000_000L);
    assertThat(SearchCommandBase.estimateBasis(r, false, false, false)).endsWith("to the space's 3949248; "
        + "a rough estimate, possibly many times too long: only 12 partitions timed in full, whose costs differ widely "
        + "and the warm-up cut short at 4.00 s, before the rate settled (the JIT compiling, the layer-block cache "
        + "filling) and the rate still rising at the end (the JIT still compiling)");
    // enough partitions timed in full and a warm-up that ended by itself, the rate still rising: long, not rough
    DryRunEstimate.Result rising = new DryRunEstimate.Result(2508, 400, 2, 32, 300, 3949248, 350000, 58400, 17700, 2,
        4_820_000_000L, 1_000_000_000L, false, 820_000_000L, 20_000_000_000L, 0, 0, -1, 20000, 410_000_000L);
    assertThat(SearchCommandBase.caveat(rising)).isEqualTo("; likely long: the rate still rising at the end (the JIT "
        + "still compiling)");
    // enough partitions timed in full, a warm-up that ended by itself and a settled rate: no caveat
    assertThat(SearchCommandBase.caveat(sample(1012, 2, 521000))).isEmpty();
  }

  @Test
  void onlyASampleOfEveryPartitionInFullIsTheSearch() {
    DryRunEstimate.Result whole = new DryRunEstimate.Result(1012, 1012, 0, 32, 1012, 521856, 521856, 521856, 40000, 2,
        750_000_000L, 0, false, 750_000_000L, 0, 0, 0, -1, -1, -1);
    assertThat(SearchCommandBase.estimateBasis(whole, false, true, false))
        .isEqualTo("measured: the search itself, all 1012 partitions, 40000 model calls, in 0.75 s");
  }
}
