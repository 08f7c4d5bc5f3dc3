package calculon.search;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.zip.GZIPOutputStream;

/**
 * {@code -d}'s measured cost of a search: runs a sample of the space's partitions with the search's
 * own machinery ({@link PartitionRunner}: tier rejections without a call, a model rejection
 * inferred for the rest of its block, the best-N bound, {@code -m}, and with {@code collectAll}
 * every good result kept and formatted as the output's rows), with the evaluator and thread count
 * the search would use, for a time budget, and extrapolates by executions. Nothing here is a
 * speed constant: the time and the bytes are what the sample took.
 *
 * <p>The partitions are taken in a fixed order spread over the whole space (a stride of about
 * 0.618 of the partition count, coprime to it, so every partition comes once and any prefix of
 * the order is spread). The threads' progress is read every {@link #WINDOW_NANOS} (the executions
 * of every finished (prefix, microbatch) block, {@link Progress}, and those {@code -m} skipped).
 * First a warm-up, while the JIT compiles the model: it ends when a window's rate is no more than
 * {@link #SETTLED_RATIO} above the window before (at least {@link #MIN_WARMUP_NANOS}, at most
 * {@code maxWarmupNanos}); then {@code measureNanos} are timed: the executions covered in them per
 * second of wall time (all threads together, as the search's "Calculation rate") divide the
 * space's executions. At the end the partitions under way stop after their current block, as an
 * interrupted search's do. A sample that finishes the whole space is the search: its time is the
 * time it took. Rows and bytes scale by executions from every sampled partition (one run in full
 * covers its size, one stopped covers what it counted).
 *
 * <p>What the sample cannot see: the real search shares the layer-block cache and the best-N bar
 * between neighbouring partitions, which a spread sample has fewer of, and its JIT goes on
 * compiling after the warm-up; so the estimate leans long. The machine's load at the time of the
 * sample moves it as it moves the search.
 */
public final class DryRunEstimate {
  private DryRunEstimate() {}

  /** The warm-up's cap: {@code -d} stays quick (with the measurement, under 3 s in all). */
  public static final long DEFAULT_MAX_WARMUP_NANOS = 2_000_000_000L;
  /** The timed part after the warm-up. */
  public static final long DEFAULT_MEASURE_NANOS = 750_000_000L;
  /** The warm-up's floor: the first windows are class loading and interpretation. */
  static final long MIN_WARMUP_NANOS = 250_000_000L;
  /** How often the threads' progress is read. */
  static final long WINDOW_NANOS = 250_000_000L;
  /** A window at most this much faster than the one before ends the warm-up (the JIT has mostly done). */
  static final double SETTLED_RATIO = 1.15;
  /**
   * Fewer partitions run in full than this and the estimate says it rests on a small sample: the
   * usual rule of thumb for a sample mean (about 30 draws before the central limit theorem makes
   * the mean's spread small) for a cost that differs by orders of magnitude between partitions.
   */
  public static final int MIN_WHOLE_PARTITIONS = 30;
  /** 1/phi: the stride, as a fraction of the partition count, of the sample's order (a spread, low-discrepancy order). */
  private static final double GOLDEN_FRACTION = 0.6180339887498949;

