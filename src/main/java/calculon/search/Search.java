package calculon.search;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a {@link SearchSpace} over several threads. Workers claim partitions in order from a shared
 * counter (dynamic load balancing, no lock on the hot path), evaluate them independently and
 * store each result in its own slot. Results are merged in partition order, so the outcome is the
 * same for any thread count. {@link #cancel()} (from a signal handler, say) stops the workers at
 * the next microbatch block; the outcome then covers what was done and says so.
 */
public final class Search {
  private final SearchSpace space;
  private final ExecutionEvaluator evaluator;
  private volatile boolean cancelled;
  private boolean inferInfeasible = true;
  private boolean pruneByBound = true;

  public Search(SearchSpace space, ExecutionEvaluator evaluator) {
    this.space = space;
    this.evaluator = evaluator;
  }

  /**
   * Whether a model rejection of one tier-valid assignment marks the rest of its block bad without
   * evaluating them (default true; see {@link PartitionRunner}). Counts and results are the same
   * either way when the model's non-tier rejections do not depend on the tiers.
   */
  public Search inferInfeasible(boolean on) {
    this.inferInfeasible = on;
    return this;
  }

  /**
   * Whether a block's tier assignments whose sample-rate bound cannot enter the top N are counted
   * good without evaluating them, once the model accepted one of the block (default true; only
   * with {@link #inferInfeasible} on, never with a result sink; see {@link PartitionRunner}).
   * Results and counts are the same either way.
   */
  public Search pruneByBound(boolean on) {
    this.pruneByBound = on;
    return this;
  }

  public void cancel() { cancelled = true; }

  public boolean isCancelled() { return cancelled; }

  /**
   * The result of a run. Its counts and best cover exactly the partitions it searched: the
   * {@code partitionsDone} whole ones and, of an interrupted run, the blocks done of the
   * {@code partitionsCutShort} it stopped inside (each counted as a search of it alone counts it).
   * The {@code reference*} tallies are the same for the partitions that stand for reference
   * executions ({@link Partition#standsForReference}), the only ones the reference-equivalent
   * counts ({@link Counts#refTotal}) come from.
   */
  public record Outcome(List<SearchResult> best, Counts counts, boolean interrupted,
                        long elapsedNanos, int partitionsDone, int partitionsTotal, int partitionsCutShort,
                        int referencePartitionsDone, int referencePartitionsTotal,
                        int referencePartitionsCutShort) {}

  /**
   * @param threads  worker threads (1 runs in the calling thread)
   * @param sink     receives every good result in enumeration order, or null to keep only the top N
   * @param progress live tallies, or null
   */
  public Outcome run(int threads, ResultSink sink, Progress progress) throws IOException {
    long t0 = System.nanoTime();
    List<Partition> parts = space.partitions();
    int n = parts.size();
    PartitionResult[] results = new PartitionResult[n];
    AtomicInteger next = new AtomicInteger();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    OrderedSink ordered = sink == null ? null : new OrderedSink(sink);
    PartitionRunner runner = new PartitionRunner(space, evaluator, inferInfeasible,
        inferInfeasible && pruneByBound);
    RateBar bar = new RateBar(space.options().topN());

    Runnable work = () -> {
      try {
        while (!cancelled && failure.get() == null) {
          int i = next.getAndIncrement();
          if (i >= n) {
            break;
          }
          PartitionResult r = runner.run(parts.get(i), sink != null, progress,
              () -> cancelled || failure.get() != null, bar);
          if (ordered != null) {
            // rows are formatted here, in parallel; the sink takes them in partition order
            ordered.complete(i, r, sink.prepare(r.partition(), r.all()));
            r = new PartitionResult(r.partition(), r.counts(), r.top(), null, r.partial());
          }
          results[i] = r;
        }
      } catch (Throwable e) {
        failure.compareAndSet(null, e);
      }
    };

    int nt = Math.max(1, Math.min(threads, n));
    if (nt == 1) {
      work.run();
    } else {
      List<Thread> ts = new ArrayList<>();
      for (int k = 0; k < nt; k++) {
        Thread t = new Thread(work, "search-" + k);
        t.setDaemon(true);
        ts.add(t);
        t.start();
      }
      for (Thread t : ts) {
        boolean joined = false;
        while (!joined) {
          try {
            t.join();
            joined = true;
          } catch (InterruptedException e) {
            cancelled = true;
          }
        }
      }
    }
    Throwable f = failure.get();
    if (f instanceof IOException io) {
      throw io;
    } else if (f instanceof RuntimeException re) {
      throw re;
    } else if (f instanceof Error er) {
      throw er;
    } else if (f != null) {
      throw new SearchFailure(f.toString(), f);
    }

    Counts counts = new Counts();
    TopN top = new TopN(space.options().topN());
    int done = 0;
    int cutShort = 0;
    int refDone = 0, refCutShort = 0, refTotal = 0;
    for (int i = 0; i < n; i++) {
      boolean ref = parts.get(i).standsForReference();
      refTotal += ref ? 1 : 0;
      PartitionResult r = results[i];
      if (r == null) {
        continue;
      }
      done += r.partial() ? 0 : 1;
      cutShort += r.partial() ? 1 : 0;
      refDone += ref && !r.partial() ? 1 : 0;
      refCutShort += ref && r.partial() ? 1 : 0;
      counts.add(r.counts());
      top.merge(r.top());
    }
    boolean interrupted = cutShort > 0 || done < n;
    return new Outcome(top.results(), counts, interrupted, System.nanoTime() - t0, done, n, cutShort,
        refDone, refTotal, refCutShort);
  }

  /** Hands partitions to the sink in index order; buffers the ones that finish early. */
  private static final class OrderedSink {
    private final ResultSink sink;
    private final Map<Integer, PartitionResult> waiting = new HashMap<>();
    private final Map<Integer, Object> prepared = new HashMap<>();
    private int nextIndex;

    OrderedSink(ResultSink sink) { this.sink = sink; }

    synchronized void complete(int index, PartitionResult r, Object prep) throws IOException {
      waiting.put(index, r);
      prepared.put(index, prep);
      PartitionResult q;
      while ((q = waiting.remove(nextIndex)) != null) {
        sink.accept(q.partition(), q.all(), q.partial(), prepared.remove(nextIndex));
        nextIndex++;
      }
    }
  }
}
