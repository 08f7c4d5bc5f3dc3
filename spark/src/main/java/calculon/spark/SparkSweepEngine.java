package calculon.spark;

import calculon.sweep.PointResult;
import calculon.sweep.Sweep;
import calculon.sweep.SweepEngine;
import calculon.sweep.SweepFormat;
import calculon.sweep.SweepSpec;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.stream.LongStream;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.spark.SparkConf;
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
 * starts, so the output is the local engine's byte for byte and Ctrl-C stops at a batch end.
 *
 * <p>Created by name ({@link calculon.sweep.SweepEngines#SPARK_CLASS}) with the master URL:
 * {@code null} takes spark-submit's {@code spark.master}, or {@code local[*]} without one.
 */
public final class SparkSweepEngine implements SweepEngine {
  /** Points per core in one batch: enough tasks to balance uneven points, few enough to stop soon. */
  static final int TASKS_PER_CORE = 4;

  private final JavaSparkContext sc;

  /** The shutdown hook that silences Spark before its own hook stops the context (see the constructor). */
  private final Object quietShutdown;

  /** The engine as messages name it, read while the context runs. */

  private final String description;

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
          try {
            Configurator.setRootLevel(Level.OFF);
            Configurator.setLevel("org.apache.spark", Level.OFF);
          } catch (RuntimeException | LinkageError e) {
            // a cluster logging through something else than log4j 2: its messages stay
          }
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
    Broadcast<String> spec = sc.broadcast(sweep.spec().text());
    String format = sweep.format().name();
    int batch = Math.max(1, sc.defaultParallelism() * TASKS_PER_CORE);
    try {
      for (long start = from; start < to && !cancelled.getAsBoolean(); start += batch) {
        long end = Math.min(to, start + batch);
        List<Long> points = LongStream.range(start, end).boxed().toList();
        List<PointResult> results;
        try {
          results = sc.parallelize(points, points.size()).map(new Evaluate(spec, format)).collect();
        } catch (Exception e) {
          // Spark's SparkException ("Job N cancelled because SparkContext was shut down") is a
          // checked exception Scala throws undeclared: RuntimeException alone missed it, and a
          // Ctrl-C ended in an internal error instead of the "Interrupted" summary
          if (cancelled.getAsBoolean() || sc.sc().isStopped()) {
            // Ctrl-C: Spark's own shutdown hook stopped the context under the running batch
            return;
          }
          throw e;
        }
        for (PointResult r : results) {
          sink.accept(r);
        }
      }
    } finally {
      if (!sc.sc().isStopped()) {
        spec.destroy();
      }
    }
  }

  @Override
  public void close() {
    ShutdownHookManager.removeShutdownHook(quietShutdown);
    sc.stop();
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