  /**
   * What the sample measured and its extrapolation.
   *
   * @param partitionsTotal    partitions of the space
   * @param partitionsSampled  partitions the sample ran (in full or in part)
   * @param partitionsCutShort of those, the ones stopped in part when the time was up
   * @param executionsTotal    distinct executions of the space ({@link SearchSpace#size()})
   * @param executionsSampled  executions the sampled partitions covered (a partition run in full
   *                           covers its size; one stopped at the end of the budget, what it counted)
   * @param executionsTimed    executions covered in the timed part (all of them when the sample was
   *                           the whole space)
   * @param evaluations        model calls of the whole sample
   * @param threads            threads that sampled, as many as the search would run
   * @param timedNanos         wall time of the timed part (the whole sample when it was the whole space)
   * @param warmupNanos        wall time of the warm-up
   * @param rowsSampled        good executions of the sampled partitions (rows of a file of all), 0 when not formatted
   * @param rowBytes           their rows in bytes, header not included
   * @param rowGzipBytes       the same rows gzip-compressed (one stream per sampling thread), -1 when not asked
   * @param firstHalfExecutions executions covered in the first half of the timed part (read at the first
   *                           window at or past its middle), -1 when not measured
   * @param firstHalfNanos     wall time of that first half, -1 when not measured
   */
  public record Result(int partitionsTotal, int partitionsSampled, int partitionsCutShort, long executionsTotal,
                       long executionsSampled,
                       long executionsTimed, long evaluations, int threads, long timedNanos, long warmupNanos,
                       long rowsSampled, long rowBytes, long rowGzipBytes,
                       long firstHalfExecutions, long firstHalfNanos) {

    /** A result without the timed part's halves (the rate's trend not measured). */
    public Result(int partitionsTotal, int partitionsSampled, int partitionsCutShort, long executionsTotal,
                  long executionsSampled, long executionsTimed, long evaluations, int threads, long timedNanos,
                  long warmupNanos, long rowsSampled, long rowBytes, long rowGzipBytes) {
      this(partitionsTotal, partitionsSampled, partitionsCutShort, executionsTotal, executionsSampled, executionsTimed,
          evaluations, threads, timedNanos, warmupNanos, rowsSampled, rowBytes, rowGzipBytes, -1, -1);
    }

    /**
     * Whether the sample ran fewer than {@link #MIN_WHOLE_PARTITIONS} partitions in full (and was
     * not the whole space): partitions' costs differ by orders of magnitude (a partition whose
     * tier assignments all break a network rule costs no model call, another one per execution),
     * so so few of them say little about the mean.
     */
    public boolean smallSample() {
      return !complete() && partitionsSampled - partitionsCutShort < MIN_WHOLE_PARTITIONS;
    }

    /**
     * Whether the rate was still rising through the timed part: its second half covered
     * executions more than {@link #SETTLED_RATIO} times faster than its first half (the warm-up's
     * own "settled" test), so the JIT was still compiling and the rate, hence the estimate,
     * rests on a warm-up and reads long. False when the halves were not measured.
     */
    public boolean rateStillRising() {
      long secondNanos = timedNanos - firstHalfNanos;
      long secondExecutions = executionsTimed - firstHalfExecutions;
      if (complete() || firstHalfExecutions < 0 || firstHalfNanos <= 0 || secondNanos <= 0) {
        return false;
      }
      // second rate > ratio x first rate, cross-multiplied (no division by a zero count)
      return (double) secondExecutions * firstHalfNanos > SETTLED_RATIO * firstHalfExecutions * secondNanos;
    }

    /** Estimated seconds of the search on {@code threads} threads: the timed rate's time for the whole space. */
    public double seconds() {
      return executionsTimed == 0 ? 0 : timedNanos / 1e9 * ((double) executionsTotal / executionsTimed);
    }

    /** Whether every partition was run in full (then the time, rows and bytes are the search's). */
    public boolean complete() {
      return partitionsSampled == partitionsTotal && executionsSampled == executionsTotal;
    }

    /** Rows a search writing every good execution would write: the sample's rows, scaled by executions. */
    public long estimatedRows() {
      return executionsSampled == 0 ? 0 : Math.round((double) rowsSampled * executionsTotal / executionsSampled);
    }

    /** Their bytes: the sample's bytes per row times the rows (header not included). */
    public long estimatedRowBytes() {
      return rowsSampled == 0 ? 0 : Math.round((double) rowBytes * estimatedRows() / rowsSampled);
    }

    /** The rows gzip-compressed, at the sample's compression ratio; -1 when not measured. */
    public long estimatedRowGzipBytes() {
      return rowGzipBytes < 0 ? -1 : rowBytes == 0 ? 0 : Math.round((double) rowGzipBytes * estimatedRowBytes() / rowBytes);
    }
  }

