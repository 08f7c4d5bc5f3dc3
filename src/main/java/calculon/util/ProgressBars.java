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
        .setConsumer(terminal ? new TerminalLine(err)
            : new DelegatingProgressBarConsumer(err::println, LINE_WIDTH_CHARS));
  }

  /** ANSI: erase the whole line the cursor is on (the bar's colours are ANSI already). */
  static final String ERASE_LINE = "\u001b[2K";

  /** Guards {@link #open} and every write of a terminal bar and of {@link #println}. */
  private static final Object LINE_LOCK = new Object();
  /** The bar being redrawn in place, its line not yet ended; null when none. */
  private static TerminalLine open;

  /**
   * Prints {@code line} and a newline on {@code err} on a line of its own: where a bar is being
   * redrawn in place on {@code err} ({@link Mode#TERMINAL}), its line is erased first and the bar
   * drawn again below {@code line}, as tqdm.write does, so a note said while the bar runs (the
   * {@code --log} file's "kept the earlier" line, written with the first report line) never lands
   * in the middle of the bar's line. Without such a bar: {@code err.println(line)}, flushed.
   */
  public static void println(PrintStream err, String line) {
    synchronized (LINE_LOCK) {
      TerminalLine bar = open != null && open.err == err ? open : null;
      if (bar != null) {
        err.print("\r" + ERASE_LINE);
      }
      err.println(line);
      if (bar != null) {
        bar.redraw();
      }
      err.flush();
    }
  }

  /** The library's in-place drawing on a terminal, which says while its line is open ({@link #println}). */
  private static final class TerminalLine extends ConsoleProgressBarConsumer {
    private final PrintStream err;
    private String drawn;

    TerminalLine(PrintStream err) {
      super(err);
      this.err = err;
    }

    @Override
    public void accept(String rendered) {
      synchronized (LINE_LOCK) {
        super.accept(rendered);
        drawn = rendered;
        open = this;
      }
    }

    void redraw() {
      super.accept(drawn);
    }

    @Override
    public void close() {
      synchronized (LINE_LOCK) {
        super.close();
        if (open == this) {
          open = null;
        }
      }
    }
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
