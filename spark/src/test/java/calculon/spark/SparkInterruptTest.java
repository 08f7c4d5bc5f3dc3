package calculon.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C of a sweep on Spark (local[2], a real child JVM as bin/calculon starts it): the run ends
 * with the usual one-line "Interrupted: ..." and status 130, and no stack trace. Without the
 * engine's shutdown hook, Spark's scheduler logged a RejectedExecutionException trace for every
 * task result that arrived after its shutdown hook had stopped the context (three runs of three).
 */
class SparkInterruptTest {
  /**
   * Hang guards only, not timings: the test waits for conditions (the first points written, the
   * child's exit), and these caps end a run that would otherwise wait forever. Spark's start and
   * the first batch take tens of seconds on a loaded 2-core machine, hence the first; the engine
   * stops waiting for the batch in flight within a tenth of a second of Ctrl-C
   * (SparkSweepEngine.CANCEL_POLL_MILLIS), and Spark's shutdown takes seconds.
   */
  static final long POINTS_TIMEOUT_S = 600;
  static final long EXIT_TIMEOUT_S = 120;

  @TempDir
  Path dir;

  @Test
  void ctrlCEndsWithTheInterruptedLineAndNoTrace() throws Exception {
    Path root = SparkSweepEngineTest.ROOT;
    Path out = dir.resolve("sweep.csv");
    List<String> cmd = new ArrayList<>();
    // a process started in the background by a non-interactive shell has SIGINT ignored, and its
    // children inherit that: perl puts the default back first
    cmd.addAll(List.of("perl", "-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die \"exec: $!\""));
    cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "@" + root.resolve("spark/java-options"),
        "-Dlog4j2.configurationFile=" + root.resolve("spark/conf/log4j2.properties"),
        "-cp", System.getProperty("java.class.path"), "calculon.cli.Main", "sweep",
        root.resolve("examples/sweeps/sc23-fig6.json").toString(), out.toString(),
        "--engine", "spark", "--master", "local[2]", "--quiet"));
    Path stderr = dir.resolve("stderr.txt");
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectError(stderr.toFile()).redirectOutput(dir.resolve("stdout.txt").toFile())
          .start();
    } catch (java.io.IOException e) {
      Assumptions.abort("no perl to start the child with SIGINT handled: " + e.getMessage());
      return;
    }
    try {
      // points flowing: the header and a first batch written, the next batches in flight
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(POINTS_TIMEOUT_S);
      while (p.isAlive() && System.nanoTime() < deadline && lines(out) < 2) {
        Thread.sleep(100);
      }
      assertThat(p.isAlive()).as("the sweep runs: %s", Files.exists(stderr) ? Files.readString(stderr) : "").isTrue();
      // a Ctrl-C before the points flow would come before the sweep's Ctrl-C hook is in place
      assertThat(lines(out)).as("points written within %d s", POINTS_TIMEOUT_S).isGreaterThanOrEqualTo(2);
      Thread.sleep(1500);
      long sigint = System.nanoTime();
      assertThat(new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).inheritIO().start().waitFor()).isZero();
      assertThat(p.waitFor(EXIT_TIMEOUT_S, TimeUnit.SECONDS)).as("the sweep stops").isTrue();
      // for the log, not asserted: how long the stop took on this machine
      System.out.printf("SparkInterruptTest: exited %.1f s after SIGINT%n", (System.nanoTime() - sigint) / 1e9);
    } finally {
      p.destroyForcibly();
    }
    String err = Files.readString(stderr);
    System.out.println("SparkInterruptTest: exit " + p.exitValue() + "\n" + err);
    assertThat(p.exitValue()).as(err).isEqualTo(130);
    assertThat(err).doesNotContain("\tat ", "Exception", "ERROR");
    List<String> errLines = err.lines().toList();
    assertThat(errLines.get(errLines.size() - 1)).matches("Interrupted: \\d+ of 3072 points are in " + out
        .toString().replace(".", "\\.") + "; run the same command again to continue .*");
  }

  private static long lines(Path f) throws java.io.IOException {
    if (!Files.exists(f)) {
      return 0;
    }
    try (var l = Files.lines(f)) {
      return l.count();
    }
  }
}
