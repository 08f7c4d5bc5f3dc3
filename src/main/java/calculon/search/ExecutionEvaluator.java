package calculon.search;

import calculon.config.Application;
import calculon.config.Execution;
import calculon.hardware.Hardware;
import calculon.model.Infeasible;
import calculon.model.ModelVersion;
import calculon.schedule.BlockCache;
import calculon.schedule.Evaluator;
import calculon.schedule.StepBounds;
import calculon.stats.StatField;
import calculon.stats.Stats;

/**
 * Runs the model on one execution. Implementations must be thread-safe: a search calls one
 * instance from several threads at once. {@link Infeasible} marks a bad execution; any other
 * exception aborts the search.
 */
@FunctionalInterface
public interface ExecutionEvaluator {
  Stats evaluate(Execution exe, boolean withLayers) throws Infeasible;

  /**
   * The same as {@link #evaluate}, for an execution that already passed the network-tier rules
   * ({@link TierCheck}); the model skips its own copy of that check.
   */
  default Stats evaluateTierChecked(Execution exe, boolean withLayers) throws Infeasible {
    return evaluate(exe, withLayers);
  }

  /**
   * Whether {@link #sampleRateTierChecked} is cheaper than the full stats. A search then asks for
   * the sample rate of every execution and for the stats only of those its top N keeps (two calls
   * for those); otherwise it asks for the stats once per execution. Default false.
   */
  default boolean sampleRateIsCheaper() {
    return false;
  }

  /**
   * The sample rate {@link #evaluate} would report for {@code exe}, which already passed the
   * network-tier rules (see {@link #sampleRateIsCheaper}).
   */
  default double sampleRateTierChecked(Execution exe) throws Infeasible {
    return evaluateTierChecked(exe, false).get(StatField.SAMPLE_RATE);
  }

  /**
   * An upper bound of the sample rate {@link #evaluate} would report for {@code exe} if it accepts
   * it (a search skips executions whose bound cannot enter its top N). Default: no bound.
   */
  default double sampleRateBound(Execution exe) {
    return Double.POSITIVE_INFINITY;
  }

  /**
   * The real model ({@link Evaluator#evaluate}) for one application on one system and datatype,
   * in the given model version (no default here: a search states which model it ran), with a
   * block cache of its own.
   */
  static ExecutionEvaluator model(Application app, Hardware hw, ModelVersion version) {
    return model(app, hw, version, new BlockCache());
  }

  /**
   * The real model, reusing the blocks in {@code blocks}: a sweep passes one cache to the
   * evaluators of all its points, so points that share a model and system share blocks. Results
   * are the same as without a cache; {@code null} builds every block.
   */
  static ExecutionEvaluator model(Application app, Hardware hw, ModelVersion version, BlockCache blocks) {
    BlockCache.Scope scope = blocks == null ? null : blocks.scope(app, hw, version);
    return new ExecutionEvaluator() {
      @Override
      public Stats evaluate(Execution exe, boolean withLayers) throws Infeasible {
        return Evaluator.evaluate(app, exe, hw, version, withLayers, scope, false);
      }

      @Override
      public Stats evaluateTierChecked(Execution exe, boolean withLayers) throws Infeasible {
        return Evaluator.evaluate(app, exe, hw, version, withLayers, scope, true);
      }

      @Override
      public boolean sampleRateIsCheaper() {
        return true;
      }

      @Override
      public double sampleRateTierChecked(Execution exe) throws Infeasible {
        return Evaluator.sampleRate(app, exe, hw, version, scope, true);
      }

      @Override
      public double sampleRateBound(Execution exe) {
        if (scope == null) {
          return Double.POSITIVE_INFINITY;
        }
        double t = StepBounds.stepTimeLowerBound(app, exe, hw, version, scope);
        return t > 0 ? exe.batchSize() / t : Double.POSITIVE_INFINITY;
      }
    };
  }
}
