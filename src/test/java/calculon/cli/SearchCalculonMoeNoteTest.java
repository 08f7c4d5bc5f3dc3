package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The MoE searches and llm-all-executions, not only llm-optimal-execution
 * (ForkModelVersionKeysTest), say which of an --execution-template's corrected-model keys
 * calculon-moe ignores, with llm's note, before they search: zero_stage 3 here (the fork runs
 * stage 2 with optimizer_sharding), and mixtral-8x7B's rotary positions and zero dropouts.
 */
class SearchCalculonMoeNoteTest {
  @TempDir
  Path dir;

  /** The 126M example execution with zero_stage 3 (optimizer_sharding true, as the rule wants). */
  private Path zeroStage3() throws Exception {
    ObjectMapper mapper = new ObjectMapper();
    ObjectNode e = (ObjectNode) mapper.readTree(Path.of("src/test/resources/cli/dense-126M-tp2-pp2-dp2-execution.json").toFile());
    e.put("zero_stage", 3);
    Path p = dir.resolve("z3.json");
    mapper.writeValue(p.toFile(), e);
    return p;
  }

  @Test
  void allExecutionsNamesTheTemplatesIgnoredKeys() throws Exception {
    Path t = zeroStage3();
    Run r = CliRun.run("lae", "models/megatron-126M.json", "8", "8", "float16", "systems/a100_80g.json",
        dir.resolve("all.csv").toString(), "--model-version", "calculon-moe", "--execution-template", t.toString());
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo("calculon llm-all-executions: note: --model-version calculon-moe ignores zero_stage in "
        + t + " (corrected-model keys, docs/reference.md); the results are Calculon-MoE's without them\n");
  }

  @Test
  void theMoeSearchNamesTheModelsAndTheTemplatesIgnoredKeys() throws Exception {
    Path t = zeroStage3();
    Run r = CliRun.run("loe-moe", "models/mixtral-8x7B.json", "8", "8", "bfloat16", "systems/H100_SXM_80g_dense.json",
        dir.resolve("best.json").toString(), "--model-version", "calculon-moe", "--execution-template", t.toString());
    // 8 H100s hold no execution of mixtral-8x7B (the search's own outcome); the note comes first, once
    assertThat(r.err()).startsWith("calculon llm-optimal-execution-moe: note: --model-version calculon-moe ignores "
        + "position_embedding, attention_dropout, hidden_dropout in models/mixtral-8x7B.json and zero_stage in " + t
        + " (corrected-model keys, docs/reference.md); the results are Calculon-MoE's without them\n");
    assertThat(r.err().split("note: ", -1)).hasSize(2);
  }
}
