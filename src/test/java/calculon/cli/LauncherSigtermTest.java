package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A search started in the background from a script ignores Ctrl-C (a shell without job control
 * starts background jobs with SIGINT ignored); {@code kill PID}, SIGTERM, stops it as Ctrl-C does:
 * the JVM's shutdown hook keeps the best found so far beside OUTPUT and leaves a complete earlier OUTPUT
 * untouched (exit status 143, 128 + 15). The PID a shell gets for {@code ./bin/calculon ... &} is
 * the launcher's, so the launcher must become the JVM (exec) on every path: on its first run after
 * a build (no class-data archive yet) it ran the JVM as a child, and a SIGTERM killed the launcher
 * alone while the search went on. This runs the real launcher on that path (a checkout in a
 * temporary folder, as {@link LauncherTest}, with no archive) on a real search of a minute of CPU,
 * signals the launcher's PID, and checks that no process of that search is left. Timing-tolerant,
 * as {@link SearchInterruptTest}: a search that ends before the signal must leave a complete new OUTPUT.
 */
class LauncherSigtermTest {
  @TempDir Path dir;

  @Test
  void killPidStopsABackgroundSearchAndKeepsWhatItFound() throws Exception {
    Path checkout = Files.createDirectories(dir.resolve("checkout"));
    Files.createDirectories(checkout.resolve("bin"));
    Path launcher = Files.copy(Path.of("bin/calculon"), checkout.resolve("bin/calculon"));
    launcher.toFile().setExecutable(true);
    Files.createDirectories(checkout.resolve("target"));
    LauncherTest.writeLauncherJar(checkout.resolve("target/calculon.jar"));
    Path out = dir.resolve("out.json");
    Files.writeString(out, SearchInterruptTest.PREVIOUS);

    // megatron 1T on 8192 A100s with the corrected model's extra axes, one thread: minutes of CPU,
    // good executions from the first seconds
    ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "llm-optimal-execution",
        Path.of("models/megatron-1T.json").toAbsolutePath().toString(), "8192", "4096", "float16",
        Path.of("systems/a100_80g.json").toAbsolutePath().toString(), out.toString(), "-f", "both", "-t", "3",
        "--context-par", "all", "--pipeline-schedules", "-c", "1", "--quiet")
        .directory(dir.toFile()).redirectError(dir.resolve("stderr.txt").toFile())
        .redirectOutput(dir.resolve("stdout.txt").toFile());
    pb.environment().remove("CALCULON_JAVA_OPTS");  // the launcher's own path, with its archive step
    pb.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + File.pathSeparator
        + System.getenv("PATH"));
    Process p = pb.start();
    boolean signalled = false;
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SearchInterruptTest.START_TIMEOUT_S);
      // the launcher's process becomes the JVM (its command is java), then searches for a while
      while (p.isAlive() && System.nanoTime() < deadline && !runsJava(p.pid())) {
        Thread.sleep(50);
      }
      while (p.isAlive() && System.nanoTime() < deadline && ProcessHandle.of(p.pid()).flatMap(h -> h.info()
          .totalCpuDuration()).map(d -> d.compareTo(SearchInterruptTest.CPU_BEFORE_SIGNAL) < 0).orElse(true)) {
        Thread.sleep(100);
      }
      if (p.isAlive()) {
        assertThat(runsJava(p.pid())).as("the launcher's PID is the JVM's").isTrue();
        assertThat(new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).inheritIO().start().waitFor()).isZero();
        signalled = true;
      }
      assertThat(p.waitFor(SearchInterruptTest.EXIT_TIMEOUT_S, TimeUnit.SECONDS)).as("the search stops").isTrue();
    } finally {
      // on a failure, nothing of the run may go on (the old launcher left its JVM running)
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    try {
      check(p, signalled, out);
    } finally {
      // the launcher's class-data archive job (it finds no models in this checkout and gives up)
      // ends before the temporary folder is removed
      awaitProcessesNaming(checkout.toString(), false);
    }
  }

  private void check(Process p, boolean signalled, Path out) throws Exception {
    String stdout = Files.readString(dir.resolve("stdout.txt"));
    String stderr = Files.readString(dir.resolve("stderr.txt"));
    System.out.println("LauncherSigtermTest: signalled " + signalled + ", exit " + p.exitValue() + "\n" + stdout + stderr);
    // nothing of the search goes on after the launcher's process ended
    assertThat(awaitProcessesNaming(out.toString(), true)).as("JVMs still searching for " + out).isEmpty();
    Path partial = dir.resolve("out.partial.json");
    if (p.exitValue() == 0) {
      // the search ended before the signal (a fast machine): a complete new result
      assertThat(rows(Files.readString(out))).isBetween(1, 3);
      assertThat(partial).doesNotExist();
      return;
    }
    assertThat(signalled).isTrue();
    assertThat(p.exitValue()).as(stderr).isEqualTo(128 + 15);
    assertThat(stderr.replace("\n  ", " ")).contains("Interrupted: ", "partitions searched");
    assertThat(Files.readString(out)).isEqualTo(SearchInterruptTest.PREVIOUS);
    if (Files.exists(partial)) {
      assertThat(rows(Files.readString(partial))).isBetween(1, 3);
      assertThat(stdout.replace("\n  ", " ")).contains("Interrupted: " + partial + " holds the best "
          + SearchInterruptTest.executions(rows(Files.readString(partial)))
          + " found before the stop (" + SearchInterruptTest.searched(stderr) + "); " + out + " is untouched");
    } else {
      assertThat(stdout.replace("\n  ", " ")).contains("Interrupted: nothing good found before the stop ("
          + SearchInterruptTest.searched(stderr) + "); " + out + " is untouched");
    }
  }

  /** Whether process {@code pid} runs java (its command line's first word, as /proc has it). */
  private static boolean runsJava(long pid) {
    try {
      String cmdline = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
          StandardCharsets.UTF_8);
      String first = cmdline.split("\0", 2)[0];
      return Path.of(first).getFileName().toString().equals("java");
    } catch (java.io.IOException | RuntimeException e) {
      return false;
    }
  }

  /**
   * The processes (with {@code javaOnly}, the JVMs) whose arguments name {@code word}, waited for
   * up to 60 s (a JVM's exit takes a moment); those left are ended and returned.
   */
  private static List<ProcessHandle> awaitProcessesNaming(String word, boolean javaOnly) throws InterruptedException {
    List<ProcessHandle> left = List.of();
    for (int i = 0; i < 600; i++) {
      left = ProcessHandle.allProcesses().filter(h -> (!javaOnly || h.info().command().map(c -> c.endsWith("/java"))
          .orElse(false)) && h.info().arguments().map(List::of).orElse(List.of()).stream()
          .anyMatch(a -> a.contains(word))).toList();
      if (left.isEmpty()) {
        break;
      }
      Thread.sleep(100);
    }
    left.forEach(ProcessHandle::destroyForcibly);
    return left;
  }

  /** The rows of a result file, each a complete good execution (the file parses: nothing cut off). */
  private static int rows(String text) throws java.io.IOException {
    JsonNode doc = SearchInterruptTest.MAPPER.readTree(text);
    for (JsonNode row : doc) {
      assertThat(row.get("stats").get("sample_rate").asDouble()).isPositive();
    }
    return doc.size();
  }
}
