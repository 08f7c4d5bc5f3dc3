package calculon.sweep;

import calculon.config.ActivationFunction;
import calculon.config.Application;
import calculon.config.Execution;
import calculon.config.SystemEconomics;
import calculon.config.SystemSpec;
import calculon.model.ParameterCount;
import calculon.report.StepBreakdown;
import calculon.stats.StatField;
import calculon.stats.Stats;
import java.util.List;

/**
 * The headline figures of one evaluated execution that the stats file does not hold: tokens per
 * second, model flops per token, MFU as the papers define it, and cost and energy from the
 * system's optional {@code price} and {@code power} keys ({@link SystemEconomics}). Kept out of
 * the 122 stats so the golden-compared stats files do not change; sweeps write them as columns.
 */
public final class Metrics {
  private Metrics() {}

  /** Seconds in a year of 365.25 days. */
  static final double SECONDS_PER_YEAR = 365.25 * 24 * 3600;
  /** Joules in a kilowatt-hour. */
  static final double JOULES_PER_KWH = 3.6e6;

  /** Column names, in order; {@link #of} fills the values in this order (NaN: not known). */
  public static final List<String> COLUMNS = List.of(
      "tokens_per_second", "model_flops_per_token", "mfu", "capex_usd", "sample_rate_per_musd",
      "average_power_watts", "energy_per_step_joules", "energy_per_token_joules", "cost_per_token_usd");

  /**
   * Model flops per token, the MFU numerator: 6N + 12 L H Q T (Chowdhery et al. 2022, PaLM,
   * Appendix B: N parameters, L layers, H heads, Q head size, T sequence length; the same as
   * Korthikanti et al. 2022's model flops 72 B s l h^2 (1 + s/6h + V/12hl) per B s tokens when
   * H Q = h). N counts the parameters one token's matrix multiplications use: the active ones
   * (MoE: routed top-k plus shared experts and the router) and the logits projection (V x h),
   * without the lookups: the input embedding table (a separate one when untied) and learned
   * positions. Recomputation does not count (model flops, not hardware flops).
   */
  public static double modelFlopsPerToken(Application app, Execution exe) {
    ParameterCount p;
    if (exe.modelMoE() && app.architecture().moe() == null) {
      p = ParameterCount.withExperts(app, exe.numExperts(), exe.topKExperts(),
          exe.activationFunction() == ActivationFunction.SILU);
    } else {
      p = ParameterCount.of(app);
    }
    calculon.config.Architecture a = app.architecture();
    // lookups do no matrix multiplication: the input table (unless tied: then the one table is
    // the logits projection, V x h, which does) and learned positions
    double n = p.active() - (a.tiedEmbeddings() ? 0 : ParameterCount.inputEmbedding(app))
        - (a.learnedPositions() ? (double) app.seqSize() * app.hidden() : 0);
    return 6 * n + 12.0 * app.numBlocks() * app.attnHeads() * app.attnSize() * app.seqSize();
  }

  /**
   * The figures of {@link #COLUMNS} for one evaluated execution.
   *
   * <ul>
   * <li>tokens/s = sample_rate x seq_size;
   * <li>mfu = model flops per token x tokens/s / (num_procs x matrix peak of the datatype), the
   *     papers' model-flops utilisation (PaLM App. B); not {@code total_efficiency}, which
   *     measures the model's own flop count against the same peak;
   * <li>capex = num_procs x {@link SystemEconomics.Price#perProcessorUsd}; sample_rate_per_musd =
   *     sample_rate / (capex / 10^6), SC23 Table 3's performance per dollar;
   * <li>power: a processor draws gpu_load_watts while it computes (forward, backward, optimizer,
   *     recompute: the compute parts of {@link StepBreakdown}) and gpu_idle_watts for the rest of
   *     the step; memories and network ports draw their watts all step. energy/step = num_procs x
   *     that power integrated over the step; energy/token = energy/step / (batch x seq_size);
   * <li>cost/token = (capex / (amortisation years x {@value #SECONDS_PER_YEAR} s) x step time +
   *     energy/step in kWh x $/kWh) / tokens per step.
   * </ul>
   *
   * @return values in {@link #COLUMNS} order; NaN where the system has no price or no power
   */
  public static double[] of(Stats s, Application app, Execution exe, SystemSpec sys,
                            SweepSpec.Economics econ) {
    double step = s.get(StatField.TOTAL_TIME);
    double rate = s.get(StatField.SAMPLE_RATE);
    double tokensPerStep = (double) exe.batchSize() * app.seqSize();
    double tokensPerSecond = rate * app.seqSize();
    double flopsPerToken = modelFlopsPerToken(app, exe);
    double peak = exe.numProcs() * sys.matrix().get(exe.datatype()).tflops() * 1e12;
    double mfu = flopsPerToken * tokensPerSecond / peak;
    SystemEconomics e = SystemEconomics.of(sys);
    double capex = Double.NaN;
    double perMusd = Double.NaN;
    if (e.price() != null) {
      capex = exe.numProcs() * e.price().perProcessorUsd(sys);
      perMusd = rate / (capex / 1e6);
    }
    double watts = Double.NaN;
    double energyStep = Double.NaN;
    double energyToken = Double.NaN;
    if (e.power() != null) {
      double busy = StepBreakdown.seconds(StepBreakdown.of(s), StepBreakdown.Kind.COMPUTE);
      SystemEconomics.Power pw = e.power();
      double perProc = pw.gpuLoadWatts() * busy + pw.gpuIdleWatts() * Math.max(0, step - busy)
          + pw.staticWatts(sys) * step;
      energyStep = exe.numProcs() * perProc;
      watts = energyStep / step;
      energyToken = energyStep / tokensPerStep;
    }
    double costToken = Double.NaN;
    if (e.price() != null) {
      double capexPerStep = capex / (econ.amortizationYears() * SECONDS_PER_YEAR) * step;
      double energyUsd = e.power() == null ? 0 : energyStep / JOULES_PER_KWH * econ.usdPerKWh();
      costToken = (capexPerStep + energyUsd) / tokensPerStep;
    }
    return new double[] {tokensPerSecond, flopsPerToken, mfu, capex, perMusd, watts, energyStep,
        energyToken, costToken};
  }
}