  /**
   * Samples {@code space}.
   *
   * @param evaluator      the evaluator the search would use
   * @param threads        threads the search would use (capped, as the search caps them, at the partitions)
   * @param collectAll     the search keeps every good execution (a result file of all, or a report's
   *                       points): full stats for each, no bound pruning
   * @param rows           with {@code collectAll}, formats a partition's good results as the output's rows
   *                       (in the worker, as the search formats them), or null when none are written
   * @param gzip           also compress the rows (a {@code .gz} output)
   * @param maxWarmupNanos the warm-up's cap
   * @param measureNanos   the timed part after it
   * @throws SearchFailure when the model fails on an execution (as the search would)
   */
  public static Result measure(SearchSpace space, ExecutionEvaluator evaluator, int threads, boolean collectAll,
                               Function<List<SearchResult>, byte[]> rows, boolean gzip,
                               long maxWarmupNanos, long measureNanos) {
    List<Partition> parts = space.partitions();
    int n = parts.size();
    long stride = Math.max(1, Math.round(n * GOLDEN_FRACTION));
    while (n > 1 && gcd(stride, n) != 1) {
      stride++;
    }
    int nt = Math.max(1, Math.min(threads, n));
    PartitionRunner runner = new PartitionRunner(space, evaluator, true, true);
    RateBar bar = new RateBar(space.options().topN());
    long total = space.size();
    Progress progress = new Progress();
    progress.setTotal(total);
    AtomicLong next = new AtomicLong();
    Sampler[] samplers = new Sampler[nt];
    List<Thread> ts = new ArrayList<>();
    AtomicReference<RuntimeException> failure = new AtomicReference<>();
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    final long fStride = stride;
    long t0 = System.nanoTime();
    for (int k = 0; k < nt; k++) {
      Sampler s = new Sampler(collectAll ? rows : null, gzip);
      samplers[k] = s;
      Runnable work = () -> {
        try {
          while (failure.get() == null && !stop.get()) {
            long i = next.getAndIncrement();
            if (i >= n) {
              break;
            }
            Partition p = parts.get((int) ((i * fStride) % n));
            PartitionResult r = runner.run(p, collectAll, progress, () -> failure.get() != null || stop.get(), bar);
            s.add(space.plan(p).size(), r);
          }
        } catch (RuntimeException e) {
          failure.compareAndSet(null, e);
        }
      };
      Thread t = new Thread(work, "dry-run-sample-" + k);
      t.setDaemon(true);
      ts.add(t);
      t.start();
    }
    // the warm-up, then the timed part, read in windows
    long prevCovered = 0;
    double prevRate = -1;
    long warmEnd = -1;
    long coveredAtWarmEnd = 0;
    long now = t0;
    long midNanos = -1;
    long midCovered = -1;
    boolean finished = false;
    while (true) {
      finished = join(ts, WINDOW_NANOS);
      now = System.nanoTime();
      long covered = covered(progress, total);
      if (finished || failure.get() != null) {
        break;
      }
      if (warmEnd < 0) {
        double rate = (covered - prevCovered) / (double) WINDOW_NANOS;
        boolean settled = prevRate > 0 && rate <= SETTLED_RATIO * prevRate;
        if (now - t0 >= maxWarmupNanos || (now - t0 >= MIN_WARMUP_NANOS && settled)) {
          warmEnd = now;
          coveredAtWarmEnd = covered;
        }
        prevRate = rate;
        prevCovered = covered;
      } else if (now - warmEnd >= measureNanos) {
        break;
      } else if (midNanos < 0 && now - warmEnd >= measureNanos / 2) {
        // the timed part's first half, to tell whether its rate was still rising
        midNanos = now - warmEnd;
        midCovered = covered - coveredAtWarmEnd;
      }
    }
    stop.set(true);
    long coveredAtEnd = covered(progress, total);
    join(ts, Long.MAX_VALUE);
    if (failure.get() != null) {
      throw failure.get();
    }
    int sampled = 0;
    int cutShort = 0;
    long coveredAll = 0;
    long evals = 0;
    long rowsN = 0;
    long bytes = 0;
    long gz = gzip && rows != null && collectAll ? 0 : -1;
    for (Sampler s : samplers) {
      sampled += s.partitions;
      cutShort += s.cutShort;
      coveredAll += s.executions;
      evals += s.evaluations;
      rowsN += s.rows;
      bytes += s.bytes;
      if (gz >= 0) {
        gz += s.gzipBytes();
      }
    }
    boolean whole = finished && sampled == n && coveredAll == total;
    long timedNanos;
    long timedExecutions;
    long warmup;
    if (whole || warmEnd < 0) {
      // the whole space (the search itself), or the sample stopped before its warm-up did: all of it
      timedNanos = now - t0;
      timedExecutions = coveredAtEnd;
      warmup = 0;
    } else {
      timedNanos = now - warmEnd;
      timedExecutions = coveredAtEnd - coveredAtWarmEnd;
      warmup = warmEnd - t0;
    }
    boolean halves = !(whole || warmEnd < 0) && midNanos > 0 && midNanos < timedNanos;
    return new Result(n, sampled, cutShort, total, coveredAll, timedExecutions, evals, nt, timedNanos, warmup, rowsN, bytes, gz,
        halves ? midCovered : -1, halves ? midNanos : -1);
  }

