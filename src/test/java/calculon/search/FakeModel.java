package calculon.search;

import calculon.config.Execution;
import calculon.config.Recompute;
import calculon.config.SystemSpec;
import calculon.config.TpCommType;
import calculon.config.TpOverlap;
import calculon.model.Infeasible;
import calculon.stats.StatField;
import calculon.stats.Stats;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A stand-in for the model with the properties the search relies on: rejects tier assignments by
 * the tier rules, rejects some executions for tier-independent reasons ("memory"), depends only on
 * the comm type the model runs, and gives many equal sample rates so ties matter.
 */
public final class FakeModel implements ExecutionEvaluator {
  private final SystemSpec system;
  private final TierCheck tiers;
  public final AtomicLong calls = new AtomicLong();

  public FakeModel(SystemSpec system) {
    this.system = system;
    this.tiers = new TierCheck(system.networks());
  }

  @Override
  public Stats evaluate(Execution e, boolean withLayers) throws Infeasible {
    calls.incrementAndGet();
    String err = e.modelMoE()
        ? tiers.checkMoe(e.tensorPar(), e.pipelinePar(), e.dataPar(), e.dataParExp(), e.expertPar(),
            e.expertSlice(), e.tensorParNet(), e.pipelineParNet(), e.dataParNet(), e.dataParExpNet(),
            e.expertParNet(), e.expertSliceNet())
        : tiers.checkDense(e.tensorPar(), e.pipelinePar(), e.dataPar(), e.tensorParNet(),
            e.pipelineParNet(), e.dataParNet());
    if (err != null) {
      throw new Infeasible(err);
    }
    // "memory": big microbatches without recompute do not fit
    if (e.activationRecompute() == Recompute.NONE && e.microbatchSize() * e.tensorPar() >= 8) {
      throw new Infeasible("Mem tier1 needs more");
    }
    if (e.weightOffload() && e.pipelinePar() == 1) {
      throw new Infeasible("Offloading requires each processor to handle at least 3 blocks");
    }
    double rate = 10.0 * e.tensorPar() + 3 * e.microbatchSize() + e.pipelinePar()
        + (e.activationRecompute() == Recompute.NONE ? 4 : 0)
        + (e.effectiveTpCommType() == TpCommType.RS_AG ? 2 : 0)
        + (e.tensorParOverlap() == TpOverlap.RING ? 1 : 0)
        + (e.dataParOverlap() ? 1 : 0)
        + (e.tensorParNet() == 0 ? 0.5 : 0)
        + e.expertSlice() * 0.25;
    Stats s = new Stats(null, e, system);
    s.set(StatField.SAMPLE_RATE, rate / 7.0);
    s.set(StatField.TOTAL_TIME, 7.0 / rate);
    return s;
  }
}
