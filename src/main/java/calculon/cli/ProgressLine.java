package calculon.cli;

import calculon.search.Progress;
import calculon.util.PyFormat;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.Optional;
import calculon.util.ProgressBars;
import me.tongfei.progressbar.ProgressBar;

/**
 * The progress display of a running search on stderr, drawn by the me.tongfei progressbar library
 * ({@link ProgressBars}):
 * executions done of the total, executions per second, ETA and the best sample rate so far.
 * A bar redrawn in place on a terminal; plain lines every few seconds for logs and pipes
 * ({@code --progress}); nothing with {@code --quiet}. The ETA comes from {@link SettledRate}: none
 * while the JVM warms up, then from the recent rate.
 */
final class ProgressLine implements AutoCloseable {
  /** Milliseconds between redraws on a terminal. */
  static final int TERMINAL_INTERVAL_MILLIS = 1_000;
  /** How long closing waits for the poller thread to stop (it sleeps 250 ms between polls). */
  static final int POLLER_JOIN_MILLIS = 2_000;

  private final Progress progress;
  private final ProgressBar bar;
  private final SettledRate rate = new SettledRate();
  private final Thread poller;
  private volatile boolean stop;

  ProgressLine(Progress progress, PrintStream err, ProgressBars.Mode mode) {
    this.progress = progress;
    if (mode == ProgressBars.Mode.OFF) {
      bar = null;
      poller = null;
      return;
    }
    bar = ProgressBars.builder("search", mode, err, TERMINAL_INTERVAL_MILLIS)
        .setInitialMax(Math.max(progress.total(), 1))
        .setEtaFunction(state -> rate.eta(state.getMax() - state.getCurrent()))
        .build();
    poller = new Thread(this::poll, "search-progress");
    poller.setDaemon(true);
    poller.start();
  }

  private void poll() {
    long t0 = System.nanoTime();
    while (!stop) {
      long done = progress.done();
      rate.observe((System.nanoTime() - t0) / 1e9, done);
      bar.stepTo(done);
      bar.setExtraMessage(extra(rate.recentRate(), progress.best()));
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  static String extra(double perSecond, double best) {
    return String.format(Locale.ROOT, " %,.0f cfg/s, best %s", Double.isNaN(perSecond) ? 0.0 : perSecond,
        Double.isNaN(best) ? "-" : PyFormat.repr(best));
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
      bar.stepTo(progress.done());
      bar.close();
    }
  }

  /**
   * An ETA from a rate that has settled. A search's first seconds run slower (the JIT compiles the
   * model) and an ETA from the average since the start overstates the rest many times (a first
   * ETA of ten minutes for a 21-second search, issue 13). So: the rate is measured over the last
   * {@link #WINDOW_SECONDS} seconds only, and no ETA is given until that rate agrees within
   * {@link #AGREEMENT} with the rate of the window that ended {@link #LAG_SECONDS} earlier.
   * Thread-safe.
   */
  static final class SettledRate {
    static final double WINDOW_SECONDS = 4;
    static final double LAG_SECONDS = 2;
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

    /** Whether the rate has settled (an ETA is given from then on). */
    synchronized boolean settled() { return settled; }

    /** The time {@code remaining} executions take at the recent rate; empty until it has settled. */
    synchronized Optional<Duration> eta(long remaining) {
      double r = recentRate();
      if (!settled || !(r > 0)) {
        return Optional.empty();
      }
      return Optional.of(Duration.ofMillis(Math.round(Math.max(remaining, 0) / r * 1000)));
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
