package calculon.search;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Live tallies a running search publishes for a progress display: executions done (evaluated or
 * counted good or bad without a call: the summary's "Total executions" so far), the executions
 * still to come, and the best sample rate so far. Updated per microbatch block, not per execution,
 * and without locks. The executions a {@code -m} break skips are taken off the total
 * ({@link #skip}), not counted done: the summary does not count them, so a finished search ends
 * with {@code done() == total() ==} its {@code Counts.total}.
 */
public final class Progress {
  private final LongAdder done = new LongAdder();
  private final AtomicLong bestBits = new AtomicLong(Double.doubleToRawLongBits(Double.NaN));
  private final AtomicLong total = new AtomicLong();

  public void setTotal(long total) { this.total.set(total); }

  /**
   * Executions the search will count: the space's size less what {@code -m} breaks skipped so far
   * (an upper bound while a {@code -m} search runs, exact once it has finished).
   */
  public long total() { return total.get(); }

  /** Counts {@code n} executions done (they are in the summary's "Total executions"). */
  public void add(long n) { done.add(n); }

  /** Takes {@code n} executions a {@code -m} break skipped off the total (the summary does not count them). */
  public void skip(long n) { total.addAndGet(-n); }

  public long done() { return done.sum(); }

  /**
   * Records the sample rate of a good execution; keeps the maximum. The search offers every rate
   * it evaluates, so once it has finished this is the summary's "Best sample rate" (the top N
   * result's rate, which the full evaluation reproduces bit for bit: {@code PartitionRunner}).
   */
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
