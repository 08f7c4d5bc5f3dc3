package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model whose seq_size the execution's TP ranks cannot split (sequence parallelism scatters each
 * microbatch's microbatch_size*seq_size tokens over them) is refused in one line that names the
 * model file's seq_size first, then the execution file's microbatch_size and tensor_par; before,
 * the line named only the execution file although its values are the shipped example's.
 */
class SeqSizeSplitRuleTest {
  private static final String EXE = "examples/llama3-8B_64xH100.json";
  private static final String SYSTEM = "systems/H100_SXM_80g_dense.json";

  @TempDir
  Path dir;

  private Path model(int seqSize) throws Exception {
    ObjectMapper json = new ObjectMapper();
    ObjectNode m = (ObjectNode) json.readTree(Path.of("models/llama3-8B.json").toFile());
    m.put("seq_size", seqSize);
    Path file = dir.resolve("model.json");
    json.writeValue(file.toFile(), m);
    return file;
  }

  @Test
  void seqSizeOneNamesTheModelFileAndTheExecutionsKeys() throws Exception {
    Path model = model(1);
    CliRun.Run r = CliRun.run("llm", model.toString(), EXE, SYSTEM, "-");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    // llama3-8B_64xH100.json: tensor_par 8, microbatch_size 1, sequence parallelism (rs_ag)
    assertThat(r.err()).isEqualTo("calculon llm: " + model + ": seq_size: 1, with " + EXE
        + ": microbatch_size 1 and tensor_par 8: tensor_par must divide microbatch_size*seq_size = 1*1 = 1"
        + " (needed by sequence parallelism (rs_ag))\n");
  }

  @Test
  void aSeqSizeTheTpRanksDivideRuns() throws Exception {
    // 8 | 1*8: the split works, the run is evaluated
    CliRun.Run r = CliRun.run("llm", model(8).toString(), EXE, SYSTEM, "-");
    assertThat(r.status()).as(r.err()).isZero();
  }
}
