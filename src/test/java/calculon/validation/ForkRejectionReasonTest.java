package calculon.validation;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.model.ModelVersion;
import calculon.validation.Validation.ModernRow;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code lv --model-version calculon-moe} rejects the modern rows the fork cannot run with the
 * reason llm gives for the same file: the one key it cannot run (RunChecks), not a fixed list
 * naming context_par and uneven stages alike; a reason's commas become semicolons so the row
 * keeps its cells.
 */
class ForkRejectionReasonTest {
  private static String out;
  private static List<ModernRow> rows;

  @BeforeAll
  static void runTable() throws Exception {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    Validation v = new Validation(Paths.get("."), ModelVersion.CALCULON_MOE,
        new PrintStream(o, true, StandardCharsets.UTF_8), false);
    v.run();
    out = o.toString(StandardCharsets.UTF_8);
    rows = v.modernRows();
  }

  private static String reason(String label) {
    return rows.stream().filter(r -> r.run().label().equals(label)).findFirst().orElseThrow().rejection();
  }

  @Test
  void eachRowNamesTheKeyItHas() {
    // CP 2, even stages
    assertThat(reason("TorchTitan Llama 3.1 8B 8 H100 FSDP 4 CP 2 seq 65536"))
        .contains("titan_8B_cp2_seq65536.json: context_par: needs the corrected model (Calculon-MoE has no "
            + "context parallelism); drop --model-version calculon-moe or set context_par 1; got 2")
        .doesNotContain("blocks_in_first");
    // CP 1, one block fewer on the first and last stage
    assertThat(reason("Llama 3 405B 8192 H100 TP8 CP1 PP16 DP64 seq 8192"))
        .contains("llama3-405B_8192.json: blocks_in_first_stage: needs the corrected model")
        .doesNotContain("context_par");
  }

  @Test
  void aRejectedRowKeepsItsFourCells() {
    List<String> rejected = out.lines().filter(l -> l.contains(",rejected: ")).toList();
    assertThat(rejected).isNotEmpty();
    for (String line : rejected) {
      // label [metric],|,measured,rejected: reason,
      String afterBar = line.substring(line.indexOf(",|,") + 3);
      assertThat(afterBar.split(",", -1)).as(line).hasSize(3);
    }
  }
}
