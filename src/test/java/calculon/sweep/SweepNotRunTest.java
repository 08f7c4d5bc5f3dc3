package calculon.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The summary counts the points that gave no result by their status ({@code Not run: ...}), names
 * the first, and says when no point gave a result instead of leaving the best line out; a sweep
 * where no point gave a result exits 255 (0 with --noneok), OUTPUT kept, one where some did 0. The SPECs
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
    assertThat(r.status()).as(r.err()).isEqualTo(255);
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
    assertThat(again.status()).as("some points gave a result: " + again.err()).isZero();
    assertThat(summary(again)).isEqualTo("Points: 4 (0 evaluated now, 4 resumed) on local, 1 thread\n" + notRun
        + "Best sample rate: 23.290262582462056 (point 3: TP 4 PP 64 DP 12 mbs 4 batch 3072)\n"
        + "Output: " + out + "\n");
  }

  @Test
  void everyPointNotRunSaysNoneOfThemGaveAResult() throws Exception {
    Path out = dir.resolve("none.csv");
    CliRun.Run r = CliRun.run("sweep", spec("{\"execution.tensor_par\": [3], \"system.mem1.GiB\": [8, 80]}").toString(),
        out.toString(), "--quiet", "-c", "1");
    assertThat(r.status()).as(r.err()).isEqualTo(255);
    assertThat(summary(r)).contains("Not run: 2 invalid (the status column of ",
        "Best sample rate: none (no point gave a result)\n").doesNotContain("Best sample rate: 0");
  }

  @Test
  void aSweepWhoseEveryPointIsInfeasibleExits255AndKeepsItsRecords() throws Exception {
    // 8 and 16 GiB of tier-1 memory: neither holds the 79.554 GiB a GPU needs
    Path out = dir.resolve("small.csv");
    Path spec = spec("{\"system.mem1.GiB\": [8, 16]}");
    CliRun.Run r = CliRun.run("sweep", spec.toString(), out.toString(), "--quiet", "-c", "1");
    assertThat(r.status()).as(r.err()).isEqualTo(255);
    String summary = "Not run: 2 infeasible (the status column of " + out + " says why; first: point 0: " + INFEASIBLE
        + ")\nBest sample rate: none (no point gave a result)\nOutput: " + out + "\n";
    assertThat(summary(r)).isEqualTo("Points: 2 (2 evaluated now, 0 resumed) on local, 1 thread\n" + summary);
    // OUTPUT: the header and both points' records, each with its reason
    List<String> lines = Files.readAllLines(out);
    assertThat(lines).hasSize(3);
    assertThat(lines.get(1)).startsWith("0,megatron-1T,a100_80g,8,,").contains("," + INFEASIBLE + ",");
    assertThat(lines.get(2)).startsWith("1,megatron-1T,a100_80g,16,,")
        .contains(",infeasible: Mem tier1 needs 79.554 GiB but only has 16.000 GiB,");
    String written = Files.readString(out);
    // the finished sweep run again says the same, with the same status, and leaves OUTPUT as it was
    CliRun.Run again = CliRun.run("sweep", spec.toString(), out.toString(), "--quiet", "-c", "1");
    assertThat(again.status()).as(again.err()).isEqualTo(255);
    assertThat(summary(again)).isEqualTo("Points: 2 (0 evaluated now, 2 resumed) on local, 1 thread\n" + summary);
    assertThat(Files.readString(out)).isEqualTo(written);
    // --noneok (-n), as the searches': exit 0, the same summary and OUTPUT
    for (String noneOk : new String[] {"--noneok", "-n"}) {
      CliRun.Run ok = CliRun.run("sweep", spec.toString(), out.toString(), "--quiet", "-c", "1", noneOk);
      assertThat(ok.status()).as(ok.err()).isZero();
      assertThat(summary(ok)).isEqualTo(summary(again));
      assertThat(Files.readString(out)).isEqualTo(written);
    }
    Path fresh = dir.resolve("fresh.csv");
    CliRun.Run first = CliRun.run("sweep", spec.toString(), fresh.toString(), "--quiet", "-c", "1", "-n");
    assertThat(first.status()).as(first.err()).isZero();
    assertThat(Files.readString(fresh)).isEqualTo(written);
  }

  /**
   * That no point gave a result is the sweep's failure (exit 255), as a search's "No acceptable
   * configurations found": -v WARNING or higher silences the rest of the summary, not that line,
   * which then stands alone; --log FILE gets it, in place in the summary at INFO. With --noneok
   * (exit 0) it is the summary's line like the others, silenced with them.
   */
  @Test
  void aSweepWhereNoPointGaveAResultSaysSoAtEveryLogLevel() throws Exception {
    String spec = spec("{\"system.mem1.GiB\": [8, 16]}").toString();
    String out = dir.resolve("small.csv").toString();
    String line = "Best sample rate: none (no point gave a result)\n";
    for (String level : new String[] {"WARNING", "ERROR", "CRITICAL"}) {
      CliRun.Run r = CliRun.run("-v", level, "sweep", spec, out, "--quiet", "-c", "1");
      assertThat(r.status()).as(level + ": " + r.err()).isEqualTo(255);
      assertThat(r.out()).as(level).isEqualTo(line);
      CliRun.Run ok = CliRun.run("-v", level, "sweep", spec, out, "--quiet", "-c", "1", "-n");
      assertThat(ok.status()).as(level + " -n: " + ok.err()).isZero();
      assertThat(ok.out()).as(level + " -n").isEmpty();
    }
    Path log = dir.resolve("sweep.log");
    CliRun.Run quiet = CliRun.run("--log", log.toString(), "-v", "WARNING", "sweep", spec, out, "--quiet", "-c", "1");
    assertThat(quiet.status()).as(quiet.err()).isEqualTo(255);
    assertThat(quiet.out()).isEmpty();
    assertThat(Files.readString(log)).isEqualTo(line);
    CliRun.Run info = CliRun.run("--log", log.toString(), "sweep", spec, out, "--quiet", "-c", "1");
    assertThat(info.status()).as(info.err()).isEqualTo(255);
    assertThat(info.out()).isEmpty();
    assertThat(Files.readString(log)).isEqualTo("Points: 2 (0 evaluated now, 2 resumed) on local, 1 thread\n"
        + "Not run: 2 infeasible (the status column of " + out + " says why; first: point 0: " + INFEASIBLE + ")\n"
        + line + "Output: " + out + "\n");
  }

  /**
   * The SPEC names its files from its own folder (and so do OUTPUT's statuses, the same for every
   * run); the Not run line names them from the folder the command runs in: the SPEC's folder as
   * the command line gives it, joined with the SPEC's name, so the name printed opens the file.
   * The tests run in the checkout's folder: the SPEC goes under target/ to be named relatively.
   */
  @Test
  void theNotRunLineNamesTheSpecsFilesFromTheWorkingFolder() throws Exception {
    Path root = Files.createTempDirectory(Path.of("target"), "sweep-not-run-");
    try {
      Path inputs = Files.createDirectories(root.resolve("inputs"));
      Files.copy(Path.of("models/megatron-1T.json"), inputs.resolve("megatron-1T.json"));
      Files.copy(Path.of("systems/a100_80g.json"), inputs.resolve("a100_80g.json"));
      Files.copy(Path.of("examples/3072_t4_p64_d12_mbs4_full.json"), inputs.resolve("exe.json"));
      Path spec = Files.writeString(Files.createDirectories(root.resolve("specs")).resolve("spec.json"),
          "{\"models\": [\"../inputs/megatron-1T.json\"], \"systems\": [\"../inputs/a100_80g.json\"], "
              + "\"execution\": \"../inputs/exe.json\", \"model_version\": \"calculon-moe\", "
              + "\"grid\": {\"execution.tensor_par\": [3]}}");
      String rule = ": num_procs: must equal tensor_par*pipeline_par*data_par = 3*64*12 = 2304, got 3072";
      assertThat(spec.isAbsolute()).isFalse();
      for (Path given : List.of(spec, spec.toAbsolutePath())) {
        Path out = dir.resolve(given.isAbsolute() ? "abs.csv" : "rel.csv");
        CliRun.Run r = CliRun.run("sweep", given.toString(), out.toString(), "--quiet", "-c", "1");
        assertThat(r.status()).as(r.err()).isEqualTo(255);
        // target/sweep-not-run-N/inputs/exe.json, or its absolute path for an absolute SPEC path
        Path exe = given.getParent().getParent().resolve("inputs").resolve("exe.json");
        assertThat(summary(r)).contains("\nNot run: 1 invalid (the status column of " + out + " says why; first: point 0: "
            + "invalid: " + exe + rule + ")\n");
        assertThat(Files.readString(exe)).isEqualTo(Files.readString(Path.of("examples/3072_t4_p64_d12_mbs4_full.json")));
        // OUTPUT keeps the SPEC's name, wherever the sweep ran from
        assertThat(Files.readAllLines(out).get(1)).contains(",\"invalid: ../inputs/exe.json" + rule + "\",");
      }
    } finally {
      try (var files = Files.walk(root)) {
        for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(f);
        }
      }
    }
  }
}
