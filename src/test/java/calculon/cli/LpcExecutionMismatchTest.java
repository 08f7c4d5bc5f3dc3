package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * lpc -e with another model's execution names the most fundamental mismatch first: Llama 3 70B's
 * dense execution for DeepSeek-V3 (a mixture-of-experts model with MLA) is refused for
 * model_MoE, not for its tensor_par_overlap "ring", which MLA also rules out. llm says the same.
 */
class LpcExecutionMismatchTest {
  private static final String MODEL = "models/deepseek-v3.json";
  private static final String DENSE = "examples/llama3-70B_256xH100.json";

  @Test
  void aDenseExecutionForAMoeModelIsNamedFirst() {
    CliRun.Run r = MainTest.run("lpc", MODEL, "-e", DENSE);
    assertThat(r.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("calculon llm-parameter-calculator: " + DENSE + ": model_MoE: must be true: " + MODEL
        + " is a mixture-of-experts model (").doesNotContain("tensor_par_overlap");
    CliRun.Run llm = MainTest.run("llm", MODEL, DENSE, "systems/H100_SXM_80g_dense.json", "-");
    assertThat(llm.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(llm.err()).contains(DENSE + ": model_MoE: must be true");
  }
}