  /** Executions covered so far: those of finished blocks and those {@code -m} skipped. */
  private static long covered(Progress progress, long total) {
    return progress.done() + (total - progress.total());
  }

  /** Waits up to {@code nanos} for all of {@code ts}; whether they all ended. */
  private static boolean join(List<Thread> ts, long nanos) {
    long deadline = nanos == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + nanos;
    for (Thread t : ts) {
      try {
        while (t.isAlive()) {
          long left = deadline == Long.MAX_VALUE ? 0 : deadline - System.nanoTime();
          if (deadline != Long.MAX_VALUE && left <= 0) {
            return false;
          }
          t.join(deadline == Long.MAX_VALUE ? 0 : Math.max(1, left / 1_000_000));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  private static long gcd(long a, long b) {
    while (b != 0) {
      long t = a % b;
      a = b;
      b = t;
    }
    return a;
  }

  /** One sampling thread's partitions, rows and compressed bytes. */
  private static final class Sampler {
    private final Function<List<SearchResult>, byte[]> rowsOf;
    private final CountingStream gzCount;
    private final GZIPOutputStream gz;
    int partitions;
    int cutShort;
    long executions;
    long evaluations;
    long rows;
    long bytes;

    Sampler(Function<List<SearchResult>, byte[]> rowsOf, boolean gzip) {
      this.rowsOf = rowsOf;
      this.gzCount = gzip && rowsOf != null ? new CountingStream() : null;
      try {
        this.gz = gzCount == null ? null : new GZIPOutputStream(gzCount, 1 << 16);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** One partition run (of {@code size} executions): its rows formatted (and compressed). */
    void add(long size, PartitionResult r) {
      if (rowsOf != null && r.all() != null && !r.all().isEmpty()) {
        byte[] b = rowsOf.apply(r.all());
        rows += r.all().size();
        bytes += b.length;
        if (gz != null) {
          try {
            gz.write(b);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      }
      partitions++;
      cutShort += r.partial() ? 1 : 0;
      // a partition stopped at the end of the budget covered what it counted
      executions += r.partial() ? r.counts().total : size;
      evaluations += r.counts().evaluated;
    }

    long gzipBytes() {
      if (gz == null) {
        return 0;
      }
      try {
        gz.finish();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return gzCount.count;
    }
  }

  /** Counts the bytes written to it and keeps none. */
  private static final class CountingStream extends OutputStream {
    long count;

    @Override
    public void write(int b) {
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      count += len;
    }
  }
}
