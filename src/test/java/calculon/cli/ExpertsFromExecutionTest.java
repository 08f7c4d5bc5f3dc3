package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.ApplicationReader;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import calculon.config.ExecutionReader;
import calculon.model.ParameterCount;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dense model file (no moe object) with an execution saying model_MoE true runs as a MoE model
 * with the execution's experts (Calculon-MoE's way). The corrected model says so in one note on
 * standard error, and its "Total Weight Params" counts that MoE model, as {@code lpc -e} does:
 * llama3-8B with 8 SwiGLU experts of width 14336 per block is 47.491 G (lpc's count), not the
 * dense 8.03 G.
 */
class ExpertsFromExecutionTest {
  private static final String MODEL = "models/llama3-8B.json";
  private static final String EXE = "examples/mixtral-8x7B_64xH100.json";
  private static final String SYSTEM = "systems/H100_SXM_80g_dense.json";
  private static final String NOTE = "calculon llm: note: " + MODEL + " has no moe object; " + EXE
      + "'s model_MoE runs it with 8 experts, top 2, each of feedforward 14336 (Calculon-MoE's way)\n";

  @Test
  void theRunNamesWhereItsExpertsCameFromAndCountsThem() throws Exception {
    CliRun.Run r = CliRun.run("llm", MODEL, EXE, SYSTEM, "-");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo(NOTE);
    // Hand count (Llama 3 paper Table 3 / config.json): attention 2*4096*4096 + 2*4096*1024 =
    // 41,943,040 and two RMSNorms 8,192 per block; 8 experts of 3*4096*14336 = 176,160,768 and a
    // router 4096*8 = 32,768 per block; embedding and output 2*128256*4096 = 1,050,673,152.
    // 32*(41,943,040 + 8,192 + 8*176,160,768 + 32,768) + 1,050,673,152 = 47,491,317,760
    // plus the final RMSNorm before the output layer, 4,096: 47,491,321,856
    // -> 47.49 Billion (two decimals in the corrected summary; the fork floors to 47).
    assertThat(r.out()).contains("Total Weight Params: 47.49 Billion;\n");
    assertThat(ParameterCount.ofRun(ApplicationReader.read(Path.of(MODEL)), ExecutionReader.read(Path.of(EXE))).total())
        .isEqualTo(47_491_317_760L + 4_096);
    CliRun.Run lpc = CliRun.run("lpc", "-e", EXE, MODEL);
    assertThat(lpc.status()).as(lpc.err()).isZero();
    assertThat(lpc.out() + lpc.err()).contains("47.491 G total");
  }

  /** An infeasible run keeps its one ERROR line on standard output and nothing on standard error. */
  @Test
  void anInfeasibleRunPrintsItsErrorLineOnly(@TempDir Path dir) throws Exception {
    ObjectMapper json = new ObjectMapper();
    ObjectNode sys = (ObjectNode) json.readTree(Path.of(SYSTEM).toFile());
    ((ObjectNode) sys.get("mem1")).put("GiB", 1);
    Path small = dir.resolve("sys.json");
    json.writeValue(small.toFile(), sys);
    CliRun.Run r = CliRun.run("llm", MODEL, EXE, small.toString(), "-");
    assertThat(r.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(r.out()).startsWith("ERROR: ").doesNotContain("has no moe object");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void calculonMoeKeepsItsLinesAndTheDenseFileCount() {
    CliRun.Run r = CliRun.run("llm", MODEL, EXE, SYSTEM, "-", "--model-version", "calculon-moe");
    assertThat(r.err()).doesNotContain("has no moe object");
    assertThat(r.out()).contains("Total Weight Params: 8 Billion;\n");
  }

  @Test
  void aDenseRunOrAModelWithMoeGetsNoNote() {
    CliRun.Run dense = CliRun.run("llm", MODEL, "examples/llama3-8B_64xH100.json", SYSTEM, "-");
    assertThat(dense.status()).as(dense.err()).isZero();
    assertThat(dense.err()).isEmpty();
    // 8,030,261,248 (FinalNormCountTest) -> 8.03 with two decimals
    assertThat(dense.out()).contains("Total Weight Params: 8.03 Billion;\n");
  }
}
