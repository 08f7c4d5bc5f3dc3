package calculon.util;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressState;

/**
 * How the long commands (search, sweep) show progress on stderr, through the me.tongfei
 * progressbar library: one mode rule and one bar set-up, so the two look and behave alike.
 */
public final class ProgressBars {
  /** How progress is shown. */
  public enum Mode {
    /** Nothing. */
    OFF,
    /** A bar redrawn in place (stderr is a terminal). */
    TERMINAL,
    /** One plain line per update ({@code --progress} where stderr is not a terminal). */
    LINES
  }

  /** Milliseconds between lines in {@link Mode#LINES} (a log gets a line every few seconds). */
  public static final int LINE_INTERVAL_MILLIS = 5_000;
  /** Widest plain line in {@link Mode#LINES}, in characters. */
  public static final int LINE_WIDTH_CHARS = 160;

  private ProgressBars() {}

  /** The mode for this process: {@code --quiet} wins, then a terminal, then {@code --progress}. */
  public static Mode mode(boolean quiet, boolean forced) {
    if (quiet) {
      return Mode.OFF;
    }
    if (System.console() != null) {
      return Mode.TERMINAL;
    }
    return forced ? Mode.LINES : Mode.OFF;
  }

  /**
   * A bar named {@code task} on {@code err} drawn as {@code mode} says (not {@link Mode#OFF}): a
   * coloured bar redrawn every {@code terminalIntervalMillis} on a terminal, plain ASCII lines every
   * {@link #LINE_INTERVAL_MILLIS} otherwise, laid out by {@link FittedBarRenderer} to fit the
   * terminal's width: counts with {@code unit} ({@code ""} or {@code " points"}), the elapsed time
   * and {@code eta}, then the caller's {@code fields}. The caller adds its maximum and start.
   */
  public static ProgressBarBuilder builder(String task, Mode mode, PrintStream err, int terminalIntervalMillis,
      String unit, Function<ProgressState, Optional<Duration>> eta, FittedBarRenderer.Fields fields) {
    boolean terminal = mode == Mode.TERMINAL;
    return new ProgressBarBuilder()
        .setTaskName(task)
        .setRenderer(new FittedBarRenderer(terminal ? FittedBarRenderer.Style.COLORFUL_UNICODE_BLOCK
            : FittedBarRenderer.Style.ASCII, unit, eta, fields))
        .setUpdateIntervalMillis(terminal ? terminalIntervalMillis : LINE_INTERVAL_MILLIS)
        .setConsumer(terminal ? new ConsoleProgressBarConsumer(err)
            : new DelegatingProgressBarConsumer(err::println, LINE_WIDTH_CHARS));
  }

  /**
   * The time left at the average rate since the bar started ({@code startsFrom}'s points not
   * counted), as the library's default ETA ({@code Util.linearEta}, 0.10.1); empty before the
   * first step or without a maximum.
   */
  public static Optional<Duration> linearEta(ProgressState s) {
    long doneHere = s.getCurrent() - s.getStart();
    if (s.getMax() <= 0 || s.isIndefinite() || doneHere <= 0) {
      return Optional.empty();
    }
    return Optional.of(s.getElapsedAfterStart().dividedBy(doneHere).multipliedBy(s.getMax() - s.getCurrent()));
  }
}
