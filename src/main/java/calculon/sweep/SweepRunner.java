package calculon.sweep;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import calculon.util.ProgressBars;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressState;

/**
 * Runs a sweep into its output: the points not yet written, on an engine, appended in point order,
 * with progress (points done, rate, ETA, best sample rate so far) on stderr through the
 * me.tongfei progressbar library ({@link ProgressBars}).
 */
public final class SweepRunner {
  /** Milliseconds between redraws on a terminal. */
  static final int TERMINAL_INTERVAL_MILLIS = 500;

  private SweepRunner() {}

  /**
   * What a run did.
   *
   * @param notRun the points done (kept from an earlier run or evaluated now) that gave no result
   */
  public record Outcome(long pointsTotal, long resumedFrom, long pointsDone, boolean interrupted,
                        double bestRate, String bestLabel, long elapsedNanos, NotRun notRun) {}

  /**
   * Evaluates the points of {@code sweep} from {@code output.resumeFrom()} on, writing each; when
   * the last point is written, marks the output complete ({@link SweepOutput#markComplete()}).
   *
   * @param cancelled polled between points (Ctrl-C)
   */
  public static Outcome run(Sweep sweep, SweepOutput output, SweepEngine engine, ProgressBars.Mode mode,
                            PrintStream err, BooleanSupplier cancelled) throws IOException {
    long t0 = System.nanoTime();
    long total = sweep.size();
    long from = output.resumeFrom();
    long[] done = {from};
    // the points kept from a previous run count: the best is the same with or without a resume
    Sweep.PointBest[] best = {output.resumedBest()};
    NotRun[] notRun = {output.resumedNotRun()};
    if (from == total) {
      // a finished output: nothing to evaluate, no progress to show
      return new Outcome(total, from, from, false, best[0].rate(), best[0].label(), System.nanoTime() - t0, notRun[0]);
    }
    ProgressBar bar = mode == ProgressBars.Mode.OFF ? null
        : ProgressBars.builder("sweep", mode, err, TERMINAL_INTERVAL_MILLIS, " points", ProgressBars::linearEta,
            (state, compact) -> fields(state, best[0].rate(), compact))
        .setInitialMax(total)
        .startsFrom(from, Duration.ZERO)
        .build();
    try {
      engine.run(sweep, from, total, r -> {
        output.write(r);
        done[0] = r.index() + 1;
        best[0] = better(best[0], new Sweep.PointBest(r.bestRate(), "point " + r.index() + ": " + r.bestLabel()));
        // a point with no result: its label is its status (Sweep.PointBest)
        notRun[0] = Double.isNaN(r.bestRate()) ? notRun[0].plus(r.index(), r.bestLabel()) : notRun[0];
        if (bar != null) {
          bar.stepTo(done[0]);
        }
      }, cancelled);
    } finally {
      if (bar != null) {
        bar.close();
      }
    }
    if (done[0] == total && from < total) {
      output.markComplete();
    }
    return new Outcome(total, from, done[0], done[0] < total, best[0].rate(), best[0].label(), System.nanoTime() - t0,
        notRun[0]);
  }

  /**
   * The bar's fields: points per second since this run started (a resume's earlier points not
   * counted; "?" before a millisecond has passed), and the best sample rate so far
   * ({@code 20.56 points/s}, {@code best 137.7621 samples/s}; {@code compact}: {@code 20.56/s},
   * {@code best 137.7621}).
   */
  static List<String> fields(ProgressState state, double best, boolean compact) {
    double seconds = state.getElapsedAfterStart().toMillis() / 1e3;
    String speed = seconds > 0 ? String.format(Locale.ROOT, "%.2f", (state.getCurrent() - state.getStart()) / seconds) : "?";
    return List.of(speed + (compact ? "/s" : " points/s"), "best " + Sweep.rate(best) + (compact ? "" : " samples/s"));
  }

  /**
   * The sweep's best so far after a later point {@code next}: the earlier one unless the later is
   * strictly faster (of tied points the first in point order is named), NaN never winning.
   */
  static Sweep.PointBest better(Sweep.PointBest sofar, Sweep.PointBest next) {
    if (Double.isNaN(next.rate()) || next.rate() <= sofar.rate()) {
      return sofar;
    }
    return next;
  }
}
