package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An execution that cannot run names its file, keys, values and rule with the corrected model
 * (Llama 3 70B, 80 blocks, on an H100 system whose tier 0 holds 8 GPUs), and keeps the
 * reference's Llm.Error text with calculon-moe (the golden cases record it). Exit 255 either way.
 */
class InfeasibleLineTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "models/llama3-70B.json";
  private static final String H100 = "systems/H100_SXM_80g_dense.json";

  @TempDir
  Path dir;

  private Path exe(String name, Object... keyValues) throws Exception {
    ObjectNode e = (ObjectNode) MAPPER.readTree(Path.of("examples/llama3-70B_256xH100.json").toFile());
    for (int i = 0; i < keyValues.length; i += 2) {
      e.put((String) keyValues[i], (Integer) keyValues[i + 1]);
    }
    Path p = dir.resolve(name);
    MAPPER.writeValue(p.toFile(), e);
    return p;
  }

  @Test
  void interleavingNamesTheKeyTheValueAndTheBlocksPerStage() throws Exception {
    Path exe = exe("ppint.json", "pipeline_interleaving", 3);
    Run r = CliRun.run("llm", MODEL, exe.toString(), H100, "-");
    assertThat(r.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    // 80 blocks over pipeline_par 2: 40 per stage, which 3 does not divide
    assertThat(r.out()).isEqualTo("ERROR: calculon llm: " + exe + ": pipeline_interleaving: 3 must divide "
        + "the blocks per pipeline stage (40: 80 blocks / pipeline_par 2)\n");
    assertThat(r.err()).isEmpty();

    Run moe = CliRun.run("llm", "--model-version", "calculon-moe", MODEL, exe.toString(), H100, "-");
    assertThat(moe.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(moe.out()).isEqualTo("ERROR: Pipeline interleaving must be a factor value of the number of "
        + "blocks per processor, the blocks per proc: 40\n");
  }

  @Test
  void interleavingAboveTheBlocksPerStageSaysAtMost() throws Exception {
    Path exe = exe("ppint.json", "pipeline_interleaving", 41);
    Run r = CliRun.run("llm", MODEL, exe.toString(), H100, "-");
    assertThat(r.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(r.out()).isEqualTo("ERROR: calculon llm: " + exe + ": pipeline_interleaving: 41 must be at most "
        + "the blocks per pipeline stage (40: 80 blocks / pipeline_par 2)\n");
  }

  @Test
  void tierTooSmallNamesTheGroupsTheirTiersAndTheSystemsSize() throws Exception {
    // TP 8 x PP 4 = 32 GPUs placed on tier 0, which holds 8 (NVLink domain of an HGX H100)
    Path exe = exe("net.json", "tensor_par", 8, "pipeline_par", 4, "data_par", 8, "num_procs", 256,
        "pipeline_par_net", 0, "tensor_par_net", 0, "pipeline_interleaving", 1);
    Run r = CliRun.run("llm", MODEL, exe.toString(), H100, "-");
    assertThat(r.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(r.out()).isEqualTo("ERROR: calculon llm: " + exe + ": tensor_par 8 x pipeline_par 4 = 32 GPUs on "
        + "tier 0 (tensor_par_net 0, pipeline_par_net 0) but tier 0 of " + H100 + " holds 8\n");

    Run moe = CliRun.run("llm", "--model-version", "calculon-moe", MODEL, exe.toString(), H100, "-");
    assertThat(moe.out()).isEqualTo("ERROR: Network tier0 isn't big enough\n");
  }

  @Test
  void tierThatMustBeFilledNamesTheRule() throws Exception {
    ObjectNode s = (ObjectNode) MAPPER.readTree(Path.of(H100).toFile());
    ((ObjectNode) ((ArrayNode) s.get("networks")).get(0)).put("must_be_filled", true);
    Path sys = dir.resolve("filled.json");
    MAPPER.writeValue(sys.toFile(), s);
    // pipeline_par 3 alone on tier 0: 3 <= 8 fits, but 8 GPUs cannot be filled by groups of 3
    Path exe = exe("fill.json", "tensor_par", 4, "tensor_par_net", 1, "pipeline_par", 3, "pipeline_par_net", 0,
        "data_par", 2, "num_procs", 24, "pipeline_interleaving", 1);
    Run r = CliRun.run("llm", MODEL, exe.toString(), sys.toString(), "-");
    assertThat(r.status()).as(r.err()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(r.out()).isEqualTo("ERROR: calculon llm: " + exe + ": pipeline_par 3 GPUs on tier 0 "
        + "(pipeline_par_net 0) but tier 0 of " + sys + " holds 8 and must be filled (must_be_filled): "
        + "3 does not divide 8\n");
  }

  /**
   * A MoE run's tiers are checked side by side, the expert side first (reference
   * _check_network_assignments_MoE): Mixtral 8x7B on 64 H100s with EP 8 x ES 8 moved to tier 0
   * (64 GPUs on an 8-GPU NVLink domain) names the expert side; with DP 8 moved there instead the
   * expert side fits (ES 8 alone) and the dense side's TP 8 x DP 8 does not.
   */
  @Test
  void aMoeRunNamesTheSideWhoseGroupsDoNotFit() throws Exception {
    ObjectNode base = (ObjectNode) MAPPER.readTree(Path.of("examples/mixtral-8x7B_64xH100.json").toFile());
    ObjectNode expert = base.deepCopy().put("expert_par_net", 0);
    Path e1 = dir.resolve("expert.json");
    MAPPER.writeValue(e1.toFile(), expert);
    Run r1 = CliRun.run("llm", "models/mixtral-8x7B.json", e1.toString(), H100, "-");
    assertThat(r1.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(r1.out()).isEqualTo("ERROR: calculon llm: " + e1 + ": expert_par 8 x expert_slice 8 = 64 GPUs on "
        + "tier 0 (the expert side) (expert_par_net 0, expert_slice_net 0) but tier 0 of " + H100 + " holds 8\n");
    ObjectNode dense = base.deepCopy().put("data_par_net", 0);
    Path e2 = dir.resolve("dense.json");
    MAPPER.writeValue(e2.toFile(), dense);
    Run r2 = CliRun.run("llm", "models/mixtral-8x7B.json", e2.toString(), H100, "-");
    assertThat(r2.out()).isEqualTo("ERROR: calculon llm: " + e2 + ": tensor_par 8 x data_par 8 = 64 GPUs on "
        + "tier 0 (the dense side) (tensor_par_net 0, data_par_net 0) but tier 0 of " + H100 + " holds 8\n");
  }
}
