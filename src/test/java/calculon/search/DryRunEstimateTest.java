package calculon.search;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code -d}'s estimate scales what its sample measured, never a speed constant: the time by the
 * space's executions over the timed ones, over the threads; rows by executions; bytes as the
 * sample's bytes per row; gzip at the sample's ratio. (Timings themselves are never asserted.)
 */
class DryRunEstimateTest {
  @TempDir
  java.nio.file.Path dir;

  @Test
  void theExtrapolationIsTheSampleScaled() {
    // 1000 executions in the space; the sample ran 4 of 40 partitions covering 100 of them, 80 in
    // the 2 s (wall, both threads together) after its warm-up; 40 rows of 50,000 bytes, 5,000 gzipped
    DryRunEstimate.Result r = new DryRunEstimate.Result(40, 4, 0, 1000, 100, 80, 60, 2,
        2_000_000_000L, 500_000_000L, 40, 50_000, 5_000);
    assertThat(r.seconds()).isEqualTo(2.0 * 1000 / 80);  // 25 s
    assertThat(r.complete()).isFalse();
    assertThat(r.estimatedRows()).isEqualTo(400);           // 40 rows x 1000 / 100
    assertThat(r.estimatedRowBytes()).isEqualTo(500_000);   // 50,000 bytes x 400 / 40
    assertThat(r.estimatedRowGzipBytes()).isEqualTo(50_000); // 5,000 / 50,000 of it
    DryRunEstimate.Result none = new DryRunEstimate.Result(40, 40, 0, 1000, 1000, 1000, 0, 1, 1, 0, 0, 0, -1);
    assertThat(none.complete()).isTrue();
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
  void aSmallSampleOrARisingRateIsFlagged() {
    // 2 whole of 2508 partitions: small; 29 whole: small; 30 whole: not
    assertThat(mixtral(4, 2, -1, -1).smallSample()).isTrue();
    assertThat(mixtral(31, 2, -1, -1).smallSample()).isTrue();
    assertThat(mixtral(32, 2, -1, -1).smallSample()).isFalse();
    // halves not measured: no trend
    assertThat(mixtral(4, 2, -1, -1).rateStillRising()).isFalse();
    // 584 executions in 0.82 s; the first 0.41 s covered 200, the second 384: 1.92x faster, rising
    assertThat(mixtral(4, 2, 200, 410_000_000L).rateStillRising()).isTrue();
    // the first half 272 (the second 312: 1.147x, within the warm-up's 1.15): settled
    assertThat(mixtral(4, 2, 272, 410_000_000L).rateStillRising()).isFalse();
    // nothing in the first half and some in the second: rising; nothing at all: not
    assertThat(mixtral(4, 2, 0, 410_000_000L).rateStillRising()).isTrue();
    // a sample that was the whole space is the search: neither caveat
    DryRunEstimate.Result whole = new DryRunEstimate.Result(40, 40, 0, 1000, 1000, 1000, 0, 1, 1, 0, 0, 0, -1, 10, 1);
    assertThat(whole.smallSample()).isFalse();
    assertThat(whole.rateStillRising()).isFalse();
  }

  private static DryRunEstimate.Result mixtral(int sampled, int cutShort, long firstHalfExecutions, long firstHalfNanos) {
    return new DryRunEstimate.Result(2508, sampled, cutShort, 3949248, 3000, 584, 177, 2, 820_000_000L, 540_000_000L,
        0, 0, -1, firstHalfExecutions, firstHalfNanos);
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
