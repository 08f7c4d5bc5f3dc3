package calculon.cli;

import calculon.search.Progress;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import calculon.util.FittedBarRenderer;
import calculon.util.ProgressBars;
import me.tongfei.progressbar.ProgressBar;

/**
 * The progress display of a running search on stderr, drawn by the me.tongfei progressbar library
 * ({@link ProgressBars}): executions counted of the executions to count, executions per second, ETA
 * and the best sample rate so far. What the bar counts is what the summary's "Total executions"
 * counts ({@link Progress}): with {@code -m} the total shrinks as microbatch loops break, and a
 * finished search's bar ends at exactly its "Total executions", with its "Best sample rate" as best
 * and its average rate (the summary's "Calculation rate", up to the bar's own timing).
 * A bar redrawn in place on a terminal; plain lines every few seconds for logs and pipes
 * ({@code --progress}); nothing with {@code --quiet}. The ETA comes from {@link SettledRate}: none
 * while the JVM warms up, then from the recent rate.
 */
final class ProgressLine implements AutoCloseable {
  /** Milliseconds between redraws on a terminal. */
  static final int TERMINAL_INTERVAL_MILLIS = 1_000;
  /** How long closing waits for the poller thread to stop (it sleeps {@link #POLL_MILLIS} between polls). */
  static final int POLLER_JOIN_MILLIS = 2_000;
  /** Milliseconds between reads of the search's tallies. */
  static final int POLL_MILLIS = 250;

  private final Progress progress;
  private final ProgressBar bar;
  private final SettledRate rate = new SettledRate();
  private final Thread poller;
  private final long t0 = System.nanoTime();
  private volatile boolean stop;

  ProgressLine(Progress progress, PrintStream err, ProgressBars.Mode mode) {
    this.progress = progress;
    if (mode == ProgressBars.Mode.OFF) {
      bar = null;
      poller = null;
      return;
    }
    bar = ProgressBars.builder("search", mode, err, TERMINAL_INTERVAL_MILLIS, "",
            state -> rate.eta(state.getMax() - state.getCurrent()),
            (state, compact) -> fields(shownRate, progress.best(), compact))
        .setInitialMax(Math.max(progress.total(), 1))
        .build();
    poller = new Thread(this::poll, "search-progress");
    poller.setDaemon(true);
    poller.start();
  }

