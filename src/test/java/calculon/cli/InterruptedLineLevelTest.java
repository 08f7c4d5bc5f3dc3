package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import calculon.search.FakeModel;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An interrupted search's report line ({@code Interrupted: best.partial.json holds the best
 * execution found before the stop (...); best.json was not written}) says where the partial result
 * is: it is logged at WARNING, so {@code -v WARNING} keeps it, alone (the rest of the report is at
 * INFO), on standard output or in the {@code --log} file; {@code -v ERROR} silences it with the rest.
 * Standard error's own interrupt line and the exit status 130 are the same at every level.
 *
 * <p>The search is stopped in this JVM as Ctrl-C's shutdown hook stops it: its first good
 * evaluation interrupts the command's thread, which the search, waiting for its workers, takes as a
 * stop; every evaluation after that waits until the search has taken it.
 */
class InterruptedLineLevelTest {
  static final ObjectMapper MAPPER = new ObjectMapper();
  /** Standard error's interrupt line, joined back where it was wrapped; group 1 how far the search got. */
  static final Pattern STDERR_LINE =
      Pattern.compile("Interrupted: (.* partitions searched(?: and \\d+ in part)?); results and counts cover what was searched\n");

  @TempDir Path dir;
  Path model;
  Path system;
  SearchCommandBase.EvaluatorFactory saved;

  @BeforeEach
  void setUp() throws Exception {
    saved = SearchCommandBase.evaluatorFactory;
    JsonNode g = MAPPER.readTree(Path.of("src/test/resources/goldens/search/loemoe-nemo-8-b16-E8.json").toFile());
    model = dir.resolve("model.json");
    system = dir.resolve("system.json");
    MAPPER.writeValue(model.toFile(), g.get("model"));
    MAPPER.writeValue(system.toFile(), g.get("system"));
    Thread command = Thread.currentThread();
    AtomicBoolean stopping = new AtomicBoolean();
    CountDownLatch stopped = new CountDownLatch(1);
    SearchCommandBase.evaluatorFactory = (app, sys, dt, version) -> {
      FakeModel fake = new FakeModel(sys);
      return (exe, withLayers) -> {
        if (stopping.get()) {
          try {
            stopped.await();
          } catch (InterruptedException e) {
            throw new AssertionError(e);
          }
        }
        Stats s = fake.evaluate(exe, withLayers);
        if (stopping.compareAndSet(false, true)) {
          assertThat(Thread.currentThread()).as("a worker, not the command's thread").isNotSameAs(command);
          command.interrupt();
          // taken: the flag cleared and the thread waiting for the workers again, the search cancelled
          while (command.isInterrupted() || command.getState() != Thread.State.WAITING) {
            Thread.onSpinWait();
          }
          stopped.countDown();
        }
        return s;
      };
    };
  }

  @AfterEach
  void tearDown() {
    SearchCommandBase.evaluatorFactory = saved;
  }

  private Run search(String... global) {
    List<String> a = new ArrayList<>(List.of(global));
    a.addAll(List.of("llm-optimal-execution", model.toString(), "64", "64", "float16", system.toString(),
        dir.resolve("best.json").toString(), "-c", "2", "--quiet"));
    return CliRun.run(a.toArray(new String[0]));
  }

  /** How far the search got, from standard error's line, which must be all of standard error. */
  private static String searchedSoFar(Run r) {
    Matcher m = STDERR_LINE.matcher(r.err().replace("\n  ", " "));
    assertThat(m.matches()).as(r.err()).isTrue();
    return m.group(1);
  }

  /** The report's line, wrapped as the summary's long lines are. */
  private String reportLine(String soFar) {
    return SearchCommandBase.fit("Interrupted: " + dir.resolve("best.partial.json") + " holds the best execution "
        + "found before the stop (" + soFar + "); " + dir.resolve("best.json") + " was not written") + "\n";
  }

  @Test
  void warningKeepsTheInterruptedLineAlone() {
    Run r = search("-v", "WARNING");
    assertThat(r.status()).as(r.err()).isEqualTo(130);
    assertThat(r.out()).isEqualTo(reportLine(searchedSoFar(r)));
    assertThat(dir.resolve("best.partial.json")).exists();
    assertThat(dir.resolve("best.json")).doesNotExist();
  }

  @Test
  void theLogFileGetsItAtWarning() throws Exception {
    Path log = dir.resolve("run.log");
    Run r = search("--log", log.toString(), "-v", "WARNING");
    assertThat(r.status()).as(r.err()).isEqualTo(130);
    assertThat(r.out()).isEmpty();
    assertThat(Files.readString(log, StandardCharsets.UTF_8)).isEqualTo(reportLine(searchedSoFar(r)));
  }

  /** ERROR or higher: only errors; standard error still says the search was interrupted, and the exit status. */
  @Test
  void errorSilencesItWithTheRestOfTheReport() {
    Run r = search("-v", "ERROR");
    assertThat(r.status()).isEqualTo(130);
    assertThat(r.out()).isEmpty();
    assertThat(searchedSoFar(r)).contains(" of ");
    assertThat(dir.resolve("best.partial.json")).exists();
  }

  /** INFO, the default: the whole report, ending with the same line. */
  @Test
  void infoEndsTheReportWithIt() {
    Run r = search();
    assertThat(r.status()).isEqualTo(130);
    assertThat(r.out()).startsWith("Total executions: ").endsWith("Output: " + dir.resolve("best.partial.json")
        + "\n" + reportLine(searchedSoFar(r)));
  }
}
