package calculon.search;

import java.util.PriorityQueue;

/**
 * The bar a result must clear to enter a search's top N, shared by the workers of one search:
 * the N-th best sample rate among the good results found so far, anywhere in the space (negative
 * infinity until N were found). Every rate offered is a real result of the space, so the final
 * N-th best is at least the bar: an execution whose rate, or upper bound of it, is strictly below
 * the bar cannot be in the top N (a rate equal to it still might, by enumeration order). Rising
 * only; thread-safe; reading is one volatile load.
 */
public final class RateBar {
  private final int n;
  private final PriorityQueue<Double> best = new PriorityQueue<>();
  private volatile double bar = Double.NEGATIVE_INFINITY;

  /** @param n the size of the top N (&gt; 0) */
  public RateBar(int n) {
    if (n <= 0) {
      throw new IllegalArgumentException("n must be > 0");
    }
    this.n = n;
  }

  /** The current bar. */
  public double bar() {
    return bar;
  }

  /** Whether a result whose rate is at most {@code rate} cannot enter the top N. */
  public boolean excludes(double rate) {
    return rate < bar;
  }

  /** Records the rate of a good result (NaN ranks last and never raises the bar). */
  public void offer(double rate) {
    if (!(rate > bar)) {
      return;
    }
    synchronized (this) {
      if (best.size() < n) {
        best.add(rate);
      } else if (rate > best.peek()) {
        best.poll();
        best.add(rate);
      }
      if (best.size() == n) {
        bar = best.peek();
      }
    }
  }
}
