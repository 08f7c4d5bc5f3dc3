package calculon.search;

import calculon.config.Application;
import calculon.config.Execution;
import calculon.hardware.Hardware;
import calculon.model.Infeasible;
import calculon.model.ModelVersion;
import calculon.schedule.Evaluator;
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
   * The real model ({@link Evaluator#evaluate}) for one application on one system and datatype,
   * in the given model version (no default here: a search states which model it ran).
   */
  static ExecutionEvaluator model(Application app, Hardware hw, ModelVersion version) {
    return (exe, layers) -> Evaluator.evaluate(app, exe, hw, version, layers);
  }
}
