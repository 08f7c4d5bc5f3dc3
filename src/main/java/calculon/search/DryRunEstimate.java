package calculon.search;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.zip.GZIPOutputStream;

/**
 * {@code -d}'s measured cost of a search: runs a sample of the space's partitions with the search's
 * own machinery ({@link PartitionRunner}: tier rejections without a call, a model rejection
 * inferred for the rest of its block, the best-N bound, {@code -m}, and with {@code collectAll}
 * every good result kept and formatted as the output's rows), with the evaluator and thread count
 * the search would use, for a time budget, and extrapolates. Nothing here is a speed constant: the
 * time and the bytes are what the sample took.
 *
 * <p>The sample plan ({@link #sampleOrder}): the partition list is cut into {@link #STRETCHES}
 * equal stretches, and the sample runs each stretch from its start in the search's own order, one
 * partition of each stretch in turn (the stretches in a spread order, so a round cut short is still
 * spread). So the sampled partitions are runs of neighbours, which share the layer-block cache and
 * the best-N bar as they do in the search, and the runs are spread over the whole list, so that
 * they stand for it. (It took partitions one by one, each far from the last, each paying a cold
 * cache: the MoE search of gpt-1.8T on 4,096 GB200s, 5 to 11 s, was estimated at 25 to 65 s.)
 *
 * <p>The threads' progress is read every {@link #WINDOW_NANOS}. First a warm-up, while the JIT
 * compiles the model and each stretch's first partitions fill the cache: it ends once {@link
 * #WARMUP_ROUNDS} rounds have started and a window's rate (executions covered per second) is no
 * more than {@link #SETTLED_RATIO} above the window before (at least {@link #MIN_WARMUP_NANOS}, at
 * most {@code maxWarmupNanos}); then {@code measureNanos} are timed. At the end the partitions
 * under way stop after their current block, as an interrupted search's do. The estimate is the
 * sample's own wall time plus, for each stretch, its executions the sample did not cover at the
 * stretch's timed cost per execution (the threads' time on its partitions of the rounds after the
 * warm-up's, run after the warm-up, over the executions they covered), over the threads ({@link
 * #restNanos}): a stretch the sample finished costs what it took, and the JIT's cost counts once,
 * as in the search. A sample that finishes the whole space is the search: its time is the time it
 * took. Rows and bytes scale by executions from every sampled partition (one run in full covers
 * its size, one stopped covers what it counted).
 *
 * <p>What the sample cannot see: each stretch past its sampled start, and the JIT's and the
 * cache's gains after the sample's few seconds, so that a short sample leans long (the line says
 * when its warm-up was cut short or its rate still rose). The machine's load at the time of the
 * sample moves it as it moves the search.
 */
public final class DryRunEstimate {
  private DryRunEstimate() {}

  /** The warm-up's cap: {@code -d} stays quick (with the measurement, under 5.5 s in all). */
  public static final long DEFAULT_MAX_WARMUP_NANOS = 4_000_000_000L;
  /** The timed part after the warm-up. */
  public static final long DEFAULT_MEASURE_NANOS = 1_000_000_000L;
  /** The warm-up's floor: the first windows are class loading and interpretation. */
  static final long MIN_WARMUP_NANOS = 250_000_000L;
  /** How often the threads' progress is read. */
  static final long WINDOW_NANOS = 250_000_000L;
  /** A window at most this much faster than the one before ends the warm-up (the JIT has mostly done). */
  static final double SETTLED_RATIO = 1.15;
  /**
   * Fewer partitions timed in full than this and the estimate says it rests on a small sample: the
   * usual rule of thumb for a sample mean (about 30 draws before the central limit theorem makes
   * the mean's spread small) for a cost that differs by orders of magnitude between partitions.
   */
  public static final int MIN_WHOLE_PARTITIONS = 30;
  /**
   * Stretches of the partition list the sample runs from their starts: about {@link
   * #MIN_WHOLE_PARTITIONS}, so that one round of the sample is a sample of that size spread over the
   * list, and few enough that a few seconds run several neighbours of each.
   */
  public static final int STRETCHES = 32;
  /**
   * Rounds of the plan (one partition of each stretch) the warm-up runs at least: in the MoE
   * search of gpt-1.8T on 4,096 GB200s the first three rounds took 3 to 9 times as long as the same
   * partitions in the search (the JIT compiling, the layer-block cache filling), the later ones
   * about as long.
   */
  static final int WARMUP_ROUNDS = 3;
  /** 1/phi: the stride, as a fraction of the stretch count, of the order the stretches take turns in (a spread, low-discrepancy order). */
  private static final double GOLDEN_FRACTION = 0.6180339887498949;

