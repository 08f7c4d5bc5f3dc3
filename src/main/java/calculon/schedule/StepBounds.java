package calculon.schedule;

import calculon.config.Application;
import calculon.config.Execution;
import calculon.hardware.Hardware;
import calculon.model.BlockBuilder;
import calculon.model.CommGroup;
import calculon.model.ModelVersion;
import calculon.model.Stage;

/**
 * Cheap bounds on an evaluation, for searches that skip executions which cannot enter their
 * top N. Exact by construction: a bound never excludes an execution the full model would keep.
 */
public final class StepBounds {
  /**
   * Relative margin taken off a time bound, so that a different order of floating-point additions
   * in the step model can never put the true time below it.
   */
  static final double ROUNDING_MARGIN = 1e-9;

  private StepBounds() {}

  /**
   * A lower bound of the step time (seconds) of {@code exe}, if the model accepts it: the
   * processor's forward, backward, optimizer and recompute time, {@code NM * blocks * (fw + agrad
   * + wgrad + recompute) + blocks * optim} from the block's totals (the step adds only
   * non-negative terms to these: exposed communication, bubble, offload overhead; the physical
   * property tests check {@code system_efficiency <= 1}, the search shortcut test checks this
   * bound against the full model). Returns 0 (no bound) when pipeline stages differ (mixed or
   * vocabulary blocks, uneven first or last stage).
   *
   * @param blocks where the block comes from (it is built and cached on a miss)
   */
  public static double stepTimeLowerBound(Application app, Execution exe, Hardware hw,
                                          ModelVersion version, BlockCache.Scope blocks) {
    if (!app.architecture().uniformBlocks() || app.architecture().modelsVocabulary()
        || exe.parallel().unevenStages()) {
      return 0;
    }
    long numBlocks = app.numBlocks();
    int pp = exe.pipelinePar();
    long blocksPerProc = numBlocks / pp + (numBlocks % pp != 0 ? 1 : 0);
    BlockBuilder.Kind kind = exe.modelMoE() ? BlockBuilder.Kind.MOE : BlockBuilder.Kind.DENSE;
    BlockStats b = blocks.block(app, exe, hw, version, kind, false, false);
    double mult = (double) blocksPerProc * exe.numMicrobatches();
    double perMicrobatch = b.time[Stage.FW.ordinal()] + (b.time[Stage.AGRAD.ordinal()]
        + b.time[Stage.WGRAD.ordinal()]) + b.reTime;
    double t = mult * perMicrobatch + blocksPerProc * b.time[Stage.OPTIM.ordinal()];
    t += mult * exposedCommPerBlock(exe, version, b);
    return t * (1 - ROUNDING_MARGIN);
  }

  /**
   * A lower bound of one block's exposed communication per microbatch that the step adds in full
   * ({@code Evaluator.Step.batch}: {@code total += tpExposed + epExposed + esExposed + cpExposed +
   * recommExposed}, each {@code NM * chunks * (base * x + edge * y)} of the block's exposed times,
   * so at least {@code NM * blocks} times the smaller of a block's base and edge exposure). The
   * expert all-to-all (and CP's recompute exchange) counts only when no schedule or
   * {@code moe_a2a_overlap} hides part of it; the pipeline and DP traffic, which depend on tiers
   * the block does not see, are left out.
   */
  private static double exposedCommPerBlock(Execution exe, ModelVersion version, BlockStats b) {
    boolean hideEp = PipelineSchedule.of(exe, version.corrected()).overlapsForwardWithBackward()
        || EpA2aOverlap.pairs(exe, version.corrected());
    double per = least(b, CommGroup.TP, BlockStats.FWD) + least(b, CommGroup.TP, BlockStats.BWD)
        + least(b, CommGroup.ES, BlockStats.FWD) + least(b, CommGroup.ES, BlockStats.BWD)
        + least(b, CommGroup.CP, BlockStats.FWD) + least(b, CommGroup.CP, BlockStats.BWD);
    if (exe.training()) {
      per += least(b, CommGroup.TP, BlockStats.RECOMM) + least(b, CommGroup.ES, BlockStats.RECOMM);
    }
    if (!hideEp) {
      per += least(b, CommGroup.EP, BlockStats.FWD) + least(b, CommGroup.EP, BlockStats.BWD);
      if (exe.training()) {
        per += least(b, CommGroup.EP, BlockStats.RECOMM) + least(b, CommGroup.CP, BlockStats.RECOMM);
      }
    }
    return per;
  }

  private static double least(BlockStats b, CommGroup g, int pass) {
    return Math.max(0, Math.min(b.exposed(g, pass, BlockStats.BASE), b.exposed(g, pass, BlockStats.EDGE)));
  }
}
