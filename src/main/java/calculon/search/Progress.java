package calculon.search;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Live tallies a running search publishes for a progress display: executions done (evaluated,
 * rejected or skipped by {@code -m}) and the best sample rate so far. Updated per microbatch block,
 * not per execution, and without locks.
 */
public final class Progress {
  private final LongAdder done = new LongAdder();
  private final AtomicLong bestBits = new AtomicLong(Double.doubleToRawLongBits(Double.NaN));
  private volatile long total;

  public void setTotal(long total) { this.total = total; }

  /** Executions the search will consider (an upper bound with {@code -m}). */
  public long total() { return total; }

  public void add(long n) { done.add(n); }

  public long done() { return done.sum(); }

  /** Records a sample rate; keeps the maximum. */
  public void offerBest(double rate) {
    if (Double.isNaN(rate)) {
      return;
    }
    while (true) {
      long cur = bestBits.get();
      double c = Double.longBitsToDouble(cur);
      if (!Double.isNaN(c) && c >= rate) {
        return;
      }
      if (bestBits.compareAndSet(cur, Double.doubleToRawLongBits(rate))) {
        return;
      }
    }
  }

  /** Best sample rate so far, NaN when none. */
  public double best() { return Double.longBitsToDouble(bestBits.get()); }
}
