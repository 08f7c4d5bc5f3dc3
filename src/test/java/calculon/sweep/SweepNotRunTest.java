package calculon.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The summary counts the points that gave no result by their status ({@code Not run: ...}), names
 * the first, and says when no point gave a result instead of leaving the best line out. The SPECs
 * are examples/sweeps/quick.json's inputs (megatron-1T, a100_80g, the 3072-GPU execution TP 4 PP
 * 64 DP 12): TP 3 makes num_procs 3*64*12 = 2304, not the file's 3072 (invalid); 8 GiB of tier-1
 * memory holds less than the 79.554 GiB each GPU needs at that execution (infeasible), 80 GiB holds it.
 */
class SweepNotRunTest {
  private static final String EXECUTION = SweepTest.abs("examples/3072_t4_p64_d12_mbs4_full.json");
  private static final String INVALID = "invalid: " + EXECUTION
      + ": num_procs: must equal tensor_par*pipeline_par*data_par = 3*64*12 = 2304, got 3072";
  private static final String INFEASIBLE = "infeasible: Mem tier1 needs 79.554 GiB but only has 8.000 GiB";

  @TempDir
  Path dir;

  private Path spec(String grid) throws Exception {
    return Files.writeString(dir.resolve("spec.json"), "{\"models\": [\"" + SweepTest.abs("models/megatron-1T.json")
        + "\"], \"systems\": [\"" + SweepTest.abs("systems/a100_80g.json") + "\"], \"execution\": \"" + EXECUTION
        + "\", \"model_version\": \"calculon-moe\", \"grid\": " + grid + "}");
  }

  /** The summary without its timing line. */
  private static String summary(CliRun.Run r) {
    return r.out().replaceAll("Points per second: .*\n", "");
  }

  @Test
  void aSweepWhoseOnlyPointIsInvalidSaysSoAndThatNoPointGaveAResult() throws Exception {
    Path out = dir.resolve("inv.csv");
    CliRun.Run r = CliRun.run("sweep", spec("{\"execution.tensor_par\": [3]}").toString(), out.toString(),
        "--quiet", "-c", "1");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(summary(r)).isEqualTo("Points: 1 (1 evaluated now, 0 resumed) on local, 1 thread\n"
        + "Not run: 1 invalid (the status column of " + out + " says why; first: point 0: " + INVALID + ")\n"
        + "Best sample rate: none (no point gave a result)\n"
        + "Output: " + out + "\n");
  }

  @Test
  void invalidAndInfeasiblePointsAreCountedAlsoWhenResumed() throws Exception {
    Path out = dir.resolve("mix.csv");
    Path spec = spec("{\"execution.tensor_par\": [3, 4], \"system.mem1.GiB\": [8, 80]}");
    CliRun.Run r = CliRun.run("sweep", spec.toString(), out.toString(), "--quiet", "-c", "1");
    assertThat(r.status()).as(r.err()).isZero();
    String notRun = "Not run: 2 invalid, 1 infeasible (the status column of " + out + " says why; first: point 0: "
        + INVALID + ")\n";
    assertThat(summary(r)).isEqualTo("Points: 4 (4 evaluated now, 0 resumed) on local, 1 thread\n" + notRun
        + "Best sample rate: 23.290262582462056 (point 3: TP 4 PP 64 DP 12 mbs 4 batch 3072)\n"
        + "Output: " + out + "\n");
    // OUTPUT's lines after the header: points 0 and 1 (TP 3) invalid, point 2 infeasible, point 3 ok
    assertThat(Files.readAllLines(out).get(3)).startsWith("2,").contains(INFEASIBLE);
    assertThat(Files.readAllLines(out).get(4)).startsWith("3,").contains(",ok,");
    // a re-run of the finished sweep reads the same counts back from OUTPUT
    CliRun.Run again = CliRun.run("sweep", spec.toString(), out.toString(), "--quiet", "-c", "1");
    assertThat(summary(again)).isEqualTo("Points: 4 (0 evaluated now, 4 resumed) on local, 1 thread\n" + notRun
        + "Best sample rate: 23.290262582462056 (point 3: TP 4 PP 64 DP 12 mbs 4 batch 3072)\n"
        + "Output: " + out + "\n");
  }

  @Test
  void everyPointNotRunSaysNoneOfThemGaveAResult() throws Exception {
    Path out = dir.resolve("none.csv");
    CliRun.Run r = CliRun.run("sweep", spec("{\"execution.tensor_par\": [3], \"system.mem1.GiB\": [8, 80]}").toString(),
        out.toString(), "--quiet", "-c", "1");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(summary(r)).contains("Not run: 2 invalid (the status column of ",
        "Best sample rate: none (no point gave a result)\n").doesNotContain("Best sample rate: 0");
  }
}
