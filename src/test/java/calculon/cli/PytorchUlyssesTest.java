package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PyTorch's context_parallel (torch 2.6, torch/distributed/tensor/experimental/_attention.py) has
 * no Ulysses all-to-all: its two rotate methods pass K/V blocks around the ring. An execution
 * that pairs {@code context_par_impl: pytorch} with {@code context_par_comm_type: a2a} is refused
 * (exit 2, one line), and a search with a PyTorch template never enumerates the pair: it leaves
 * a2a out of the default comm types (a note, once) and refuses {@code --cp-comm-types} naming it.
 */
class PytorchUlyssesTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String TITAN = "validation/modern/titan_8B_cp4_seq131072.json";

  @TempDir
  Path dir;

  @Test
  void theExecutionReaderRefusesThePair() throws Exception {
    ObjectNode e = (ObjectNode) MAPPER.readTree(Path.of(TITAN).toFile());
    e.put("context_par_comm_type", "a2a");
    Path exe = dir.resolve("a2a.json");
    MAPPER.writeValue(exe.toFile(), e);
    Run r = CliRun.run("llm", "models/llama3-8B.json", exe.toString(), "systems/H100_SXM_96g_hbm2e_dense.json", "-");
    assertThat(r.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).isEqualTo("calculon llm: " + exe + ": context_par_comm_type: \"a2a\" (Ulysses) cannot run "
        + "with context_par_impl \"pytorch\": PyTorch's context_parallel has no head all-to-all (its alltoall rotate "
        + "method passes K/V blocks around the ring, which is p2p here); use p2p or all_gather, or context_par_impl "
        + "\"transformer_engine\"\n");
  }

  /**
   * megatron-126M (16 heads, 2048 tokens) on 8 GPUs with CP 1 or 2: at CP 2 Ulysses splits the 16
   * heads over TP x 2 for every TP up to 8, so with Transformer Engine CP 2 has as many a2a
   * executions as p2p ones. A PyTorch template's default search is its p2p-only search, and the
   * Transformer Engine search has exactly the CP 2 p2p executions more: CP 1 252000, CP 2 p2p
   * 345600 (597600), plus 345600 a2a (943200).
   */
  @Test
  void aSearchWithAPytorchTemplateLeavesA2aOutAndSaysSoOnce() throws Exception {
    Path pytorch = template("pytorch");
    Path te = template("transformer_engine");
    Run byDefault = dryRun("--execution-template", pytorch.toString());
    assertThat(byDefault.status()).as(byDefault.err()).isZero();
    assertThat(byDefault.err()).isEqualTo("calculon llm-optimal-execution: note: context_par_comm_type a2a not tried: "
        + pytorch + " sets context_par_impl \"pytorch\", whose context_parallel has no head all-to-all\n");
    assertThat(byDefault.out()).startsWith("Total executions: 597600\n");
    Run p2p = dryRun("--execution-template", pytorch.toString(), "--cp-comm-types", "p2p");
    assertThat(p2p.err()).isEmpty();
    assertThat(p2p.out()).isEqualTo(byDefault.out());
    Run transformerEngine = dryRun("--execution-template", te.toString());
    assertThat(transformerEngine.err()).isEmpty();
    assertThat(transformerEngine.out()).startsWith("Total executions: 943200\n");
  }

  @Test
  void aSearchRefusesA2aAskedForByNameWithAPytorchTemplate() throws Exception {
    Path pytorch = template("pytorch");
    Run r = dryRun("--execution-template", pytorch.toString(), "--cp-comm-types", "p2p,a2a");
    assertThat(r.status()).isEqualTo(SearchCommandBase.EXIT_BAD_INPUT);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).isEqualTo("calculon llm-optimal-execution: --cp-comm-types: a2a cannot run with "
        + "context_par_impl \"pytorch\" of " + pytorch + ": PyTorch's context_parallel has no head all-to-all; "
        + "list p2p or all_gather\n");
  }

  /** The TorchTitan CP row's execution in bfloat16 (a bfloat16 search's template), with {@code impl}. */
  private Path template(String impl) throws Exception {
    ObjectNode e = (ObjectNode) MAPPER.readTree(Path.of(TITAN).toFile());
    e.put("datatype", "bfloat16");
    e.remove("fp8_recipe");
    e.put("context_par_impl", impl);
    Path p = dir.resolve(impl + ".json");
    MAPPER.writeValue(p.toFile(), e);
    return p;
  }

  private Run dryRun(String... more) {
    String[] head = {"llm-optimal-execution", "models/megatron-126M.json", "8", "8", "bfloat16",
        "systems/H100_SXM_80g_dense.json", dir.resolve("x.json").toString(), "-d", "--context-par", "1,2"};
    String[] args = new String[head.length + more.length];
    System.arraycopy(head, 0, args, 0, head.length);
    System.arraycopy(more, 0, args, head.length, more.length);
    return CliRun.run(args);
  }
}
