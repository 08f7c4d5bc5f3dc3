package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.sweep.NotRun;
import calculon.sweep.SweepRunner;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An interrupted sweep's report (standard output or the --log file) says it was interrupted, how
 * many points are done of how many, how to resume, and that the --report page was not written (or
 * that an earlier one is untouched), as the searches' {@code Interrupted: ... was not written}; the
 * same line stays on stderr (SparkInterruptTest reads it there), unless stderr is where the report
 * goes (a plain terminal: there it shows once). The outcome is the one a Ctrl-C after 5 of
 * sc23-fig6-small.json's 48 points gives (or before the first).
 */
class SweepInterruptedReportTest {
  @TempDir
  Path dir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private SweepCommand command(Path report) {
    SweepCommand c = new SweepCommand();
    c.output = dir.resolve("f6.csv");
    c.report = report;
    c.err = new PrintStream(err, true, StandardCharsets.UTF_8);
    return c;
  }

  private int finish(SweepCommand c) throws Exception {
    PrintStream report = new PrintStream(out, true, StandardCharsets.UTF_8);
    return finish(c, new Log(report, Log.INFO));
  }

  /** Finishes the outcome of a Ctrl-C after 5 of 48 points, the report through {@code log}. */
  private static int finish(SweepCommand c, Log log) throws Exception {
    SweepRunner.Outcome stopped = new SweepRunner.Outcome(48, 0, 5, true, 819.3155899325953,
        "point 4: TP 8 PP 8 DP 40 ZeRO 2 mbs 2 batch 3040", 10_000_000_000L, NotRun.NONE);
    return finish(c, stopped, log);
  }

  private int finish(SweepCommand c, SweepRunner.Outcome o) throws Exception {
    return finish(c, o, new Log(new PrintStream(out, true, StandardCharsets.UTF_8), Log.INFO));
  }

  private static int finish(SweepCommand c, SweepRunner.Outcome o, Log log) throws Exception {
    return c.finish(o, "local, 2 threads", log.reports(), log.warnings());
  }

  private String interrupted(String reportClause) {
    return "Interrupted: 5 of 48 points are in " + dir.resolve("f6.csv")
        + "; run the same command again to continue (it evaluates the last point written again)" + reportClause + "\n";
  }

  @Test
  void theReportSaysItWasInterruptedAndThatTheReportPageWasNotWritten() throws Exception {
    Path page = dir.resolve("f6.html");
    assertThat(finish(command(page))).isEqualTo(SweepCommand.EXIT_INTERRUPTED).isEqualTo(130);
    String line = interrupted("; " + page + " was not written (--report writes it once every point is done)");
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("Points: 48 (5 evaluated now, 0 resumed) on local, 2 threads\n"
        + "Points per second: 0.50\n"
        + "Best sample rate: 819.3155899325953 (point 4: TP 8 PP 8 DP 40 ZeRO 2 mbs 2 batch 3040)\n"
        + "Output: " + dir.resolve("f6.csv") + "\n" + line);
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo(line);
    assertThat(page).doesNotExist();
  }

  @Test
  void anEarlierPageIsUntouched() throws Exception {
    Path page = Files.writeString(dir.resolve("f6.html"), "an earlier page");
    assertThat(finish(command(page))).isEqualTo(130);
    String line = interrupted("; " + page + " is untouched (--report writes it once every point is done)");
    assertThat(out.toString(StandardCharsets.UTF_8)).endsWith(line);
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo(line);
    assertThat(Files.readString(page)).isEqualTo("an earlier page");
  }

  @Test
  void withoutReportTheLineSaysWhereThePointsAreAndHowToResume() throws Exception {
    assertThat(finish(command(null))).isEqualTo(130);
    assertThat(out.toString(StandardCharsets.UTF_8)).endsWith(interrupted(""));
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo(interrupted(""));
  }

