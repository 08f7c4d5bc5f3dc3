package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Well-formed keys that change nothing for a run (an {@code fp8_recipe} on a bfloat16 run, which
 * Megatron-LM ignores without {@code --fp8-format}; a {@code moe_*} key on a dense run) are
 * dropped with one note on standard error naming the file, the keys and why, exit 0, and the run
 * is the one without them (the stats files compared whole); a malformed value is still one line,
 * exit 2. A search or a sweep given such a template says it once, not per candidate or point.
 */
class IgnoredExecutionKeysTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "models/llama3-8B.json";
  private static final String EXE = "examples/llama3-8B_64xH100.json";
  private static final String SYSTEM = "systems/H100_SXM_80g_dense.json";

  @TempDir
  Path dir;

  private Path exe(String name, Consumer<ObjectNode> change) throws Exception {
    ObjectNode e = (ObjectNode) MAPPER.readTree(Path.of(EXE).toFile());
    change.accept(e);
    Path p = dir.resolve(name);
    MAPPER.writeValue(p.toFile(), e);
    return p;
  }

  /**
   * llm of {@code exe} to a stats file, which must equal the example's; returns what standard
   * error says beyond the example's run (which says nothing under the corrected model).
   */
  private String llmSameAsWithout(Path exe, String... version) throws Exception {
    Path given = dir.resolve("given.json"), plain = dir.resolve("plain.json");
    Files.deleteIfExists(given);
    Files.deleteIfExists(plain);
    String[] a = new String[version.length + 5], b = new String[version.length + 5];
    a[0] = "llm";
    b[0] = "llm";
    System.arraycopy(version, 0, a, 1, version.length);
    System.arraycopy(version, 0, b, 1, version.length);
    int k = version.length + 1;
    a[k] = MODEL; a[k + 1] = exe.toString(); a[k + 2] = SYSTEM; a[k + 3] = given.toString();
    b[k] = MODEL; b[k + 1] = EXE; b[k + 2] = SYSTEM; b[k + 3] = plain.toString();
    Run r = CliRun.run(a);
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).isEmpty();
    Run without = CliRun.run(b);
    assertThat(without.status()).as(without.err()).isZero();
    // calculon-moe's note of the corrected-model keys the example gives comes first, unchanged
    String before = without.err().replace(EXE, exe.toString());
    assertThat(r.err()).startsWith(before);
    assertThat(MAPPER.readTree(given.toFile())).isEqualTo(MAPPER.readTree(plain.toFile()));
    return r.err().substring(before.length());
  }

  @Test
  void aRecipeOnABfloat16RunIsIgnoredWithOneNote() throws Exception {
    Path exe = exe("fp8.json", e -> e.put("fp8_recipe", "mxfp8"));  // mxfp8: not even runnable on an H100
    assertThat(llmSameAsWithout(exe)).isEqualTo("calculon llm: note: " + exe + " gives a key that changes nothing "
        + "here, ignored: fp8_recipe (datatype is \"bfloat16\": the recipe applies to float8 runs only); the run "
        + "is the same without it (docs/reference.md)\n");
  }

  @Test
  void moeKeysOnADenseRunAreIgnoredWithOneNote() throws Exception {
    Path exe = exe("moe.json", e -> e.put("moe_dispatcher", "flex").put("moe_a2a_overlap", false)
        .put("moe_max_domains_per_token", 4).put("moe_dispatch_datatype", "float8"));
    assertThat(llmSameAsWithout(exe)).isEqualTo("calculon llm: note: " + exe + " gives keys that change nothing "
        + "here, ignored: moe_dispatcher, moe_a2a_overlap, moe_max_domains_per_token, moe_dispatch_datatype "
        + "(model_MoE is false: a dense run sends no tokens to experts); the run is the same without them "
        + "(docs/reference.md)\n");
  }

  /** Both kinds in one file: still one note; calculon-moe says it the same way, once, stdout unchanged. */
  @Test
  void bothKindsMakeOneNoteInEitherModelVersion() throws Exception {
    Path exe = exe("both.json", e -> e.put("fp8_recipe", "delayed").put("moe_dispatcher", "allgather")
        .put("moe_dispatch_datatype", "float8"));
    String note = "note: " + exe + " gives keys that change nothing here, ignored: fp8_recipe (datatype is "
        + "\"bfloat16\": the recipe applies to float8 runs only) and moe_dispatcher, moe_dispatch_datatype "
        + "(model_MoE is false: a dense run sends no tokens to experts); the run is the same without them "
        + "(docs/reference.md)";
    assertThat(CliRun.run("llm", MODEL, EXE, SYSTEM, "-").err()).isEmpty();
    assertThat(llmSameAsWithout(exe)).isEqualTo("calculon llm: " + note + "\n");
    assertThat(llmSameAsWithout(exe, "--model-version", "calculon-moe")).isEqualTo("calculon llm: " + note + "\n");
    Run a = CliRun.run("llm", "--model-version", "calculon-moe", MODEL, exe.toString(), SYSTEM, "-");
    Run b = CliRun.run("llm", "--model-version", "calculon-moe", MODEL, EXE, SYSTEM, "-");
    assertThat(a.status()).isZero();
    assertThat(a.out()).isEqualTo(b.out()).isNotEmpty();
  }

  /** A malformed value is rejected whether or not the run would use the key. */
  @Test
  void malformedValuesAreStillOneLineErrors() throws Exception {
    String[][] cases = {
        {"fp8_recipe", "\"rowwise\"", "fp8_recipe: must be one of \"delayed\", \"tensorwise\", \"current\", "
            + "\"blockwise\", \"mxfp8\", got \"rowwise\""},
        {"moe_dispatcher", "\"deepep\"", "moe_dispatcher: must be one of \"alltoall\", \"allgather\", \"flex\", "
            + "got \"deepep\""},
        {"moe_a2a_overlap", "\"no\"", "moe_a2a_overlap: must be true or false, got \"no\""},
        {"moe_max_domains_per_token", "0", "moe_max_domains_per_token: must be a positive integer, got 0"},
        {"moe_dispatch_datatype", "7", "moe_dispatch_datatype: must be"}};
    for (String[] c : cases) {
      Path exe = exe("bad.json", e -> e.set(c[0], readValue(c[1])));
      Run r = CliRun.run("llm", MODEL, exe.toString(), SYSTEM, "-");
      assertThat(r.status()).as(c[0]).isEqualTo(2);
      assertThat(r.out()).isEmpty();
      assertThat(r.err()).startsWith("calculon llm: " + exe + ": " + c[2]).endsWith("\n");
      assertThat(r.err().strip()).doesNotContain("\n");
    }
  }

  private static com.fasterxml.jackson.databind.JsonNode readValue(String json) {
    try {
      return MAPPER.readTree(json);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A dense search given a MoE template: the template's moe_* keys are dropped, said once (not per
   * execution), and the results are those of the template without them.
   */
  @Test
  void aDenseSearchDropsTheTemplatesMoeKeysOnce() throws Exception {
    Path t = exe("t.json", e -> e.put("moe_dispatcher", "flex").put("moe_a2a_overlap", true));
    Path plain = exe("p.json", e -> { });
    Path out = dir.resolve("s.json"), without = dir.resolve("w.json");
    Run r = search(t, out);
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo("calculon llm-optimal-execution: note: " + t + " gives keys that change nothing "
        + "here, ignored: moe_dispatcher, moe_a2a_overlap (this search is dense: a dense run sends no tokens to "
        + "experts); the results are the same without them (docs/reference.md)\n");
    Run w = search(plain, without);
    assertThat(w.status()).as(w.err()).isZero();
    assertThat(w.err()).isEmpty();
    assertThat(MAPPER.readTree(out.toFile())).isEqualTo(MAPPER.readTree(without.toFile()));
  }

  private Run search(Path template, Path out) {
    return CliRun.run("llm-optimal-execution", "models/megatron-126M.json", "4", "8", "bfloat16", SYSTEM,
        out.toString(), "--zero-stages", "1", "--context-par", "1", "--no-dp-overlap", "--no-tp-overlap", "--quiet",
        "--execution-template", template.toString());
  }

  /**
   * A sweep searching bfloat16 and float8 with a float8 template: the recipe changes nothing at the
   * bfloat16 point, one note naming that point.
   */
  @Test
  void aSweepOfSearchesSaysItOnceWithItsPoints() throws Exception {
    Path t = exe("t.json", e -> e.put("datatype", "float8").put("fp8_recipe", "tensorwise"));
    Path spec = dir.resolve("spec.json");
    Files.writeString(spec, "{\"models\": [\"" + Path.of("models/megatron-126M.json").toAbsolutePath()
        + "\"], \"systems\": [\"" + Path.of(SYSTEM).toAbsolutePath() + "\"], \"search\": {\"command\": \"loe\", "
        + "\"num_procs\": 8, \"max_batch_size\": 8, \"datatype\": \"bfloat16\", \"tp_overlap\": false, "
        + "\"dp_overlap\": false, \"zero_stages\": [1], \"context_par\": [1], \"execution_template\": \"" + t
        + "\"}, \"grid\": {\"search.datatype\": [\"bfloat16\", \"float8\"]}}");
    Run r = CliRun.run("sweep", spec.toString(), dir.resolve("out.jsonl").toString(), "--quiet");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo("calculon sweep: note: " + t + " gives a key that changes nothing here, ignored: "
        + "fp8_recipe (this search's datatype is \"bfloat16\": the recipe applies to float8 runs only); the "
        + "results are the same without it (docs/reference.md) at 1 of 2 points (the first: point 0)\n");
  }

  /** A sweep over two systems of one fixed execution with a dense run's moe key: one note, not two. */
  @Test
  void aSweepSaysItOnce() throws Exception {
    Path exe = exe("moe.json", e -> e.put("moe_dispatcher", "alltoall"));
    Path spec = dir.resolve("spec.json");
    Files.writeString(spec, "{\"models\": [\"" + Path.of(MODEL).toAbsolutePath() + "\"], \"systems\": [\""
        + Path.of(SYSTEM).toAbsolutePath() + "\", \"" + Path.of("systems/H100_SXM_96g_hbm2e_dense.json").toAbsolutePath()
        + "\"], \"execution\": \"" + exe + "\"}");
    Run r = CliRun.run("sweep", spec.toString(), dir.resolve("out.csv").toString(), "--quiet");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo("calculon sweep: note: " + exe + " gives a key that changes nothing here, ignored: "
        + "moe_dispatcher (model_MoE is false: a dense run sends no tokens to experts); the run is the same "
        + "without it (docs/reference.md)\n");
  }
}
