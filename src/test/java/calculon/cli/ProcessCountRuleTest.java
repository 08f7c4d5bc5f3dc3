package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13, item 2: a dense execution's num_procs must be tensor_par*pipeline_par*data_par, except
 * in a Calculon-MoE parity run, where the fork's own quirk (it dropped the original's check, spec
 * quirk 29) is reproduced: golden case hand-dense-numprocs-mismatch (num_procs 64, 4*2*2 = 16).
 */
class ProcessCountRuleTest {
  @TempDir Path dir;

  @Test
  void denseNumProcsMismatchIsRejectedExceptInTheForksParityMode() throws Exception {
    JsonNode c = new ObjectMapper().readTree(
        Path.of("src/test/resources/goldens/public/cases/hand-dense-numprocs-mismatch.moe.json").toFile());
    Path m = Files.writeString(dir.resolve("model.json"), c.get("model").toString());
    Path e = Files.writeString(dir.resolve("execution.json"), c.get("execution").toString());
    Path s = Files.writeString(dir.resolve("system.json"), c.get("system").toString());

    Run corrected = CliRun.run("llm", m.toString(), e.toString(), s.toString(), "-");
    assertThat(corrected.status()).isEqualTo(2);
    assertThat(corrected.err()).isEqualTo("calculon llm: " + e + ": num_procs: must equal tensor_par*pipeline_par*data_par = "
        + "4*2*2 = 16, got 64\n");

    Run fork = CliRun.run("llm", m.toString(), e.toString(), s.toString(), "-", "--model-version", "calculon-moe");
    assertThat(fork.status()).as(fork.err()).isZero();
    assertThat(fork.out()).contains("Sample rate");
  }
}
