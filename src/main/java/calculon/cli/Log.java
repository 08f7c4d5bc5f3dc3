package calculon.cli;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

/**
 * Where the commands' reports go, as the reference's driver sets up its logger (bin/calculon:33-55):
 * a stream (stdout or the {@code --log} file) and a threshold level; a message is written, with a
 * newline, when its level is at least the threshold.
 *
 * <p>A command's report is what a user reads when it is done: llm's text summary, the searches'
 * and sweep's counts and {@code Output:}/{@code Report:} lines, llm-validation's tables,
 * llm-parameter-calculator's counts, convert's and import-hf's line naming what they wrote,
 * version's line. All of it is logged at INFO (the reference's {@code logger.info}, also where the
 * reference used {@code print}: its llm-validation), so {@code --log FILE} sends it to FILE and
 * {@code -v WARNING} or higher silences it. One report line is a warning ({@link #warnings}): the
 * {@code Interrupted:} line of an interrupted search or sweep, which says where its partial
 * results are; {@code -v WARNING} keeps it (alone, in the log's stream), ERROR or higher silences
 * it too (standard error still has the command's own interrupt line, and the exit status is 130
 * or 143). One is logged at CRITICAL ({@link #failures}), which no level silences: a sweep's line
 * that no point gave a result, when the sweep exits 255 for it. Errors are no report: {@code ERROR:} lines of an
 * infeasible run and a search's "No acceptable configurations found" without {@code --noneok}
 * stay on standard output (the reference's {@code print}), one-line errors and notes on standard
 * error, whatever the log; progress bars are on standard error; OUTPUT files are the user's.
 */
public final class Log {
  /** Python logging's level numbers, by the names {@code logging.setLevel} accepts. */
  private static final Map<String, Integer> LEVELS = Map.of(
      "CRITICAL", 50, "FATAL", 50, "ERROR", 40, "WARNING", 30, "WARN", 30,
      "INFO", 20, "DEBUG", 10, "NOTSET", 0);
  /** The level of {@link #info}. */
  public static final int INFO = 20;
  /** The level of {@link #warnings}. */
  public static final int WARNING = 30;

  private final PrintStream stream;
  private final int threshold;
  /** {@link #reports}: {@link #stream}, or one that discards everything when INFO is below the threshold. */
  private final PrintStream reports;
  /** {@link #warnings}: {@link #stream}, or one that discards everything when WARNING is below the threshold. */
  private final PrintStream warnings;

  /**
   * A log writing to {@code stream} the messages of level {@code threshold} or above (a number of
   * {@link #parseLevel}: 20 INFO, 30 WARNING, ...).
   */
  public Log(PrintStream stream, int threshold) {
    this.stream = stream;
    this.threshold = threshold;
    PrintStream discard = new PrintStream(OutputStream.nullOutputStream());
    this.reports = INFO >= threshold ? stream : discard;
    this.warnings = WARNING >= threshold ? stream : discard;
  }

  /**
   * A level name as Python's {@code Logger.setLevel} takes one from the reference's {@code -v}
   * (a string: one of {@code logging}'s level names, no numbers): CRITICAL, FATAL (CRITICAL),
   * ERROR, WARNING, WARN (WARNING), INFO, DEBUG, NOTSET (everything); here in any case.
   *
   * @throws IllegalArgumentException for anything else, numbers included: {@code unknown level '5'
   *     (use DEBUG, INFO, WARNING, ERROR or CRITICAL; also WARN, FATAL or NOTSET)}
   */
  public static int parseLevel(String name) {
    Integer level = LEVELS.get(name.toUpperCase(Locale.ROOT));
    if (level == null) {
      throw new IllegalArgumentException("unknown level '" + name
          + "' (use DEBUG, INFO, WARNING, ERROR or CRITICAL; also WARN, FATAL or NOTSET)");
    }
    return level;
  }

  /** Writes {@code message} and a newline unless the threshold is above INFO. */
  public void info(String message) {
    if (INFO >= threshold) {
      stream.print(message);
      stream.print('\n');
      stream.flush();
    }
  }

  /**
   * The stream a command prints its report to as it goes, line by line, as {@link #info} would
   * write each line: the log's stream (standard output or the {@code --log} file) at threshold
   * INFO or below, else a stream that discards what it is given. Never closed by its users (Main
   * closes the log file when the command is done).
   */
  public PrintStream reports() {
    return reports;
  }

  /**
   * The stream for a report's line that states the command's failure, logged at CRITICAL, which no
   * {@code -v} level silences: a sweep's {@code Best sample rate: none (no point gave a result)}
   * when it exits 255 (without {@code --noneok}). The log's stream, the one {@link #reports} writes,
   * so the line keeps its place in the report, goes to the {@code --log} file with it, and stands
   * alone where {@code -v WARNING} or higher silences the rest. Never closed by its users.
   */
  public PrintStream failures() {
    return stream;
  }

  /**
   * The stream for a report's warning lines ({@code Interrupted:}), logged at WARNING: the log's
   * stream, the one {@link #reports} writes, at threshold WARNING or below, so the lines keep their
   * order; else a stream that discards what it is given. Never closed by its users.
   */
  public PrintStream warnings() {
    return warnings;
  }
}
