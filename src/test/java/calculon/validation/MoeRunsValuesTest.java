package calculon.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import calculon.config.ApplicationReader;
import calculon.model.ModelVersion;
import calculon.validation.Validation.ModernRow;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The MoE table ({@link ModernRuns#MOE_INDEX}) in the default (corrected) model: every run is
 * evaluated (none out of memory or rejected) and keeps the value the model computed for it when
 * the table was built (docs/validation.md, "MoE runs", lists them with their errors). A model
 * change that moves a value by more than 0.1% fails here: update the table and the docs together,
 * and say why in the commit. Megatron's flops formula, which turns the published TFLOP/s back into
 * step times, is checked against hand-computed counts.
 */
class MoeRunsValuesTest {
  static final Path BASE = Paths.get(".");

  /** Label -> the model's value in the run's metric (seconds, or Megatron TFLOP/s per GPU). */
  static final Map<String, Double> EXPECTED = Map.ofEntries(
      Map.entry("Qwen3-235B 256 H100 TP2 EP32 PP8 VPP4 DeepEP", 20.08),
      Map.entry("Qwen3-235B 256 H100 TP2 EP32 PP8 VPP4 DeepEP + 1F1B A2A overlap", 13.73),
      Map.entry("Qwen3-235B 256 H100 TP2 EP8 FSDP DP128 full recompute", 24.24),
      Map.entry("Qwen3-235B 256 H100 TP2 EP8 PP32 VPP3 A2A", 23.14),
      Map.entry("Qwen3-235B 256 H100 TP4 EP8 PP8 VPP4 EDP4 no recompute", 21.83),
      Map.entry("Qwen3-235B 256 H100 TP4 CP1 EP8 PP8 VPP4 seq 16384 dropless", 286.70),
      Map.entry("Qwen3-235B 256 H100 TP4 CP1 EP8 PP8 VPP4 seq 16384 forced balance", 286.70),
      Map.entry("Qwen3-235B 256 H100 TP4 CP2 EP8 PP8 VPP4 seq 32768 dropless", 321.84),
      Map.entry("Qwen3-235B 256 H100 TP4 CP2 EP8 PP8 VPP4 seq 32768 forced balance", 321.84),
      Map.entry("Qwen3-235B 256 H100 TP4 CP4 EP8 PP8 VPP4 seq 65536 dropless", 358.71),
      Map.entry("Qwen3-235B 256 H100 TP4 CP4 EP8 PP8 VPP4 seq 65536 forced balance", 358.71),
      Map.entry("Qwen3-235B 256 H100 TP4 CP8 EP8 PP8 VPP4 seq 131072 dropless", 390.27),
      Map.entry("Qwen3-235B 256 H100 TP4 CP8 EP8 PP8 VPP4 seq 131072 forced balance", 390.27),
      Map.entry("Mixtral 8x22B 128 H100 TP2 EP8 PP8 VPP7 dropless", 499.79),
      Map.entry("Mixtral 8x22B 128 H100 TP2 EP8 PP8 VPP7 forced balance", 499.79),
      Map.entry("Mixtral 8x22B 128 H100 TP2 EP8 PP8 VPP7 FP8 blockwise forced balance", 669.74),
      Map.entry("Mixtral 8x7B 64 H100 TP1 EP8 PP4 VP8 dropless (MCore v0.8)", 566.52),
      Map.entry("Qwen3-235B 256 GB200 TP1 EP8 PP8 BF16 forced balance", 800.10)
  );

  static List<ModernRow> rows;

  @BeforeAll
  static void runTable() throws Exception {
    rows = new Validation(BASE, ModelVersion.CORRECTED,
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false).runMoeTable();
  }

  @Test
  void everyRunIsEvaluatedAndKeepsItsValue() {
    ModernRunsValuesTest.assertEveryRunEvaluated(rows, EXPECTED);
    ModernRunsValuesTest.assertEveryRunKeepsItsValue(rows, EXPECTED);
  }

  @Test
  void everyRunNamesItsSourceAndItsFilesExist() throws Exception {
    List<ModernRuns.Run> runs = ModernRuns.read(BASE, ModernRuns.MOE_INDEX);
    assertThat(runs).hasSizeGreaterThanOrEqualTo(10);
    Set<String> labels = runs.stream().map(ModernRuns.Run::label).collect(Collectors.toSet());
    assertThat(labels).as("labels are unique").hasSize(runs.size());
    for (ModernRuns.Run r : runs) {
      assertThat(r.source()).as(r.label()).containsAnyOf("table", "Table", ".sh", "README");
      assertThat(BASE.resolve(r.model())).exists();
      assertThat(BASE.resolve(r.system())).exists();
      assertThat(BASE.resolve(r.execution())).exists();
    }
  }

  /**
   * Megatron-LM's 2024 formula on Mixtral 8x7B (h 4096, 32 blocks, 32 heads of 128, 8 KV heads,
   * experts of 14336, top-2, SwiGLU, vocabulary 32000), batch 256 x 4096: 12 B s L h^2
   * ((1 + 8/32 + 1) x 1 + 3.5 x 2 x 1.5 + 32000 / (2 x 32 x 4096)) = 8.695598e16 flops.
   */
  @Test
  void megatronFormulaOf2024ByHand() throws Exception {
    var app = new ModernRuns.Run("m", "models/mixtral-8x7B.json", 4096, 32000, "s", "e",
        ModernRuns.Metric.STEP_SECONDS, 1, "t", "", 0, "").application(BASE);
    assertThat(MegatronFlops.perStep(app, 256, MegatronFlops.Version.FULL_2024)).isCloseTo(8.695598e16, within(1e11));
  }

  /**
   * The March 2025 formula on Qwen3-235B-A22B (h 4096, 94 blocks, all MoE, 64 heads of 128, 4 KV
   * heads, experts of 1536, top-8, vocabulary 151936), batch 256 x 16384: B s (12 L h (1536 x 8 x
   * 1.5) + 12 L h^2 (1 + 4/64 + 16384/8192) x 2 + 6 h V) = 8.590308e17 flops; the causal halving
   * is the only difference from the 2024 attention term.
   */
  @Test
  void megatronFormulaOf2025ByHand() throws Exception {
    var app = new ModernRuns.Run("q", "models/qwen3-235B-A22B.json", 16384, 0, "s", "e",
        ModernRuns.Metric.STEP_SECONDS, 1, "t", "", 0, "").application(BASE);
    assertThat(MegatronFlops.perStep(app, 256, MegatronFlops.Version.CAUSAL_2025)).isCloseTo(8.590308e17, within(1e12));
    assertThatThrownBy(() -> MegatronFlops.perStep(ApplicationReader.read(BASE.resolve("models/deepseek-v3.json")),
        1, MegatronFlops.Version.CAUSAL_2025)).isInstanceOf(IllegalArgumentException.class);
  }
  /**
   * The formula against the source itself: the model zoo's Qwen3-235B H100 table gives both the
   * step time and Megatron's TFLOP/s per GPU of each row (256 GPUs, GBS 2048, sequence 4096,
   * vocabulary 151936); the count over the step time and the GPUs gives back the printed TFLOP/s,
   * rounded to whole TFLOP/s from step times rounded to 0.1 s, within 1% (19.7 s: 246.2 for 245,
   * 17.6 s: 275.6 for 276, 24.2 s: 200.4 for 200, 29.0 s: 167.3 for 167).
   */
  @Test
  void megatronFormulaGivesBackTheSourcesOwnTflops() throws Exception {
    var app = ApplicationReader.read(BASE.resolve("models/qwen3-235B-A22B.json"));
    double flops = MegatronFlops.perStep(app, 2048, MegatronFlops.Version.CAUSAL_2025);
    double[][] rows = {{19.7, 245}, {17.6, 276}, {24.2, 200}, {29.0, 167}};
    for (double[] r : rows) {
      assertThat(flops / r[0] / 256 / 1e12).as(r[0] + " s").isCloseTo(r[1], within(r[1] * 0.01));
    }
  }
}