  private void poll() {
    while (!stop) {
      double seconds = (System.nanoTime() - t0) / 1e9;
      long done = progress.done();
      rate.observe(seconds, done);
      show(done, rate.displayRate(seconds, done));
      try {
        Thread.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Moves the bar to {@code done} of the progress's current total, with {@code perSecond} and the best. */
  private void show(long done, double perSecond) {
    // total first: with -m it shrinks, and done must never pass it
    bar.maxHint(Math.max(progress.total(), Math.max(done, 1)));
    shownRate = perSecond;
    bar.stepTo(done);
  }

  /** The rate the bar shows, executions per second (NaN before any is known); set by {@link #show}. */
  private volatile double shownRate = Double.NaN;

  /**
   * The bar's fields after the counts and times: executions per second ("-" before any is known),
   * whole with thousands separators ({@code 202,348 exec/s}) or, {@code compact}, to 3 significant
   * digits ({@code 202k exec/s}, {@link FittedBarRenderer#compact}); and the best sample rate so far
   * ("-" before a good execution) to {@link #BEST_SIGNIFICANT_DIGITS} significant digits either way
   * (the summary's "Best sample rate" has every digit).
   */
  static List<String> fields(double perSecond, double best, boolean compact) {
    String rateShown = !Double.isFinite(perSecond) ? "-"
        : compact ? FittedBarRenderer.compact(perSecond) : String.format(Locale.ROOT, "%,.0f", perSecond);
    return List.of(rateShown + " exec/s",
        "best " + (Double.isNaN(best) ? "-" : Double.isFinite(best) ? bestShown(best) : String.valueOf(best)));
  }

  /** The bar's fields in full, as one message ({@code 202,348 exec/s, best 111.933}). */
  static String extra(double perSecond, double best) {
    return String.join(", ", fields(perSecond, best, false));
  }

  /** Significant digits of the best sample rate in the bar's message. */
  static final int BEST_SIGNIFICANT_DIGITS = 6;

  /** A best sample rate as the bar shows it: {@link #BEST_SIGNIFICANT_DIGITS} significant digits. */
  static String bestShown(double best) {
    return new java.math.BigDecimal(best).round(new java.math.MathContext(BEST_SIGNIFICANT_DIGITS))
        .stripTrailingZeros().toPlainString();
  }

  @Override
  public void close() {
    stop = true;
    if (poller != null) {
      poller.interrupt();
      // the poller's last update must not race the final one (a loaded machine lost the final line)
      try {
        poller.join(POLLER_JOIN_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      // the final line: the finished counts, the search's average rate and its best (the poller's
      // last message could be up to POLL_MILLIS old: a stale best, issue "bar disagrees with summary")
      long done = progress.done();
      double seconds = (System.nanoTime() - t0) / 1e9;
      show(done, seconds > 0 ? done / seconds : Double.NaN);
      bar.close();
    }
  }

  /**
   * An ETA from a rate that has settled. A search's first seconds run slower (the JIT compiles the
   * model) and an ETA from the average since the start overstates the rest many times (a first
   * ETA of ten minutes for a 21-second search, issue 13). So: the rate is measured over the last
   * {@link #WINDOW_SECONDS} seconds only, and no ETA is given until that rate agrees within
   * {@link #AGREEMENT} with the rate of the window that ended {@link #LAG_SECONDS} earlier.
   * The two windows span {@link #WINDOW_SECONDS} + {@link #LAG_SECONDS} = 3.5 s, the earliest an
   * ETA can show: past issue 13's 3 s of warm-up, and early enough that a search of a few seconds
   * gets one (with a 4 s window 2 s apart no search under 6 s showed an ETA before its end: a 7 s
   * search read {@code ETA ?} at 63%).
   * Thread-safe.
   */
  static final class SettledRate {
    static final double WINDOW_SECONDS = 2;
    static final double LAG_SECONDS = 1.5;
    static final double AGREEMENT = 0.25;
    /** Samples older than this are dropped. */
    private static final double KEEP_SECONDS = WINDOW_SECONDS + LAG_SECONDS + 1;

    private final ArrayDeque<double[]> samples = new ArrayDeque<>();
    private boolean settled;

    /** Records that {@code done} executions were done after {@code seconds}. */
    synchronized void observe(double seconds, long done) {
      samples.addLast(new double[] {seconds, done});
      while (samples.size() > 2 && samples.peekFirst()[0] < seconds - KEEP_SECONDS) {
        samples.removeFirst();
      }
      if (!settled) {
        double now = windowRate(seconds);
        double earlier = windowRate(seconds - LAG_SECONDS);
        settled = now > 0 && earlier > 0 && Math.abs(now - earlier) <= AGREEMENT * now;
      }
    }

    /** Executions per second over the last window (NaN before a full window). */
    synchronized double recentRate() {
      return samples.isEmpty() ? Double.NaN : windowRate(samples.peekLast()[0]);
    }

    /**
     * The rate to show after {@code seconds} with {@code done} executions: the recent rate once a
     * full {@link #WINDOW_SECONDS} window exists, the average since the start before that (a search
     * shorter than the window would otherwise show no rate at all), NaN before anything is done.
     */
    synchronized double displayRate(double seconds, long done) {
      double r = recentRate();
      if (Double.isFinite(r)) {
        return r;
      }
      return seconds > 0 && done > 0 ? done / seconds : Double.NaN;
    }

    /** Whether the rate has settled (an ETA is given from then on). */
    synchronized boolean settled() { return settled; }

    /**
     * The time {@code remaining} executions take at the recent rate; empty (the bar shows "?") until
     * it has settled, except that nothing remaining takes no time: a finished bar (100%, also one
     * shorter than the settling window) ends "/ 0:00:00", not "/ ?".
     */
    synchronized Optional<Duration> eta(long remaining) {
      if (remaining <= 0) {
        return Optional.of(Duration.ZERO);
      }
      double r = recentRate();
      if (!settled || !(r > 0)) {
        return Optional.empty();
      }
      return Optional.of(Duration.ofMillis(Math.round(remaining / r * 1000)));
    }

    /** Rate over [end - WINDOW, end], from the samples nearest those times; NaN without a full window. */
    private double windowRate(double end) {
      double[] last = null;
      double[] first = null;
      for (double[] s : samples) {
        if (s[0] <= end + 1e-9) {
          last = s;
        }
        if (s[0] <= end - WINDOW_SECONDS + 1e-9) {
          first = s;
        }
      }
      if (first == null || last == null || last[0] <= first[0]) {
        return Double.NaN;
      }
      return (last[1] - first[1]) / (last[0] - first[0]);
    }
  }
}
