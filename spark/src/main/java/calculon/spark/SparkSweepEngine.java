package calculon.spark;

import calculon.sweep.PointResult;
import calculon.sweep.Sweep;
import calculon.sweep.SweepEngine;
import calculon.sweep.SweepFormat;
import calculon.sweep.SweepSpec;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.stream.LongStream;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.ShutdownHookManager;
import scala.runtime.BoxedUnit;

/**
 * Runs a sweep's points as Spark tasks, one point per task. The driver ships the SPEC once (a
 * broadcast of {@link SweepSpec#text()}, the input files inlined, so executors need no files);
 * each executor JVM parses it once and evaluates the points it is given with the same
 * {@link Sweep#evaluate} as the local engine. Points go out in batches of {@value #TASKS_PER_CORE}
 * per core; {@code collect} returns a batch in point order, which is written before the next batch
 * starts, so the output is the local engine's byte for byte. Ctrl-C keeps every batch written and
 * leaves the batch in flight unwritten (it runs again on resume): the driver stops waiting for it
 * within {@value #CANCEL_POLL_MILLIS} ms, whatever its points cost and whatever state Spark's own
 * shutdown is in.
 *
 * <p>Created by name ({@link calculon.sweep.SweepEngines#SPARK_CLASS}) with the master URL:
 * {@code null} takes spark-submit's {@code spark.master}, or {@code local[*]} without one.
 */
public final class SparkSweepEngine implements SweepEngine {
  /** Points per core in one batch: enough tasks to balance uneven points, few enough to stop soon. */
  static final int TASKS_PER_CORE = 4;

  /**
   * Milliseconds between looks at the Ctrl-C flag while a batch runs: a stop within a tenth of a
   * second of the signal, whatever the batch's points cost (a human-scale reaction time; the
   * look is one volatile read).
   */
  static final long CANCEL_POLL_MILLIS = 100;

  private final JavaSparkContext sc;

  /** The shutdown hook that silences Spark before its own hook stops the context (see the constructor). */
  private final Object quietShutdown;

  /** The engine as messages name it, read while the context runs. */

  private final String description;

  /** Whether a run stopped early (Ctrl-C, or the context stopped under it): close() then silences Spark first. */
  private volatile boolean abandoned;

  /** @param master a Spark master URL ({@code local[2]}, {@code spark://host:7077}, ...) or null */
  public SparkSweepEngine(String master) {
    SparkConf conf = new SparkConf().setAppName("calculon sweep");
    if (master != null) {
      conf.setMaster(master);
    } else if (!conf.contains("spark.master")) {
      conf.setMaster("local[*]");
    }
    if (conf.get("spark.master").startsWith("local")) {
      // a laptop run needs no web UI (and must not fail when its port is taken)
      conf.setIfMissing("spark.ui.enabled", "false");
    }
    sc = new JavaSparkContext(conf);
    sc.setLogLevel("WARN");
    // Ctrl-C: Spark's shutdown hook stops the context under the running batch, and its scheduler
    // and executor threads then log ERRORs with stack traces for the task results that still
    // arrive (TaskSchedulerImpl "Exception in statusUpdate", Inbox "Ignoring error": a
    // RejectedExecutionException from their stopped thread pools), after our one-line
    // "Interrupted: ..." summary. Nothing is lost (the batch in flight is not written and runs
    // again on resume), so a hook that runs just before the context's (Spark runs its hooks by
    // priority, highest first: org.apache.spark.util.ShutdownHookManager, whose Java-visible
    // methods are Spark's internal API, pinned with the Spark version in spark/pom.xml) turns
    // Spark's logging off. It runs only when the JVM shuts down with the context still up: close()
    // removes it after a sweep that ends normally.
    quietShutdown = ShutdownHookManager.addShutdownHook(ShutdownHookManager.SPARK_CONTEXT_SHUTDOWN_PRIORITY() + 1,
        () -> {
          quiet();
          return BoxedUnit.UNIT;
        });
    // read now: after a Ctrl-C, Spark's shutdown hook has stopped the context by the time the
    // interrupted summary names the engine, and a stopped context refuses every call
    description = "spark " + sc.master() + ", " + sc.defaultParallelism() + " cores";
  }

  @Override
  public String describe() {
    return description;
  }

  @Override
  public void run(Sweep sweep, long from, long to, Sink sink, BooleanSupplier cancelled) throws IOException {
    Broadcast<String> spec;
    try {
      spec = sc.broadcast(sweep.spec().text());
    } catch (IllegalStateException e) {
      if (stoppedUnder(cancelled)) {
        return;
      }
      throw e;
    }
    String format = sweep.format().name();
    int batch = Math.max(1, sc.defaultParallelism() * TASKS_PER_CORE);
    for (long start = from; start < to; start += batch) {
      if (cancelled.getAsBoolean()) {
        abandoned = true;
        return;
      }
      long end = Math.min(to, start + batch);
      List<PointResult> results = collect(spec, format, LongStream.range(start, end).boxed().toList(), cancelled);
      if (results == null) {
        // Ctrl-C: the batch in flight is not written (it runs again on resume)
        return;
      }
      for (PointResult r : results) {
        sink.accept(r);
      }
    }
    // a finished run frees the broadcast; an abandoned one leaves it to the context's stop: during
    // the JVM's shutdown, destroy() asks the block manager master synchronously (askSync, up to
    // spark.rpc.askTimeout, 120 s by default) and its endpoint may be stopping under the request
    // (Spark's NettyRpcEnv Inbox.onDrop only logs a dropped message, it never answers it)
    if (!sc.sc().isStopped()) {
      spec.destroy();
    }
  }

