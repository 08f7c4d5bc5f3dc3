package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A system whose tier-1 memory (HBM) has no capacity cannot hold a single weight, so the system
 * file is refused when it is read, in one line naming the file and the key; mem2's 0 still means
 * "no second tier". A tiny but positive mem1 is read, and the run is infeasible for memory.
 */
class Mem1CapacityRuleTest {
  private static final String MODEL = "models/llama3-8B.json";
  private static final String EXE = "examples/llama3-8B_64xH100.json";
  private static final String SYSTEM = "systems/H100_SXM_80g_dense.json";

  @TempDir
  Path dir;

  private Path system(double mem1GiB, double mem2GiB) throws Exception {
    ObjectMapper json = new ObjectMapper();
    ObjectNode sys = (ObjectNode) json.readTree(Path.of(SYSTEM).toFile());
    ((ObjectNode) sys.get("mem1")).put("GiB", mem1GiB);
    ((ObjectNode) sys.get("mem2")).put("GiB", mem2GiB);
    Path file = dir.resolve("sys.json");
    json.writeValue(file.toFile(), sys);
    return file;
  }

  @Test
  void mem1OfZeroIsRefusedWhenTheSystemIsRead() throws Exception {
    Path sys = system(0, 0);
    CliRun.Run r = CliRun.run("llm", MODEL, EXE, sys.toString(), "-");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).isEqualTo("calculon llm: " + sys + ": mem1.GiB: must be > 0, got 0\n");
    CliRun.Run forked = CliRun.run("llm", MODEL, EXE, sys.toString(), "-", "--model-version", "calculon-moe");
    assertThat(forked.status()).isEqualTo(2);
    assertThat(forked.err()).isEqualTo("calculon llm: " + sys + ": mem1.GiB: must be > 0, got 0\n");
  }

  @Test
  void mem2OfZeroStillMeansNoSecondTier() throws Exception {
    CliRun.Run r = CliRun.run("llm", MODEL, EXE, system(80, 0).toString(), "-");
    assertThat(r.status()).as(r.err()).isZero();
  }
}
