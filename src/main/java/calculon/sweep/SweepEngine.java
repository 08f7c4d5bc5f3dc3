package calculon.sweep;

import java.io.IOException;
import java.util.function.BooleanSupplier;

/**
 * Evaluates a sweep's points somewhere (this machine's cores, a Spark cluster, ...). Points are
 * the unit of distribution: {@link Sweep#evaluate} is deterministic and independent of every
 * other point, and an engine hands the results back in point order, so the output file is the
 * same whatever the engine and its parallelism. A new engine is one class implementing this.
 */
public interface SweepEngine extends AutoCloseable {

  /** Receives the points' results, in index order, on one thread. */
  @FunctionalInterface
  interface Sink {
    void accept(PointResult r) throws IOException;
  }

  /**
   * Evaluates points {@code from} (inclusive) to {@code to} (exclusive) and gives each result to
   * {@code sink} in index order. Stops early (returns normally, having delivered a prefix of the
   * range) once {@code cancelled} is true.
   *
   * @throws IOException from the sink
   */
  void run(Sweep sweep, long from, long to, Sink sink, BooleanSupplier cancelled) throws IOException;

  /** A short name for messages ({@code local, 2 threads}). */
  String describe();

  @Override
  default void close() {}
}
