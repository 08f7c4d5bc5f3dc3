package calculon.search;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code -d}'s sample plan and its extrapolation, never a speed constant: which partitions the
 * sample takes, in which order (runs of neighbours from the starts of stretches spread over the
 * list), the time as the sample's own plus the rest of each stretch at its timed cost over the
 * threads; rows by executions; bytes as the sample's bytes per row; gzip at the sample's ratio.
 * (Timings themselves are never asserted.)
 */
class DryRunEstimateTest {
  @TempDir
  java.nio.file.Path dir;

  @Test
  void stretchesCutThePartitionListIntoEqualParts() {
    // floor(j n / k): 10 partitions in 3 stretches are 0-2, 3-5, 6-9
    assertThat(DryRunEstimate.stretchStarts(10, 3)).containsExactly(0, 3, 6, 10);
    // the README's MoE search: 1788 partitions in 32 stretches of 55 or 56
    int[] starts = DryRunEstimate.stretchStarts(1788, DryRunEstimate.STRETCHES);
    assertThat(starts).hasSize(33).startsWith(0, 55, 111, 167).endsWith(1732, 1788);
    // fewer partitions than stretches: one stretch each
    assertThat(DryRunEstimate.stretchStarts(5, 32)).containsExactly(0, 1, 2, 3, 4, 5);
    assertThat(DryRunEstimate.stretchStarts(1, 32)).containsExactly(0, 1);
  }

  @Test
  void theSampleRunsEachStretchFromItsStartOnePartitionOfEachInTurn() {
    // stretches 0-2, 3-5, 6-9 take turns in the spread order 0, 2, 1 (stride round(3 x 0.618) = 2,
    // coprime to 3); round r runs partition r of each stretch still that long
    assertThat(DryRunEstimate.sampleOrder(10, 3)).containsExactly(0, 6, 3, 1, 7, 4, 2, 8, 5, 9);
    // 5 stretches of one: the stride round(5 x 0.618) = 3
    assertThat(DryRunEstimate.sampleOrder(5, 32)).containsExactly(0, 3, 1, 4, 2);
    assertThat(DryRunEstimate.sampleOrder(1, 32)).containsExactly(0);
  }

  @Test
  void aLongPlanIsSpreadAndRunsNeighboursInTheSearchsOrder() {
    int n = 1788;
    int k = DryRunEstimate.STRETCHES;
    int[] starts = DryRunEstimate.stretchStarts(n, k);
    int[] order = DryRunEstimate.sampleOrder(n, k);
    // every partition once, and the same plan every time
    assertThat(order).hasSize(n);
    assertThat(java.util.Arrays.stream(order).sorted().toArray())
        .isEqualTo(java.util.stream.IntStream.range(0, n).toArray());
    assertThat(DryRunEstimate.sampleOrder(n, k)).isEqualTo(order);
    // the first round is the 32 stretch starts, by a stride of 21 (round(32 x 0.618) = 20 shares 4 with 32)
    assertThat(java.util.Arrays.copyOf(order, 4)).containsExactly(starts[0], starts[21], starts[10], starts[31]);
    assertThat(java.util.Arrays.stream(order, 0, k).sorted().toArray()).isEqualTo(java.util.Arrays.copyOf(starts, k));
    // the third round: the third partition of each stretch
    for (int m = 2 * k; m < 3 * k; m++) {
      int i = order[m];
      int j = stretchOf(starts, i);
      assertThat(i - starts[j]).isEqualTo(2);
    }
    // within a stretch the partitions come in the search's order, each next to the one before
    int[] last = new int[k];
    java.util.Arrays.fill(last, -1);
    for (int i : order) {
      int j = stretchOf(starts, i);
      assertThat(i).isEqualTo(last[j] < 0 ? starts[j] : last[j] + 1);
      last[j] = i;
    }
  }

  private static int stretchOf(int[] starts, int i) {
    int j = 0;
    while (starts[j + 1] <= i) {
      j++;
    }
    return j;
  }

  @Test
  void theRestOfEachStretchCostsItsOwnTimedRate() {
    // stretch 0: 60 executions left at 300 ns / 30 = 10 ns each: 600 ns; stretch 1: 180 left and
    // none timed, at all the timed ones' (300 + 500) / (30 + 10) = 20 ns: 3,600 ns; stretch 2: all
    // sampled, nothing left. 4,200 ns of thread time over 2 threads: 2,100 ns
    assertThat(DryRunEstimate.restNanos(new long[] {100, 200, 50}, new long[] {40, 20, 50}, new long[] {30, 0, 10},
        new long[] {300, 0, 500}, 2)).isEqualTo(2100);
    // nothing left: nothing to add
    assertThat(DryRunEstimate.restNanos(new long[] {100}, new long[] {100}, new long[] {50}, new long[] {70}, 1)).isZero();
  }

