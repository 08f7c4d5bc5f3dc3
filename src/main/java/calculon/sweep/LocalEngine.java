package calculon.sweep;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * The default engine: worker threads on this machine claim points in order from a shared counter
 * and evaluate them; the calling thread hands results to the sink in point order. Workers run at
 * most {@link #WINDOW_PER_THREAD} points per thread ahead of the sink, so memory stays bounded.
 */
public final class LocalEngine implements SweepEngine {
  /** How far (points per thread) workers may run ahead of the oldest unwritten point. */
  static final int WINDOW_PER_THREAD = 16;

  private final int threads;

  /** @param threads worker threads, &gt; 0 */
  public LocalEngine(int threads) {
    if (threads <= 0) {
      throw new IllegalArgumentException("threads must be > 0");
    }
    this.threads = threads;
  }

  @Override
  public String describe() { return "local, " + threads + (threads == 1 ? " thread" : " threads"); }

  @Override
  public void run(Sweep sweep, long from, long to, Sink sink, BooleanSupplier cancelled) throws IOException {
    Object lock = new Object();
    Map<Long, PointResult> done = new HashMap<>();
    AtomicLong next = new AtomicLong(from);
    long[] written = {from};
    long window = (long) WINDOW_PER_THREAD * threads;
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Runnable work = () -> {
      try {
        while (!cancelled.getAsBoolean() && failure.get() == null) {
          long i = next.getAndIncrement();
          if (i >= to) {
            return;
          }
          synchronized (lock) {
            while (i - written[0] >= window && failure.get() == null && !cancelled.getAsBoolean()) {
              lock.wait(200);
            }
          }
          PointResult r = sweep.evaluate(i);
          synchronized (lock) {
            done.put(i, r);
            lock.notifyAll();
          }
        }
      } catch (Throwable e) {
        failure.compareAndSet(null, e);
        synchronized (lock) {
          lock.notifyAll();
        }
      }
    };
    List<Thread> ts = new ArrayList<>();
    for (int k = 0; k < threads; k++) {
      Thread t = new Thread(work, "sweep-" + k);
      t.setDaemon(true);
      ts.add(t);
      t.start();
    }
    try {
      while (written[0] < to) {
        PointResult r;
        synchronized (lock) {
          while ((r = done.remove(written[0])) == null) {
            if (failure.get() != null || (cancelled.getAsBoolean() && allDone(ts))) {
              break;
            }
            lock.wait(200);
          }
        }
        if (r == null) {
          if (failure.get() != null || cancelled.getAsBoolean()) {
            break;
          }
          continue;
        }
        sink.accept(r);
        synchronized (lock) {
          written[0]++;
          lock.notifyAll();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      for (Thread t : ts) {
        if (failure.get() != null || cancelled.getAsBoolean()) {
          break;
        }
        try {
          t.join();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    Throwable f = failure.get();
    if (f instanceof RuntimeException re) {
      throw re;
    } else if (f instanceof Error er) {
      throw er;
    } else if (f != null) {
      throw new IllegalStateException(f);
    }
  }

  private static boolean allDone(List<Thread> ts) {
    for (Thread t : ts) {
      if (t.isAlive()) {
        return false;
      }
    }
    return true;
  }
}
