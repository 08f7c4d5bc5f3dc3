package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C half-way through a real search, in a real child JVM: a complete earlier result in OUTPUT is
 * never replaced; the best found so far goes beside it as {@code out.partial.json}, and stdout says
 * it was interrupted and where the partial result is. Timing-tolerant: a search that ends before
 * the signal must leave a complete new OUTPUT.
 */
class SearchInterruptTest {
  static final ObjectMapper MAPPER = new ObjectMapper();
  /** A complete result file from an earlier run, as far as a reader can tell. */
  static final String PREVIOUS = "{\n  \"0\": {\n    \"execution\": {},\n    \"stats\": {\"sample_rate\": -1.0}\n  }\n}";
  /** CPU time the child gets before the signal: JVM start, inputs, then seconds of search. */
  static final Duration CPU_BEFORE_SIGNAL = Duration.ofSeconds(4);
  /** Generous bounds for a loaded CI machine. */
  static final long START_TIMEOUT_S = 120;
  static final long EXIT_TIMEOUT_S = 180;

  @TempDir Path dir;

  @Test
  void sigintLeavesThePreviousOrACompleteNewResultNeverAPartialOne() throws Exception {
    Path out = dir.resolve("out.json");
    Files.writeString(out, PREVIOUS);
    // the dense README model on 8192 processors, both fused-activation modes: about a minute of
    // CPU, with good executions from the first seconds
    List<String> cmd = new ArrayList<>(javaCommand());
    cmd.addAll(List.of("calculon.cli.Main", "llm-optimal-execution", "models/megatron-1T.json",
        "8192", "4096", "float16", "systems/a100_80g.json", out.toString(), "-f", "both", "-t", "3",
        "-c", "2", "--model-version", "calculon-moe"));
    Path stderr = dir.resolve("stderr.txt");
    Process p = new ProcessBuilder(cmd).redirectError(stderr.toFile()).start();
    StringBuilder stdout = new StringBuilder();
    boolean signalled = false;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      Thread reader = new Thread(() -> {
        try {
          String line;
          while ((line = r.readLine()) != null) {
            synchronized (stdout) {
              stdout.append(line).append('\n');
            }
          }
        } catch (IOException ignored) {
          // the process ended
        }
      });
      reader.setDaemon(true);
      reader.start();
      // CPU time, not wall time, says how far a child on a loaded machine has got
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_TIMEOUT_S);
      while (p.isAlive() && System.nanoTime() < deadline
          && p.info().totalCpuDuration().map(d -> d.compareTo(CPU_BEFORE_SIGNAL) < 0).orElse(true)) {
        Thread.sleep(100);
      }
      if (p.isAlive()) {
        Assumptions.assumeTrue(catchesSigint(p.pid()),
            "the child JVM ignores SIGINT (inherited as ignored): cannot test Ctrl-C here");
        int kill = new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).inheritIO().start().waitFor();
        assertThat(kill).isZero();
        signalled = true;
      }
      assertThat(p.waitFor(EXIT_TIMEOUT_S, TimeUnit.SECONDS)).as("the search stops").isTrue();
      reader.join(TimeUnit.SECONDS.toMillis(10));
    } finally {
      p.destroyForcibly();
    }

    String err = read(stderr);
    String written = Files.readString(out);
    Path partial = dir.resolve("out.partial.json");
    try (var files = Files.list(dir)) {
      assertThat(files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".tmp"))).isEmpty();
    }
    System.out.println("SearchInterruptTest: signalled " + signalled + ", exit " + p.exitValue() + "\n" + stdout + err);
    if (p.exitValue() != SearchCommandBase.EXIT_INTERRUPTED) {
      // the search ended before the signal arrived (a fast machine): a complete new result
      assertThat(p.exitValue()).as(err).isZero();
      assertComplete(written);
      assertThat(partial).doesNotExist();
      return;
    }
    // interrupted: the earlier complete result is untouched, byte for byte
    assertThat(signalled).isTrue();
    assertThat(written).isEqualTo(PREVIOUS);
    assertThat(err.replace("\n  ", " ")).contains("Interrupted: ", "partitions searched");
    // the reference-equivalent line says it covers the partitions reached (in calculon-moe's space
    // every partition stands for reference executions: as many as the Interrupted line's total)
    java.util.regex.Matcher total = java.util.regex.Pattern.compile("Interrupted: \\d+ of (\\d+) partitions")
        .matcher(err.replace("\n  ", " "));
    assertThat(total.find()).isTrue();
    assertThat(stdout.toString().replace("\n  ", " ")).containsPattern("Reference-equivalent executions: \\d+ "
        + "\\(good \\d+, bad \\d+(, not run \\d+)?; interrupted: \\d+ of the " + total.group(1)
        + " partitions with reference executions searched");
    if (Files.exists(partial)) {
      // the best so far went beside it, under a name that says partial, and stdout says where
      assertComplete(Files.readString(partial));
      assertThat(stdout.toString().replace("\n  ", " ")).contains("Best sample rate: ", "Output: " + partial,
          "Interrupted: " + partial + " holds the best " + executions(MAPPER.readTree(Files.readString(partial)).size())
              + " found before the stop (" + searched(err) + "); "
              + out + " is untouched");
      // marked as this output's partial result, so a later complete search removes it
      // (StalePartialResultTest), where the file system keeps user attributes
      Path probe = dir.resolve("probe.json");
      Files.writeString(probe, "{}");
      PartialResults.mark(probe, out);
      if (PartialResults.isOursUnchanged(probe, out)) {
        assertThat(PartialResults.isOursUnchanged(partial, out)).isTrue();
      }
    } else {
      assertThat(stdout.toString().replace("\n  ", " ")).contains("Interrupted: nothing good found before the stop ("
          + searched(err) + "); " + out + " is untouched");
    }
  }

  /** A whole result file: it parses (nothing cut off) and has 1 to 3 complete, good rows. */
  private static void assertComplete(String text) throws IOException {
    JsonNode doc = MAPPER.readTree(text);
    assertThat(doc.size()).isBetween(1, 3);
    for (JsonNode row : doc) {
      assertThat(row.get("execution").size()).isEqualTo(32);
      assertThat(row.get("stats").size()).isEqualTo(122);
      assertThat(row.get("stats").get("sample_rate").asDouble()).isPositive();
    }
  }

  /**
   * This JVM's java, with this test run's class path (the compiled classes and their libraries).
   * A process started in the background by a non-interactive shell has SIGINT ignored, and its
   * children inherit that (a JVM then installs no handler): perl puts the default back first.
   */
  static List<String> javaCommand() {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> c = new ArrayList<>();
    if (ignoresSigint(Path.of("/proc/self/status"))) {
      c.addAll(List.of("perl", "-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die \"exec: $!\""));
    }
    c.addAll(List.of(java, "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path")));
    return c;
  }

  /** Whether SIGINT is ignored in this /proc status (false where it cannot be read). */
  static boolean ignoresSigint(Path status) {
    return sigintBit(status, "SigIgn:", false);
  }

  private static boolean sigintBit(Path status, String field, boolean unknown) {
    try {
      for (String line : Files.readAllLines(status)) {
        if (line.startsWith(field)) {
          long mask = Long.parseUnsignedLong(line.substring(field.length()).trim(), 16);
          return (mask & SIGINT_MASK) != 0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return unknown;
    }
    return unknown;
  }

  /** SIGINT is signal 2: bit 1 of the /proc masks. */
  private static final long SIGINT_MASK = 1L << (2 - 1);

  /** Whether the process has a SIGINT handler (Linux /proc; true where that cannot be read). */
  static boolean catchesSigint(long pid) {
    // the JVM installs its handler while it starts; by now it has, unless SIGINT was ignored
    return sigintBit(Path.of("/proc", Long.toString(pid), "status"), "SigCgt:", true);
  }

  static String read(Path p) throws IOException {
    return Files.exists(p) ? Files.readString(p) : "";
  }

  /** An interrupted search names an OUTPUT it left as it was, and one that never existed as not written. */
  @org.junit.jupiter.api.Test
  void interruptedSearchSaysWhetherItsOutputExisted() throws Exception {
    Path earlier = dir.resolve("earlier.json");
    Files.writeString(earlier, PREVIOUS);
    assertThat(SearchCommandBase.untouched(earlier)).isEqualTo(earlier + " is untouched");
    assertThat(SearchCommandBase.untouched(dir.resolve("none.json"))).isEqualTo(dir.resolve("none.json") + " was not written");
  }

  /**
   * How far the search got, as its stderr line says it ({@code 63 of 1012 partitions searched and 2
   * in part}), which the last stdout line repeats beside what the partial file holds.
   */
  static String searched(String err) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("Interrupted: (\\d+ of \\d+ partitions searched( and \\d+ in part)?);")
        .matcher(err.replace("\n  ", " "));
    assertThat(m.find()).as(err).isTrue();
    return m.group(1);
  }

  /** The count of executions a partial file holds, as the Interrupted line says it. */
  static String executions(int n) {
    return n == 1 ? "execution" : n + " executions";
  }
}
