package calculon.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.ConfigError;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The shipped modern model files against the parameter counts their authors publish (sources in
 * each file's "source" key and in docs/models.md). Totals and active counts are within 1% of the
 * published figure, with two documented conventions:
 *
 * <ul>
 *   <li>DeepSeek and OpenAI count the active parameters without the input embedding (a row
 *       lookup, no matrix product); {@link ParameterCount} counts it, so those two are compared
 *       after subtracting vocab_size x hidden. DeepSeek-V3's paper rounds to 37B; its repository
 *       gives 36.6B, which is the one checked to 1% (37B is checked as a rounding).
 *   <li>Qwen publishes 3.3B activated for Qwen3-30B-A3B: our 3.353B truncated to one decimal, as
 *       its other figures are (30.53B published as 30.5B; 29.91B non-embedding as 29.9B). That
 *       one is checked as a truncation, 3.3B &lt;= active &lt; 3.4B.
 * </ul>
 *
 * <p>The counts are the corrected model's ({@link ParameterCount#corrected}: with the final norm
 * before the output layer). Terms {@link ParameterCount} leaves out, all far below 0.01%: Qwen3's q/k RMSNorm (2 x 128 per block), DeepSeek-V3's router correction bias (256 per
 * MoE block) and gpt-oss's router bias (128 per block) and attention sinks (64 per block).
 */
class PublishedParameterCountsTest {

  private static Application model(String name) throws ConfigError {
    return ApplicationReader.read(Path.of("models", name + ".json"));
  }

  private static ParameterCount count(String name) throws ConfigError {
    return ParameterCount.corrected(model(name));
  }

  private static long inputEmbedding(String name) throws ConfigError {
    Application app = model(name);
    return app.architecture().vocabSize() * app.hidden();
  }

  private static void near(long actual, double published, String what) {
    assertThat((double) actual).as(what + ": " + actual).isCloseTo(published, within(0.01 * published));
  }

  @Test
  void llama3() throws ConfigError {
    // Meta's Hugging Face model pages: 8.03B, 70.6B; the paper's 405B
    ParameterCount p8 = count("llama3-8B");
    near(p8.total(), 8.03e9, "Llama 3 8B");
    assertThat(p8.active()).isEqualTo(p8.total());
    // the checkpoint has 8,030,261,248: ours, the final RMSNorm's 4,096 included
    assertThat(p8.total()).isEqualTo(8_030_261_248L);
    near(count("llama3-70B").total(), 70.6e9, "Llama 3 70B");
    near(count("llama3-405B").total(), 405e9, "Llama 3 405B");
  }

  @Test
  void mixtral() throws ConfigError {
    ParameterCount small = count("mixtral-8x7B");
    near(small.total(), 46.7e9, "Mixtral 8x7B total");
    near(small.active(), 12.9e9, "Mixtral 8x7B active");
    ParameterCount large = count("mixtral-8x22B");
    near(large.total(), 141e9, "Mixtral 8x22B total");
    near(large.active(), 39e9, "Mixtral 8x22B active");
  }

  @Test
  void qwen3() throws ConfigError {
    ParameterCount a3b = count("qwen3-30B-A3B");
    near(a3b.total(), 30.5e9, "Qwen3-30B-A3B total");
    // the model card's 3.3B activated is the count truncated to 0.1B (ours: 3.353B)
    assertThat(a3b.active()).as("Qwen3-30B-A3B active").isBetween(3_300_000_000L, 3_399_999_999L);
    // and its 29.9B non-embedding parameters leave out both vocabulary matrices
    near(a3b.total() - 2 * inputEmbedding("qwen3-30B-A3B"), 29.9e9, "Qwen3-30B-A3B non-embedding");
    // the checkpoint has 30,532,122,624: ours (the final norm's 2,048 included) plus 48 blocks' q/k norms (2 x 128)
    assertThat(a3b.total()).isEqualTo(30_532_122_624L - 48 * 256);
    ParameterCount a22b = count("qwen3-235B-A22B");
    near(a22b.total(), 235e9, "Qwen3-235B-A22B total");
    near(a22b.active(), 22e9, "Qwen3-235B-A22B active");
  }

  @Test
  void deepSeekV3() throws ConfigError {
    ParameterCount p = count("deepseek-v3");
    near(p.total(), 671e9, "DeepSeek-V3 total");
    // DeepSeek's active count leaves out the input embedding: 36.6B in README_WEIGHTS.md, 37B in the paper
    long active = p.active() - inputEmbedding("deepseek-v3");
    near(active, 36.6e9, "DeepSeek-V3 active without the input embedding");
    // the paper's 37B is that figure rounded; counted with the input embedding (37.55B) it would round to 38B
    assertThat(active).as("DeepSeek-V3 active rounds to 37B").isBetween(36_500_000_000L, 37_499_999_999L);
    assertThat(p.active()).isGreaterThan(37_500_000_000L);
  }

  @Test
  void gptOss120b() throws ConfigError {
    ParameterCount p = count("gpt-oss-120b");
    near(p.total(), 116.83e9, "gpt-oss-120b total");
    // model card Table 1: 5.13B active, which counts the unembedding but not the embedding
    long active = p.active() - inputEmbedding("gpt-oss-120b");
    near(active, 5.13e9, "gpt-oss-120b active without the input embedding");
    // counted with it, the active figure would be 11% off
    assertThat((double) p.active()).isGreaterThan(1.1 * 5.13e9);
  }

  @Test
  void nemotron4() throws ConfigError {
    // Parmar et al. 2024 (arXiv 2402.16819) section 2: "3.2 billion embedding parameters and 12.5 billion
    // non-embedding parameters"; NVIDIA 2024 (arXiv 2406.11704): 340B, the model's name
    ParameterCount p15 = count("nemotron-4-15B");
    near(p15.total(), 3.2e9 + 12.5e9, "Nemotron-4 15B");
    near(p15.total() - 2 * inputEmbedding("nemotron-4-15B"), 12.5e9, "Nemotron-4 15B non-embedding");
    // its 3.2B embedding parameters are two 256,000 x 6,144 matrices, 3.146B: within 2%, not 1%
    long embedding = 2 * inputEmbedding("nemotron-4-15B");
    assertThat(embedding).as("Nemotron-4 15B embedding").isEqualTo(2L * 256_000 * 6_144);
    assertThat((double) embedding).isCloseTo(3.2e9, within(0.02 * 3.2e9));
    near(count("nemotron-4-340B").total(), 340e9, "Nemotron-4 340B");
  }

  @Test
  void megatronReadmeGptModels() throws ConfigError {
    // the "Model size" column of the Megatron-LM README's table (images/model_table.png, commit f2e5db402c);
    // it gives one or two significant digits: 1.7B is our 1.754B truncated, 32B our 31.51B rounded, so
    // each is checked to within 3.5%; the other seven are within 1%
    String[] sizes = {"1.7B", "7.1B", "16B", "32B", "70B", "119B", "177B", "314B", "462B"};
    double[] published = {1.7e9, 7.1e9, 16e9, 32e9, 70e9, 119e9, 177e9, 314e9, 462e9};
    for (int i = 0; i < sizes.length; i++) {
      long total = count("megatron-gpt-" + sizes[i]).total();
      double tolerance = sizes[i].equals("1.7B") || sizes[i].equals("32B") ? 0.035 : 0.01;
      assertThat((double) total).as("Megatron README GPT " + sizes[i] + ": " + total)
          .isCloseTo(published[i], within(tolerance * published[i]));
    }
  }
}