  @Test
  void theExtrapolationIsTheSampleAndTheRest() {
    // 1000 executions in the space; the sample ran 4 of 40 partitions covering 100 of them in 2.5 s
    // (0.5 s of warm-up); the rest estimated at 22.5 s; 40 rows of 50,000 bytes, 5,000 gzipped
    DryRunEstimate.Result r = new DryRunEstimate.Result(40, 4, 0, 32, 3, 1000, 100, 80, 60, 2,
        2_500_000_000L, 500_000_000L, false, 2_000_000_000L, 22_500_000_000L, 40, 50_000, 5_000, -1, -1);
    assertThat(r.seconds()).isEqualTo(25.0);
    assertThat(r.complete()).isFalse();
    assertThat(r.estimatedRows()).isEqualTo(400);           // 40 rows x 1000 / 100
    assertThat(r.estimatedRowBytes()).isEqualTo(500_000);   // 50,000 bytes x 400 / 40
    assertThat(r.estimatedRowGzipBytes()).isEqualTo(50_000); // 5,000 / 50,000 of it
    DryRunEstimate.Result none = new DryRunEstimate.Result(40, 40, 0, 32, 40, 1000, 1000, 1000, 0, 1, 1, 0, false, 1, 0,
        0, 0, -1, -1, -1);
    assertThat(none.complete()).isTrue();
    assertThat(none.seconds()).isEqualTo(1e-9);
    assertThat(none.estimatedRows()).isZero();
    assertThat(none.estimatedRowBytes()).isZero();
    assertThat(none.estimatedRowGzipBytes()).isEqualTo(-1);
  }

  /**
   * The caveats' tests on fixed samples. The README's Mixtral search (2508 partitions) was once
   * estimated at 1.5 hours from 2 whole partitions, 584 executions in 0.82 s after a 0.54 s
   * warm-up, for a search of under a minute.
   */
  @Test
  void aSmallSampleACutWarmUpOrARisingRateIsFlagged() {
    // 2 partitions timed in full: small; 29: small; 30: not
    assertThat(mixtral(2, false, -1, -1).smallSample()).isTrue();
    assertThat(mixtral(29, false, -1, -1).smallSample()).isTrue();
    assertThat(mixtral(30, false, -1, -1).smallSample()).isFalse();
    // a warm-up stopped at its cap
    assertThat(mixtral(30, true, -1, -1).warmupCut()).isTrue();
    assertThat(mixtral(30, false, -1, -1).warmupCut()).isFalse();
    // halves not measured: no trend
    assertThat(mixtral(2, false, -1, -1).rateStillRising()).isFalse();
    // 584 executions in 0.82 s; the first 0.41 s covered 200, the second 384: 1.92x faster, rising
    assertThat(mixtral(2, false, 200, 410_000_000L).rateStillRising()).isTrue();
    // the first half 272 (the second 312: 1.147x, within the warm-up's 1.15): settled
    assertThat(mixtral(2, false, 272, 410_000_000L).rateStillRising()).isFalse();
    // nothing in the first half and some in the second: rising
    assertThat(mixtral(2, false, 0, 410_000_000L).rateStillRising()).isTrue();
    // a sample that was the whole space is the search: no caveat
    DryRunEstimate.Result whole = new DryRunEstimate.Result(40, 40, 0, 32, 0, 1000, 1000, 1000, 0, 1, 1, 0, true, 1, 0,
        0, 0, -1, 10, 1);
    assertThat(whole.smallSample()).isFalse();
    assertThat(whole.warmupCut()).isFalse();
    assertThat(whole.rateStillRising()).isFalse();
  }

  private static DryRunEstimate.Result mixtral(int timed, boolean capped, long firstHalfExecutions, long firstHalfNanos) {
    return new DryRunEstimate.Result(2508, 40, 2, 32, timed, 3949248, 3000, 584, 177, 2, 1_360_000_000L, 540_000_000L,
        capped, 820_000_000L, 90_000_000_000L, 0, 0, -1, firstHalfExecutions, firstHalfNanos);
  }

  @Test
  void aGzipOutputGetsItsCompressedSize() {
    CliRun.Run r = CliRun.run("lae", "models/megatron-126M.json", "8", "16", "bfloat16",
        "systems/H100_SXM_80g_dense.json", dir.resolve("all.csv.gz").toString(), "-d", "-c", "1");
    assertThat(r.status()).as(r.err()).isZero();
    String out = r.out().replace("\n  ", " ");
    assertThat(out).containsPattern("Estimated search time: about [0-9.]+ (s|minutes|hours) with 1 thread \\(measured: ")
        .containsPattern("Estimated output: about [0-9.]+ [kMG]B \\(\\d+ bytes\\) of CSV in \\d+ rows \\(measured: the "
            + "sampled partitions' \\d+ rows took \\d+ bytes(, scaled by executions)?, plus the \\d+-byte header; "
            + "gzip-compressed, as all.csv.gz is, about [0-9.]+ [kMG]B \\(\\d+ bytes\\) at the sample's ratio, \\d+ of \\d+ bytes\\)");
    assertThat(dir.resolve("all.csv.gz")).doesNotExist();
  }
}
