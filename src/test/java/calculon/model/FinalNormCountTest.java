package calculon.model;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.schedule.Evaluator;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The final norm before the output layer ({@link ParameterCount#finalNorm}) is in the corrected
 * model's count and not in Calculon's: hidden parameters for RMSNorm, 2 x hidden for LayerNorm (a
 * scale and a bias per channel), none for a Calculon model file (no vocab_size, no output layer
 * modelled; Narayanan et al. 2021 eq. 2 has none).
 */
class FinalNormCountTest {
  static Application model(String name) throws Exception {
    return ApplicationReader.read(Path.of("models", name + ".json"));
  }

  /** Llama 3 8B (RMSNorm, hidden 4,096): 4,096; its checkpoint's 8,030,261,248 is the corrected count. */
  @Test
  void rmsNormIsOneScalePerChannel() throws Exception {
    Application llama = model("llama3-8B");
    assertThat(ParameterCount.finalNorm(llama)).isEqualTo(4_096);
    assertThat(ParameterCount.corrected(llama).total()).isEqualTo(8_030_261_248L);
    assertThat(ParameterCount.of(llama).total()).isEqualTo(8_030_261_248L - 4_096);
    assertThat(ParameterCount.corrected(llama).active()).isEqualTo(8_030_261_248L);
  }

  /** Nemotron-4 15B (LayerNorm, hidden 6,144): a scale and a bias, 2 x 6,144 = 12,288. */
  @Test
  void layerNormHasABiasToo() throws Exception {
    Application nemotron = model("nemotron-4-15B");
    assertThat(ParameterCount.finalNorm(nemotron)).isEqualTo(12_288);
    assertThat(ParameterCount.corrected(nemotron).total() - ParameterCount.of(nemotron).total())
        .isEqualTo(12_288);
  }

  /** A Calculon model file keeps Calculon's count (the llm-parameter-calculator goldens). */
  @Test
  void aCalculonModelFileHasNone() throws Exception {
    Application gpt3 = model("gpt3-175B");
    assertThat(ParameterCount.finalNorm(gpt3)).isZero();
    assertThat(ParameterCount.corrected(gpt3)).isEqualTo(ParameterCount.of(gpt3));
  }

  /**
   * llm's "Total Weight Params" on Llama 3 8B (examples/llama3-8B_64xH100.json): the corrected
   * model counts 8,030,261,248, calculon-moe keeps Calculon's count, 4,096 fewer.
   */
  @Test
  void llmCountsItInTheCorrectedModelOnly() throws Exception {
    Application app = model("llama3-8B");
    Execution exe = ExecutionReader.read(Path.of("examples/llama3-8B_64xH100.json"));
    SystemSpec sys = SystemReader.read(Path.of("systems/H100_SXM_80g_dense.json"));
    Hardware hw = new Hardware(sys, exe.datatype());
    assertThat(Evaluator.evaluate(app, exe, hw, ModelVersion.CORRECTED, false).totalWeightParams())
        .isEqualTo(8_030_261_248.0);
    assertThat(Evaluator.evaluate(app, exe, hw, ModelVersion.CALCULON_MOE, false).totalWeightParams())
        .isEqualTo(8_030_261_248.0 - 4_096);
  }
}
