package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import calculon.util.PyFormat;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An execution that does not fit says how much memory the stage that needs the most asks for:
 * Llama 3 70B in 2 stages with microbatches of 8 and no recompute. Both stages are over 80 GiB;
 * the last (its logits and cross-entropy over a 128,256-token vocabulary) needs more than the
 * first, which the check meets first (the message named the first's 120.2 GiB before). The bytes
 * are the run's own requirement: {@code proc_mem_tier1_cap_req}, the largest stage's, on a system
 * with room for it.
 */
class InfeasibleMemoryMessageTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "models/llama3-70B.json";
  private static final String H100 = "systems/H100_SXM_80g_dense.json";

  @TempDir
  Path dir;

  @Test
  void namesTheStageThatNeedsTheMostWithItsBytes() throws Exception {
    Path exe = tooBig();
    ObjectNode s = (ObjectNode) MAPPER.readTree(Path.of(H100).toFile());
    ((ObjectNode) s.get("mem1")).put("GiB", 100000);
    Path roomy = dir.resolve("roomy.json");
    MAPPER.writeValue(roomy.toFile(), s);
    Path stats = dir.resolve("stats.json");

    Run fits = CliRun.run("llm", MODEL, exe.toString(), roomy.toString(), stats.toString());
    assertThat(fits.status()).as(fits.err()).isZero();
    double need = MAPPER.readTree(stats.toFile()).get("proc_mem_tier1_cap_req").asDouble();

    Run r = CliRun.run("llm", MODEL, exe.toString(), H100, "-");
    assertThat(r.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(r.out()).isEqualTo("ERROR: Mem tier1 needs " + PyFormat.humanFormat(need, "bytes")
        + " but only has 80.000 GiB on pipeline stage 1 of 0-1, the stage that needs the most "
        + "(2 of the 2 stages do not fit)\n");
    assertThat(need / Math.pow(2, 30)).isBetween(120.2, 200.0);
  }

  /** calculon-moe keeps the reference's message (the golden cases' infeasible runs compare it). */
  @Test
  void calculonMoeKeepsTheReferencesMessage() throws Exception {
    Path exe = tooBig();
    Run r = CliRun.run("llm", MODEL, exe.toString(), H100, "-", "--model-version", "calculon-moe");
    assertThat(r.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    // the fork materialises the attention scores: far more than the corrected model's need
    assertThat(r.out()).isEqualTo("ERROR: Mem tier1 needs 1.746 TiB but only has 80.000 GiB\n");
  }

  /** The Llama 3 70B example with microbatches of 8, no recompute, no interleaving. */
  private Path tooBig() throws Exception {
    ObjectNode e = (ObjectNode) MAPPER.readTree(Path.of("examples/llama3-70B_256xH100.json").toFile());
    e.put("microbatch_size", 8);
    e.put("activation_recompute", "none");
    e.put("pipeline_interleaving", 1);
    Path exe = dir.resolve("exe.json");
    MAPPER.writeValue(exe.toFile(), e);
    return exe;
  }
}
