package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code context_par_impl} chooses whose context-parallel attention runs; with {@code context_par}
 * 1 there is none, and the run is the same with either value. The corrected model's llm says so in
 * one note on standard error (its standard output and stats unchanged), a search once where no
 * execution it tries has CP above 1; calculon-moe names the key among those it ignores, once.
 */
class ContextParImplUnusedNoteTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "models/llama3-8B.json";
  private static final String EXE = "examples/llama3-8B_64xH100.json";
  private static final String SYSTEM = "systems/H100_SXM_80g_dense.json";
  private static final String TITAN = "validation/modern/titan_8B_cp4_seq131072.json";

  @TempDir
  Path dir;

  private Path withImpl(String base, String impl, String name) throws Exception {
    ObjectNode e = (ObjectNode) MAPPER.readTree(Path.of(base).toFile());
    e.put("context_par_impl", impl);
    Path p = dir.resolve(name);
    MAPPER.writeValue(p.toFile(), e);
    return p;
  }

  @Test
  void llmSaysTheKeyChangesNothingAtCp1() throws Exception {
    Path exe = withImpl(EXE, "pytorch", "cp1.json");
    Path given = dir.resolve("given.json"), plain = dir.resolve("plain.json");
    Run r = CliRun.run("llm", MODEL, exe.toString(), SYSTEM, given.toString());
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).isEqualTo("calculon llm: note: context_par_impl in " + exe + " changes nothing: "
        + "context_par is 1 (it chooses whose context-parallel attention runs when context_par is above 1; "
        + "docs/reference.md)\n");
    // and it does change nothing: the stats are the example's
    Run without = CliRun.run("llm", MODEL, EXE, SYSTEM, plain.toString());
    assertThat(without.err()).isEmpty();
    JsonNode a = MAPPER.readTree(given.toFile()), b = MAPPER.readTree(plain.toFile());
    assertThat(a).isEqualTo(b);
  }

  /** Where CP is above 1 the key is the run's (TorchTitan's CP 4 row names pytorch): no note. */
  @Test
  void noNoteWhereTheKeyIsUsed() throws Exception {
    Run r = CliRun.run("llm", MODEL, TITAN, "systems/H100_SXM_96g_hbm2e_dense.json", dir.resolve("s.json").toString());
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
  }

  /** calculon-moe already names the key among the corrected-model keys it ignores: no second note. */
  @Test
  void calculonMoeSaysItOnce() throws Exception {
    Path exe = withImpl(EXE, "transformer_engine", "te.json");
    Run r = CliRun.run("llm", "--model-version", "calculon-moe", MODEL, exe.toString(), SYSTEM, dir.resolve("s.json").toString());
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).contains("flash_attention, context_par_impl, optimizer_kernel in " + exe).doesNotContain("changes nothing");
    assertThat(r.err().lines()).hasSize(1);
  }

  /**
   * megatron-126M on 8 GPUs (as PytorchUlyssesTest's dry runs): --context-par 1 tries no CP, so the
   * template's key reaches no execution (one note); with 1,2 it reaches the CP 2 ones (none).
   */
  @Test
  void aSearchSaysItOnceWhereItTriesNoCp() throws Exception {
    Path template = withImpl(TITAN, "transformer_engine", "template.json");
    ObjectNode t = (ObjectNode) MAPPER.readTree(template.toFile());
    t.put("datatype", "bfloat16");
    t.remove("fp8_recipe");
    MAPPER.writeValue(template.toFile(), t);
    Run cp1 = dryRun(template, "1");
    assertThat(cp1.status()).as(cp1.err()).isZero();
    assertThat(cp1.err()).isEqualTo("calculon llm-optimal-execution: note: context_par_impl in " + template
        + " changes nothing: the search tries context_par 1 only (--context-par lists the degrees)\n");
    Run cp2 = dryRun(template, "1,2");
    assertThat(cp2.status()).as(cp2.err()).isZero();
    assertThat(cp2.err()).isEmpty();
  }

  private Run dryRun(Path template, String cps) {
    return CliRun.run("llm-optimal-execution", "models/megatron-126M.json", "8", "8", "bfloat16", SYSTEM,
        dir.resolve("x.json").toString(), "-d", "--context-par", cps, "--execution-template", template.toString());
  }
}