  /** Whether Ctrl-C came or Spark's shutdown hook stopped the context (then the run is abandoned). */
  private boolean stoppedUnder(BooleanSupplier cancelled) {
    if (cancelled.getAsBoolean() || sc.sc().isStopped()) {
      abandoned = true;
      return true;
    }
    return false;
  }

  /**
   * One batch's results in point order, or null once {@code cancelled} is true or the context is
   * stopped under the batch (Ctrl-C). The driver does not wait for Spark to end the job: it polls
   * {@code cancelled} every {@value #CANCEL_POLL_MILLIS} ms while the job runs and walks away from
   * it. Waiting for the context's stop to fail the job (a blocking {@code collect}) hung a Ctrl-C
   * that came as a batch was submitted: Spark's shutdown hook stops the DAGScheduler's event loop,
   * whose {@code post} drops events once it is stopped (org.apache.spark.util.EventLoop#post), so a
   * job whose JobSubmitted was still queued is never failed and its {@code collect} waits forever;
   * only SweepCommand's 120 s cap on its Ctrl-C hook then ended the JVM, without the summary.
   */
  private List<PointResult> collect(Broadcast<String> spec, String format, List<Long> points,
                                    BooleanSupplier cancelled) throws IOException {
    JavaFutureAction<List<PointResult>> job;
    try {
      job = sc.parallelize(points, points.size()).map(new Evaluate(spec, format)).collectAsync();
    } catch (IllegalStateException e) {
      // "Cannot call methods on a stopped SparkContext": Spark's shutdown hook came first
      if (stoppedUnder(cancelled)) {
        return null;
      }
      throw e;
    }
    while (true) {
      try {
        return job.get(CANCEL_POLL_MILLIS, TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        if (stoppedUnder(cancelled)) {
          // not job.cancel(): its task-killed warnings would print after the Interrupted summary;
          // the context's stop (close(), or Spark's own shutdown hook) ends the job
          return null;
        }
      } catch (ExecutionException e) {
        // Spark's SparkException ("Job N cancelled because SparkContext was shut down"): Spark's
        // own shutdown hook stopped the context under the running batch
        if (stoppedUnder(cancelled)) {
          return null;
        }
        // what the blocking collect threw: Spark's SparkException, which Scala throws undeclared
        throw SparkSweepEngine.<RuntimeException>undeclared(e.getCause());
      } catch (CancellationException e) {
        // the future's own cancel() (not called here): a job cancelled from elsewhere
        if (stoppedUnder(cancelled)) {
          return null;
        }
        throw e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for Spark batch");
      }
    }
  }

  @Override
  public void close() {
    if (abandoned) {
      // the abandoned batch's task results still arrive and the stopped scheduler logs a trace
      // for each (see the constructor); the summary has been printed: nothing of Spark's follows
      quiet();
    }
    ShutdownHookManager.removeShutdownHook(quietShutdown);
    sc.stop();
  }

  /** Throws {@code t} as it is (checked or not), as Scala code throws it. */
  @SuppressWarnings("unchecked")
  private static <T extends Throwable> T undeclared(Throwable t) throws T {
    throw (T) t;
  }

  /** Turns Spark's logging (and the root logger's) off, where it logs through log4j 2. */
  private static void quiet() {
    try {
      Configurator.setRootLevel(Level.OFF);
      Configurator.setLevel("org.apache.spark", Level.OFF);
    } catch (RuntimeException | LinkageError e) {
      // a cluster logging through something else than log4j 2: its messages stay
    }
  }

  /** The task: one point of the broadcast sweep. */
  static final class Evaluate implements Function<Long, PointResult> {
    private static final long serialVersionUID = 1L;
    /** Sweeps parsed on this JVM, by SPEC text and format (an executor runs many points of one sweep). */
    private static final Map<String, Sweep> SWEEPS = new ConcurrentHashMap<>();

    private final Broadcast<String> spec;
    private final String format;

    Evaluate(Broadcast<String> spec, String format) {
      this.spec = spec;
      this.format = format;
    }

    @Override
    public PointResult call(Long point) {
      String text = spec.value();
      Sweep s = SWEEPS.computeIfAbsent(format + "\n" + text,
          k -> new Sweep(SweepSpec.fromText(text), SweepFormat.valueOf(format)));
      return s.evaluate(point);
    }
  }
}
