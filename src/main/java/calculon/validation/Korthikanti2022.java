package calculon.validation;

import java.util.List;
import java.util.Map;

/**
 * Measurements from Korthikanti et al. 2022, "Reducing Activation Recomputation in Large
 * Transformer Models" (arXiv 2205.05198), as the original Calculon's validation transcribes them
 * (calculon/llm/validation.py). Memory in GiB, times in seconds, relative activation memory in %.
 */
final class Korthikanti2022 {
  private Korthikanti2022() {}

  static final List<String> MODELS = List.of("megatron-22B", "gpt3-175B", "turing-530B", "megatron-1T");

  /** Figure 1: parameters + optimizer state, per GPU, GiB (same for both modes). */
  static final Map<String, Double> FIG1_PARAMS_OPTIMIZER_GIB = Map.of(
      "megatron-22B", 45.5625, "gpt3-175B", 45.5625, "turing-530B", 31.640625, "megatron-1T", 32.958984375);

  static final List<String> FIG1_MODES = List.of("none", "seqsel");

  /** Figure 1: activation memory per GPU, GiB, without and with sequence parallelism + selective recompute. */
  static final Map<String, Map<String, Double>> FIG1_ACTIVATIONS_GIB = Map.of(
      "megatron-22B", Map.of("none", 59.25, "seqsel", 9.5625),
      "gpt3-175B", Map.of("none", 66.84375, "seqsel", 12.3515625),
      "turing-530B", Map.of("none", 114.0234375, "seqsel", 23.076171875),
      "megatron-1T", Map.of("none", 131.25, "seqsel", 26.5625));

  static final List<String> FIG7_MODES = List.of("none", "seq", "sel", "seqsel", "full");

  /** Figure 7: activation memory relative to no optimisation, %. */
  static final Map<String, Map<String, Double>> FIG7_RELATIVE_PERCENT = Map.of(
      "megatron-22B", Map.of("none", 100.00, "seq", 66.84, "sel", 49.42, "seqsel", 16.18, "full", 7.64),
      "gpt3-175B", Map.of("none", 100.00, "seq", 62.04, "sel", 56.53, "seqsel", 18.49, "full", 8.71),
      "turing-530B", Map.of("none", 100.00, "seq", 58.31, "sel", 62.04, "seqsel", 20.27, "full", 9.42),
      "megatron-1T", Map.of("none", 100.00, "seq", 58.31, "sel", 62.04, "seqsel", 20.27, "full", 9.42));

  static final List<String> TAB5_MODES = List.of("full", "seqsel");

  /** Table 5: end-to-end iteration time, seconds, with full recompute and with sequence parallelism + selective recompute. */
  static final Map<String, Map<String, Double>> TAB5_ITERATION_SECONDS = Map.of(
      "megatron-22B", Map.of("full", 1.42, "seqsel", 1.10),
      "gpt3-175B", Map.of("full", 18.13, "seqsel", 13.75),
      "turing-530B", Map.of("full", 49.05, "seqsel", 37.83),
      "megatron-1T", Map.of("full", 94.42, "seqsel", 71.49));
}
