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

  /**
   * The first broken rule is the one named: README's execution at data_par 7 (a walkthrough's
   * edit) breaks num_procs = TP*PP*DP (8*4*7 = 224, not 4096) and batch_size % data_par (128 % 7);
   * the processor count comes first, as in the original Calculon's constructor (llm.py:90-91 before
   * :96-101). With num_procs made 224 the batch is the first rule broken. calculon-moe keeps the
   * fork, which has no dense processor rule: the batch's line.
   */
  @Test
  void theProcessorCountIsNamedBeforeTheBatch() throws Exception {
    ObjectMapper mapper = new ObjectMapper();
    com.fasterxml.jackson.databind.node.ObjectNode x = (com.fasterxml.jackson.databind.node.ObjectNode) mapper.readTree(
        Path.of("examples/megatron_1T_training_4096_original.json").toFile());
    x.put("data_par", 7);
    Path e = Files.writeString(dir.resolve("dp7.json"), x.toString());
    String[] files = {"models/megatron-1T.json", e.toString(), "systems/a100_80g.json", "-"};
    assertThat(CliRun.run(concat("llm", files))).isEqualTo(new Run(2, "", "calculon llm: " + e
        + ": num_procs: must equal tensor_par*pipeline_par*data_par = 8*4*7 = 224, got 4096\n"));
    assertThat(CliRun.run(concat("llm", files, "--model-version", "calculon-moe"))).isEqualTo(new Run(2, "",
        "calculon llm: " + e + ": batch_size: must be divisible by data_par (7), got 128\n"));
    x.put("num_procs", 224);
    Files.writeString(e, x.toString());
    assertThat(CliRun.run(concat("llm", files))).isEqualTo(new Run(2, "", "calculon llm: " + e
        + ": batch_size: must be divisible by data_par (7), got 128\n"));
    // with CP, the product has it: 8*2*4*7 = 448
    x.put("num_procs", 4096);
    x.put("context_par", 2);
    Files.writeString(e, x.toString());
    assertThat(CliRun.run(concat("llm", files))).isEqualTo(new Run(2, "", "calculon llm: " + e
        + ": num_procs: must equal tensor_par*context_par*pipeline_par*data_par = 8*2*4*7 = 448, got 4096\n"));
  }

  private static String[] concat(String first, String[] files, String... more) {
    java.util.List<String> a = new java.util.ArrayList<>();
    a.add(first);
    a.addAll(java.util.List.of(files));
    a.addAll(java.util.List.of(more));
    return a.toArray(new String[0]);
  }
}
