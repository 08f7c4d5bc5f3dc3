package calculon.cli;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

/**
 * Where the commands' screen output goes, as the reference's driver sets up its logger
 * (bin/calculon:33-55): a stream (stdout or the {@code --log} file) and a threshold level; a
 * message is written, with a newline, when its level is at least the threshold.
 */
public final class Log {
  /** Python logging's level numbers, by the names {@code logging.setLevel} accepts. */
  private static final Map<String, Integer> LEVELS = Map.of(
      "CRITICAL", 50, "FATAL", 50, "ERROR", 40, "WARNING", 30, "WARN", 30,
      "INFO", 20, "DEBUG", 10, "NOTSET", 0);
  /** The level of {@link #info}. */
  public static final int INFO = 20;

  private final PrintStream stream;
  private final int threshold;

  public Log(PrintStream stream, int threshold) {
    this.stream = stream;
    this.threshold = threshold;
  }

  /**
   * A level name (CRITICAL, FATAL, ERROR, WARNING, WARN, INFO, DEBUG, NOTSET, any case) or number.
   *
   * @throws IllegalArgumentException for anything else
   */
  public static int parseLevel(String name) {
    Integer level = LEVELS.get(name.toUpperCase(Locale.ROOT));
    if (level != null) {
      return level;
    }
    try {
      return Integer.parseInt(name.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("unknown level '" + name + "' (use DEBUG, INFO, WARNING, ERROR or CRITICAL)");
    }
  }

  /** Writes {@code message} and a newline unless the threshold is above INFO. */
  public void info(String message) {
    if (INFO >= threshold) {
      stream.print(message);
      stream.print('\n');
      stream.flush();
    }
  }
}
