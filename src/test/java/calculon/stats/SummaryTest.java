package calculon.stats;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.model.ModelVersion;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SummaryTest {

  /**
   * The text report equals the reference's stdout of {@code llm ... -} byte for byte (the
   * reference's logger adds the final newline), given the golden stats and the two figures the
   * model supplies besides them.
   */
  @ParameterizedTest
  @CsvSource({
      "readme-moe-gpt-1.8T.moe, 30, 1831397621760",
      "readme-dense-megatron-1T.moe, 32, 1006737817600",
      "readme-dense-megatron-1T-calcsys.moe, 32, 1006737817600",
  })
  void textIsTheReferenceSummary(String id, int blocksPerProc, long totalWeightParams, @TempDir Path dir)
      throws Exception {
    JsonNode golden = GoldenStats.goldenCase(id);
    Stats stats = GoldenStats.of(golden, dir);
    stats.setBlocksPerProc(blocksPerProc);
    stats.setTotalWeightParams(totalWeightParams);
    assertThat(Summary.text(stats, ModelVersion.CALCULON_MOE) + "\n").isEqualTo(golden.get("expected").get("summary_stdout").asText());
  }

  /**
   * The corrected summary's parameter count, in billions with two decimals: Megatron-LM's 1.7B
   * GPT (models/megatron-gpt-1.7B.json: hidden 2048, FFN 8192, 24 blocks with biases and two
   * LayerNorms, 50,358,272 each; two 131,072 x 2048 vocabulary matrices, 4,096 x 2048 learned
   * positions and the final LayerNorm: 24 x 50,358,272 + 536,870,912 + 8,388,608 + 4,096 =
   * 1,753,862,144) is 1.75 where the fork's floor printed 1; a 125M model 0.13 where it printed
   * 0; half-up at the third decimal.
   */
  @ParameterizedTest
  @CsvSource({
      "1753862144, 1.75",
      "125000000, 0.13",
      "8030261248, 8.03",
      "405853388800, 405.85",
      "1005000000, 1.01",
      "999, 0.00",
  })
  void correctedCountHasTwoDecimals(long params, String expected) {
    assertThat(Summary.billionsTwoDecimals(params)).isEqualTo(expected);
    assertThat(Summary.billions(params)).isEqualTo(params / 1_000_000_000L);
  }
}