  /** The line is a warning: -v WARNING keeps it alone, as the searches' Interrupted: line; ERROR silences it. */
  @Test
  void warningKeepsTheLineAloneAndErrorSilencesIt() throws Exception {
    PrintStream report = new PrintStream(out, true, StandardCharsets.UTF_8);
    assertThat(finish(command(null), new Log(report, Log.parseLevel("WARNING")))).isEqualTo(130);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(interrupted(""));
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo(interrupted(""));
    out.reset();
    err.reset();
    assertThat(finish(command(null), new Log(report, Log.parseLevel("ERROR")))).isEqualTo(130);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo(interrupted(""));
  }

  @Test
  void beforeAnyPointIsWrittenTheLineSaysTheSameCommandStartsFromTheFirstPoint() throws Exception {
    SweepRunner.Outcome none = new SweepRunner.Outcome(48, 0, 0, true, Double.NaN, "", 2_000_000_000L, NotRun.NONE);
    assertThat(finish(command(null), none)).isEqualTo(130);
    String line = "Interrupted: 0 of 48 points are in " + dir.resolve("f6.csv")
        + "; run the same command again to continue (no point was written yet: it starts from the first point)\n";
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("Points: 48 (0 evaluated now, 0 resumed) on local, 2 threads\n"
        + "Output: " + dir.resolve("f6.csv") + "\n" + line);
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo(line);
  }

  @Test
  void aResumedSweepStoppedBeforeItsNextPointStillRedoesTheLastPointWritten() throws Exception {
    // 5 points kept by the resume, none evaluated since: the next run drops and redoes point 4 again
    SweepRunner.Outcome resumed = new SweepRunner.Outcome(48, 5, 5, true, 819.3155899325953,
        "point 4: TP 8 PP 8 DP 40 ZeRO 2 mbs 2 batch 3040", 2_000_000_000L, NotRun.NONE);
    assertThat(finish(command(null), resumed)).isEqualTo(130);
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo(interrupted(""));
  }

  @Test
  void whereTheReportIsStderrTheLineIsWrittenOnce() throws Exception {
    SweepCommand c = command(null);
    c.reportIsStderr = true;
    assertThat(finish(c)).isEqualTo(130);
    assertThat(out.toString(StandardCharsets.UTF_8)).endsWith("\n" + interrupted(""));
    assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
  }

  @Test
  void oneFileIsOneFileAndTwoAreTwo() throws Exception {
    Path a = Files.writeString(dir.resolve("a.txt"), "a");
    Path b = Files.writeString(dir.resolve("b.txt"), "a");
    assertThat(SweepCommand.sameFile(a, Files.createLink(dir.resolve("a-link.txt"), a))).isTrue();
    assertThat(SweepCommand.sameFile(a, b)).isFalse();
    assertThat(SweepCommand.sameFile(a, dir.resolve("missing.txt"))).isFalse();
  }

  /**
   * The rule on a real process: standard output and standard error are one destination with
   * {@code 2>&1} (a pipe here; a plain terminal is the same case), two with separate redirections
   * (SparkInterruptTest, a script sending the report to a file).
   */
  @Test
  void stdoutIsStderrWhereBothGoToOnePlace() throws Exception {
    assertThat(probe(new ProcessBuilder().redirectErrorStream(true))).isEqualTo("true");
    Path errFile = dir.resolve("probe-err.txt");
    assertThat(probe(new ProcessBuilder().redirectError(errFile.toFile()))).isEqualTo("false");
  }

  /** What {@link SweepCommand#stdoutIsStderr()} says in a child JVM started by {@code pb}. */
  private static String probe(ProcessBuilder pb) throws Exception {
    pb.command(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        System.getProperty("java.class.path"), StdoutIsStderrProbe.class.getName());
    Process p = pb.start();
    String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor()).as(said).isZero();
    return said;
  }

  /** Prints {@link SweepCommand#stdoutIsStderr()} (the child JVM of {@link #probe}). */
  static final class StdoutIsStderrProbe {
    public static void main(String[] args) {
      System.out.println(SweepCommand.stdoutIsStderr());
    }
  }
}
