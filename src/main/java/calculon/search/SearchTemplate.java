package calculon.search;

import calculon.config.Execution;
import calculon.config.LayerOptions;
import calculon.config.Precision;
import calculon.config.Recompute;
import calculon.config.ScheduleOptions;
import java.util.List;
import java.util.Objects;

/**
 * The optional execution keys every execution of a search carries, because the search does not
 * enumerate them: taken from an execution file ({@code --execution-template}) or a flag
 * ({@code --flash-attention}). Layer options ({@code flash_attention}, {@code recompute_modules},
 * {@code attention_kernel}, {@code recompute_method} and {@code recompute_num_layers}),
 * storage datatypes ({@code weight_datatype} ... {@code optimizer_datatype}) and the MoE
 * communication keys ({@code moe_dispatcher}, {@code moe_a2a_overlap},
 * {@code moe_max_domains_per_token}, {@code moe_dispatch_datatype}). What a search enumerates
 * (the parallel split, tiers, batch, recompute, ZeRO stage, CP, pipeline schedule, ...) comes from
 * the search, never from the template.
 *
 * @param layerOptions the layer options; {@code recompute_modules} applies to the executions
 *                     without full recompute (full recompute already recomputes every module,
 *                     and the reader rejects the two together), {@code recompute_method} and
 *                     {@code recompute_num_layers} to those with it (they say how full recompute
 *                     divides a pipeline chunk's blocks, and the reader rejects them without it)
 * @param precision    the storage datatypes (null fields: the model version's defaults)
 * @param moe          the MoE communication keys; its {@code pipeline_schedule} is ignored
 */
public record SearchTemplate(LayerOptions layerOptions, Precision precision, ScheduleOptions moe) {

  /** Nothing said: every key at its default. */
  public static final SearchTemplate DEFAULTS =
      new SearchTemplate(LayerOptions.DEFAULTS, Precision.DEFAULTS, ScheduleOptions.DEFAULTS);

  public SearchTemplate {
    Objects.requireNonNull(layerOptions, "layerOptions");
    Objects.requireNonNull(precision, "precision");
    moe = new ScheduleOptions(null, moe.moeDispatcher(), moe.moeA2aOverlap(), moe.moeMaxDomainsPerToken(),
        moe.moeDispatchDatatype(), moe.pipelineP2pOverlap());
  }

  /** The keys a search takes from execution file {@code e} (the rest of the file is not used). */
  public static SearchTemplate of(Execution e) {
    return new SearchTemplate(e.layerOptions(), e.precision(), e.scheduleOptions());
  }

  /**
   * This template less the keys that change nothing in a search of this kind and datatype: the
   * {@code moe_*} keys in a dense search ({@code moe} false), {@code fp8_recipe} in a search whose
   * datatype is not float8 ({@code calculon.config.ExecutionReader#withoutIgnoredKeys} drops them
   * from a run alike).
   */
  public SearchTemplate relevantTo(boolean moeSearch, calculon.config.Datatype datatype) {
    Precision p = datatype == calculon.config.Datatype.FLOAT8 ? precision : precision.withoutFp8Recipe();
    return new SearchTemplate(layerOptions, p, moeSearch ? moe : moe.withoutMoeKeys());
  }

  /** A copy with {@code flash_attention} set, when {@code on} is not null (a flag wins over the file). */
  public SearchTemplate withFlashAttention(Boolean on) {
    return on == null ? this : new SearchTemplate(layerOptions.withFlashAttention(on), precision, moe);
  }

  /** The layer options of an execution with recompute {@code r}. */
  LayerOptions layerOptionsFor(Recompute r) {
    if (r == Recompute.FULL && !layerOptions.recomputeModules().isEmpty()) {
      return layerOptions.withoutRecomputeModules();
    }
    if (r != Recompute.FULL) {
      return layerOptions.withoutRecomputeMethod();
    }
    return layerOptions;
  }

  /** The schedule options of an execution running {@code schedule} (null: Calculon's choice). */
  ScheduleOptions scheduleOptions(calculon.config.PipelineScheduleKind schedule) {
    if (schedule == null && !moe.anyMoeKey() && moe.pipelineP2pOverlap() == null) {
      return ScheduleOptions.DEFAULTS;
    }
    return new ScheduleOptions(schedule, moe.moeDispatcher(), moe.moeA2aOverlap(), moe.moeMaxDomainsPerToken(),
        moe.moeDispatchDatatype(), moe.pipelineP2pOverlap());
  }

  /** The template's MoE keys given (a dense search drops them, {@link #relevantTo}). */
  public List<String> moeKeysGiven() {
    return moe.moeKeysGiven();
  }
}
