package calculon.schedule;

import calculon.config.Application;
import calculon.config.Execution;
import calculon.hardware.Hardware;
import calculon.model.Infeasible;
import calculon.stats.Stats;

/** Evaluates one execution of a model on a system: the single-run model (work in progress). */
public final class Evaluator {
  private Evaluator() {}

  public static Stats evaluate(Application app, Execution exe, Hardware hw, boolean withLayers)
      throws Infeasible {
    throw new UnsupportedOperationException("model not written yet");
  }
}
