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
}