  /**
   * What the sample measured and its extrapolation.
   *
   * @param partitionsTotal    partitions of the space
   * @param partitionsSampled  partitions the sample ran (in full or in part)
   * @param partitionsCutShort of those, the ones stopped in part when the time was up
   * @param stretches          stretches of the partition list the sample ran from their starts
   * @param partitionsTimed    partitions started after the warm-up and run in full (what the
   *                           timed cost of their stretches rests on)
   * @param executionsTotal    distinct executions of the space ({@link SearchSpace#size()})
   * @param executionsSampled  executions the sampled partitions covered (a partition run in full
   *                           covers its size; one stopped at the end of the budget, what it counted)
   * @param executionsTimed    of those, the ones covered after the warm-up (all of them when the
   *                           sample was the whole space)
   * @param evaluations        model calls of the whole sample
   * @param threads            threads that sampled, as many as the search would run
   * @param sampleNanos        wall time of the whole sample, warm-up included
   * @param warmupNanos        wall time of the warm-up (0 when the sample was the whole space)
   * @param warmupCapped       the warm-up stopped at its cap, before its rounds were run or the rate settled
   * @param timedNanos         wall time after the warm-up (the whole sample when it was the whole space)
   * @param restNanos          the estimated wall time of the executions the sample did not cover
   *                           ({@link #restNanos(long[], long[], long[], long[], int)}), 0 when it was the whole space
   * @param rowsSampled        good executions of the sampled partitions (rows of a file of all), 0 when not formatted
   * @param rowBytes           their rows in bytes, header not included
   * @param rowGzipBytes       the same rows gzip-compressed (one stream per sampling thread), -1 when not asked
   * @param firstHalfExecutions executions covered in the first half of the timed part (read at the first
   *                           window at or past its middle), -1 when not measured
   * @param firstHalfNanos     wall time of that first half, -1 when not measured
   */
  public record Result(int partitionsTotal, int partitionsSampled, int partitionsCutShort, int stretches,
                       int partitionsTimed, long executionsTotal, long executionsSampled, long executionsTimed,
                       long evaluations, int threads, long sampleNanos, long warmupNanos, boolean warmupCapped,
                       long timedNanos,
                       long restNanos, long rowsSampled, long rowBytes, long rowGzipBytes,
                       long firstHalfExecutions, long firstHalfNanos) {

    /**
     * Whether the sample timed fewer than {@link #MIN_WHOLE_PARTITIONS} partitions in full (and was
     * not the whole space): partitions' costs differ by orders of magnitude (a partition whose
     * tier assignments all break a network rule costs no model call, another one per execution),
     * so so few of them say little about the mean.
     */
    public boolean smallSample() {
      return !complete() && partitionsTimed < MIN_WHOLE_PARTITIONS;
    }

    /**
     * Whether the warm-up stopped at its cap (and the sample was not the whole space) before
     * {@link #WARMUP_ROUNDS} rounds had started and the rate had settled: the timed part then
     * still pays the JIT's compiling and the cache's filling, and the estimate reads long.
     */
    public boolean warmupCut() {
      return !complete() && warmupCapped;
    }

    /**
     * Whether the rate was still rising through the timed part: its second half covered
     * executions more than {@link #SETTLED_RATIO} times faster than its first half (the warm-up's
     * own "settled" test), so the JIT was still compiling and the timed cost, hence the estimate,
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

    /** Estimated seconds of the search on {@code threads} threads: the sample's time and the rest's. */
    public double seconds() {
      return (sampleNanos + restNanos) / 1e9;
    }

    /** Whether every partition was run in full (then the time, rows and bytes are the search's). */
    public boolean complete() {
      return partitionsSampled == partitionsTotal && partitionsCutShort == 0 && executionsSampled == executionsTotal;
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
   * Where each of {@code stretches} stretches of {@code n} partitions starts: stretch {@code j}
   * holds the partitions from {@code floor(j n / k)} to the next one's start (the last to {@code n}),
   * with {@code k} the stretches, at most {@code n}; one more entry, {@code n}, ends the last.
   */
  public static int[] stretchStarts(int n, int stretches) {
    int k = Math.max(1, Math.min(stretches, n));
    int[] starts = new int[k + 1];
    for (int j = 0; j <= k; j++) {
      starts[j] = (int) ((long) j * n / k);
    }
    return starts;
  }

  /**
   * The order the sample takes the {@code n} partitions in (every one once; it runs a prefix): in
   * round {@code r}, partition {@code r} of each stretch ({@link #stretchStarts}) still that long,
   * the stretches in a spread order (stride about 0.618 of their count, coprime to it). So any
   * prefix runs the stretches' first partitions in their own order, as neighbours, and about as
   * many of each. For 10 partitions in 3 stretches (0-2, 3-5, 6-9), taken 0, 2, 1:
   * 0 6 3, 1 7 4, 2 8 5, 9.
   */
  public static int[] sampleOrder(int n, int stretches) {
    int[] starts = stretchStarts(n, stretches);
    int k = starts.length - 1;
    int[] turns = spreadOrder(k);
    int[] order = new int[n];
    int m = 0;
    for (int r = 0; m < n; r++) {
      for (int j : turns) {
        int i = starts[j] + r;
        if (i < starts[j + 1]) {
          order[m++] = i;
        }
      }
    }
    return order;
  }

  /** 0 .. k-1 by a stride of about 0.618 k, coprime to k: every one once, any prefix spread. */
  private static int[] spreadOrder(int k) {
    long stride = Math.max(1, Math.round(k * GOLDEN_FRACTION));
    while (k > 1 && gcd(stride, k) != 1) {
      stride++;
    }
    int[] out = new int[k];
    for (int i = 0; i < k; i++) {
      out[i] = (int) ((i * stride) % k);
    }
    return out;
  }

  /**
   * The estimated wall time of what the sample did not cover: for each stretch, its executions
   * less those sampled, at that stretch's timed cost per execution (the threads' time on its
   * partitions after the warm-up over the executions they covered in it), or, where a stretch has
   * no timed execution, at the cost of all the timed stretches together; the sum over the threads.
   * Nanoseconds; 0 when nothing is left.
   *
   * @param executions        each stretch's executions
   * @param sampled           each stretch's executions the sample covered
   * @param timedExecutions   each stretch's executions covered after the warm-up
   * @param timedThreadNanos  the threads' time on them (each partition's own wall time, summed)
   * @param threads           threads the search would run
   */
  public static long restNanos(long[] executions, long[] sampled, long[] timedExecutions, long[] timedThreadNanos,
                               int threads) {
    long allExecutions = 0;
    long allNanos = 0;
    for (int j = 0; j < executions.length; j++) {
      allExecutions += timedExecutions[j];
      allNanos += timedThreadNanos[j];
    }
    double threadNanos = 0;
    for (int j = 0; j < executions.length; j++) {
      long left = executions[j] - sampled[j];
      if (left <= 0) {
        continue;
      }
      if (timedExecutions[j] > 0) {
        threadNanos += (double) left * timedThreadNanos[j] / timedExecutions[j];
      } else if (allExecutions > 0) {
        threadNanos += (double) left * allNanos / allExecutions;
      }
    }
    return Math.round(threadNanos / Math.max(1, threads));
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
    int[] starts = stretchStarts(n, STRETCHES);
    int k = starts.length - 1;
    int[] order = sampleOrder(n, STRETCHES);
    int[] stretchOf = new int[n];
    long[] stretchExecutions = new long[k];
    long[] sizes = new long[n];
    for (int j = 0; j < k; j++) {
      for (int i = starts[j]; i < starts[j + 1]; i++) {
        stretchOf[i] = j;
        sizes[i] = space.plan(parts.get(i)).size();
        stretchExecutions[j] += sizes[i];
      }
    }
    int nt = Math.max(1, Math.min(threads, n));
    PartitionRunner runner = new PartitionRunner(space, evaluator, true, true);
    RateBar bar = new RateBar(space.options().topN());
    long total = space.size();
    AtomicLong next = new AtomicLong();
    AtomicLong finishedCovered = new AtomicLong();
    Sampler[] samplers = new Sampler[nt];
    List<Thread> ts = new ArrayList<>();
    AtomicReference<RuntimeException> failure = new AtomicReference<>();
    AtomicBoolean stop = new AtomicBoolean();
    long t0 = System.nanoTime();
    for (int t = 0; t < nt; t++) {
      Sampler s = new Sampler(collectAll ? rows : null, gzip);
      samplers[t] = s;
      Runnable work = () -> {
        try {
          while (failure.get() == null && !stop.get()) {
            long m = next.getAndIncrement();
            if (m >= n) {
              break;
            }
            int i = order[(int) m];
            Run run = new Run(stretchOf[i], i - starts[stretchOf[i]], sizes[i], System.nanoTime());
            s.current = run;
            PartitionResult r = runner.run(parts.get(i), collectAll, run.progress,
                () -> failure.get() != null || stop.get(), bar);
            run.finish(System.nanoTime());
            s.current = null;
            finishedCovered.addAndGet(run.covered());
            s.add(sizes[i], r, run);
          }
        } catch (RuntimeException e) {
          failure.compareAndSet(null, e);
        }
      };
      Thread th = new Thread(work, "dry-run-sample-" + t);
      th.setDaemon(true);
      ts.add(th);
      th.start();
    }
    // the warm-up, then the timed part, read in windows
    long prevCovered = 0;
    double prevRate = -1;
    long warmEnd = -1;
    boolean capped = false;
    long coveredAtWarmEnd = 0;
    long now;
    long midNanos = -1;
    long midCovered = -1;
    boolean finished;
    while (true) {
      finished = join(ts, WINDOW_NANOS);
      now = System.nanoTime();
      long covered = covered(finishedCovered, samplers);
      if (finished || failure.get() != null) {
        break;
      }
      if (warmEnd < 0) {
        double rate = (covered - prevCovered) / (double) WINDOW_NANOS;
        boolean settled = prevRate > 0 && rate <= SETTLED_RATIO * prevRate;
        // every stretch's first partitions under way: they fill the cache for the rest (warm-up)
        boolean rounds = next.get() >= Math.min(n, (long) WARMUP_ROUNDS * k);
        boolean warm = now - t0 >= MIN_WARMUP_NANOS && settled && rounds;
        if (warm || now - t0 >= maxWarmupNanos) {
          warmEnd = now;
          capped = !warm;
          for (Sampler s : samplers) {
            Run run = s.current;
            if (run != null) {
              run.mark(now);
            }
          }
          coveredAtWarmEnd = covered(finishedCovered, samplers);
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
    join(ts, Long.MAX_VALUE);
    long end = System.nanoTime();
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
    long[] stretchSampled = new long[k];
    List<Run> runs = new ArrayList<>();
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
      for (Run run : s.runs) {
        stretchSampled[run.stretch] += run.covered();
        runs.add(run);
      }
    }
    boolean whole = finished && sampled == n && cutShort == 0 && coveredAll == total;
    if (whole) {
      return new Result(n, sampled, cutShort, k, sampled, total, coveredAll, coveredAll, evals, nt,
          end - t0, 0, false, end - t0, 0, rowsN, bytes, gz, -1, -1);
    }
    // the timed cost: what ran after the warm-up in the rounds after the warm-up's (a partition
    // of the first rounds costs several times what it costs in the search), else in any round,
    // else (a sample stopped before its warm-up ended) the whole sample
    Timing timed = Timing.of(runs, k, warmEnd, WARMUP_ROUNDS);
    if (timed.executions == 0) {
      timed = Timing.of(runs, k, warmEnd, 0);
    }
    if (timed.executions == 0) {
      timed = Timing.of(runs, k, -1, 0);
    }
    long rest = restNanos(stretchExecutions, stretchSampled, timed.stretchExecutions, timed.stretchNanos, nt);
    if (warmEnd < 0) {
      return new Result(n, sampled, cutShort, k, timed.whole, total, coveredAll, coveredAll, evals, nt,
          end - t0, 0, true, end - t0, rest, rowsN, bytes, gz, -1, -1);
    }
    long timedNanos = end - warmEnd;
    boolean halves = midNanos > 0 && midNanos < timedNanos;
    return new Result(n, sampled, cutShort, k, timed.whole, total, coveredAll, coveredAll - coveredAtWarmEnd, evals, nt,
        end - t0, warmEnd - t0, capped, timedNanos, rest, rowsN, bytes, gz,
        halves ? midCovered : -1, halves ? midNanos : -1);
  }

  /** The timed part of the sample, by stretch: executions covered and the threads' time on them. */
  private static final class Timing {
    final long[] stretchExecutions;
    final long[] stretchNanos;
    long executions;
    /** Partitions timed from their start to their end. */
    int whole;

    private Timing(int k) {
      stretchExecutions = new long[k];
      stretchNanos = new long[k];
    }

    /**
     * The runs of round {@code minRound} or later: all of one started after {@code warmEnd}
     * (every run when it is negative), the part after it of one under way then.
     */
    static Timing of(List<Run> runs, int k, long warmEnd, int minRound) {
      Timing t = new Timing(k);
      for (Run run : runs) {
        if (run.round < minRound) {
          continue;
        }
        long c;
        long nanos;
        if (run.startNanos >= warmEnd) {
          c = run.covered();
          nanos = run.endNanos - run.startNanos;
          t.whole += run.partial ? 0 : 1;
        } else if (run.markNanos >= 0) {
          c = run.covered() - run.coveredAtMark;
          nanos = run.endNanos - run.markNanos;
        } else {
          continue;
        }
        t.stretchExecutions[run.stretch] += c;
        t.stretchNanos[run.stretch] += nanos;
        t.executions += c;
      }
      return t;
    }
  }

  /** Executions covered so far: those of finished partitions and of the ones under way (blocks done, {@code -m}'s skips). */
  private static long covered(AtomicLong finished, Sampler[] samplers) {
    long c = finished.get();
    for (Sampler s : samplers) {
      Run run = s.current;
      if (run != null) {
        c += run.covered();
      }
    }
    return c;
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

  /**
   * One partition's run in the sample: its stretch, its own progress (executions covered, {@code
   * -m}'s skips included), its wall time on its thread, and what it had covered when the warm-up
   * ended if it was under way then.
   */
  private static final class Run {
    final int stretch;
    /** Its place in its stretch: the plan's round that runs it. */
    final int round;
    final long size;
    final long startNanos;
    final Progress progress = new Progress();
    long endNanos;
    boolean partial;
    private boolean ended;
    long markNanos = -1;
    long coveredAtMark;

    Run(int stretch, int round, long size, long startNanos) {
      this.stretch = stretch;
      this.round = round;
      this.size = size;
      this.startNanos = startNanos;
      progress.setTotal(size);
    }

    /** Executions covered so far: blocks done and those {@code -m} skipped. */
    long covered() {
      return progress.done() + (size - progress.total());
    }

    /** The warm-up ended at {@code nanos}: what the run had covered then, unless it had ended. */
    synchronized void mark(long nanos) {
      if (!ended) {
        markNanos = nanos;
        coveredAtMark = covered();
      }
    }

    synchronized void finish(long nanos) {
      endNanos = nanos;
      ended = true;
    }
  }

  /** One sampling thread's partitions, rows and compressed bytes. */
  private static final class Sampler {
    private final Function<List<SearchResult>, byte[]> rowsOf;
    private final CountingStream gzCount;
    private final GZIPOutputStream gz;
    /** The run under way, read by the measuring thread. */
    volatile Run current;
    /** The runs done, read once the thread has ended. */
    final List<Run> runs = new ArrayList<>();
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
    void add(long size, PartitionResult r, Run run) {
      run.partial = r.partial();
      runs.add(run);
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
