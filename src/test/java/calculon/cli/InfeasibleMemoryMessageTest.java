package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import calculon.util.PyFormat;
import com.fasterxml.jackson.databind.JsonNode;
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
    assertThat(r.out()).startsWith("ERROR: calculon llm: " + exe + ": does not fit mem1.GiB of " + H100
        + ": Mem tier1 needs " + PyFormat.humanFormat(need, "bytes")
        + " but only has 80.000 GiB on pipeline stage 1 of 0-1, the stage that needs the most "
        + "(2 of the 2 stages do not fit); by part: ");
    assertThat(need / Math.pow(2, 30)).isBetween(120.2, 200.0);
    // the last stage's parts, as its stats (the stage reported on the roomy system) count them;
    // optimizer offload is on: its weight gradients and optimizer state keep two blocks in tier 1
    JsonNode st = MAPPER.readTree(stats.toFile());
    assertThat(r.out()).isEqualTo("ERROR: calculon llm: " + exe + ": does not fit mem1.GiB of " + H100
        + ": Mem tier1 needs 138.450 GiB but only has 80.000 GiB on pipeline stage 1 of 0-1, the stage that needs the "
        + "most (2 of the 2 stages do not fit); by part: activations " + gib(st, "act_space")
        + ", weights " + gib(st, "weight_space") + ", activation gradients " + gib(st, "act_grad_space")
        + ", weight gradients " + gib(st, "weight_grad_space_with_offload")
        + ", optimizer state " + gib(st, "optimizer_space_with_offload")
        + "; try activation_recompute full, a smaller microbatch_size, activations_offload, zero_stage 3, "
        + "weight_offload, more tensor_par, pipeline_par or context_par; alone, activation_recompute full (47.953 GiB), microbatch_size 1 (42.480 GiB), activations_offload (40.533 GiB) each fit\n");
    assertThat(r.out()).contains("activations 108.099 GiB, weights 16.428 GiB, activation gradients 12.922 GiB, "
        + "weight gradients 867.398 MiB, optimizer state 157.709 MiB;");
    assertThat(r.err()).isEmpty();
  }

  private static String gib(JsonNode stats, String key) {
    return PyFormat.humanFormat(stats.get(key).asDouble(), "bytes");
  }

  /**
   * A run that does not fit writes neither its stats file nor its --report page, and the corrected
   * line says so at its end; the files do not appear. calculon-moe keeps the reference's text.
   */
  @Test
  void saysWhichOutputsAreNotWritten() throws Exception {
    Path exe = tooBig();
    Path stats = dir.resolve("out.json");
    Path page = dir.resolve("r.html");
    Run r = CliRun.run("llm", MODEL, exe.toString(), H100, stats.toString(), "--report", page.toString());
    assertThat(r.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(r.out()).startsWith("ERROR: calculon llm: " + exe + ": does not fit mem1.GiB of " + H100)
        .endsWith(" or context_par; alone, activation_recompute full (47.953 GiB), microbatch_size 1 (42.480 GiB), activations_offload (40.533 GiB) each fit (not written: " + stats + ", the --report page " + page + ")\n");
    assertThat(stats).doesNotExist();
    assertThat(page).doesNotExist();
    assertThat(r.err()).isEmpty();

    Run fork = CliRun.run("llm", MODEL, exe.toString(), H100, stats.toString(), "--model-version", "calculon-moe");
    assertThat(fork.out()).isEqualTo("ERROR: Mem tier1 needs 1.746 TiB but only has 80.000 GiB\n");

    // a --peers file is not written either, and the line names it, also with the summary on stdout
    Path peers = dir.resolve("p.json");
    Run withPeers = CliRun.run("llm", MODEL, exe.toString(), H100, "-", "-p", peers.toString());
    assertThat(withPeers.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(withPeers.out()).endsWith(" each fit (not written: the --peers file " + peers + ")\n");
    assertThat(peers).doesNotExist();
  }

  /**
   * The line's "alone, zero_stage 3 (44.050 GiB) fits" is what llm itself answers for each single change of the
   * 405B file: with zero_stage 3 the run fits, with 1 or 2 (the keys the largest parts suggest) or
   * optimizer offload it still does not.
   */
  @Test
  void fitsAloneIsWhatEachChangedFileGives() throws Exception {
    Path base = llama405bWithoutPipeline(dir.resolve("405b.json"));
    ObjectNode file = (ObjectNode) MAPPER.readTree(base.toFile());
    for (int stage = 1; stage <= 3; stage++) {
      ObjectNode changed = file.deepCopy().put("zero_stage", stage).put("optimizer_sharding", true);
      Path exe = dir.resolve("405b-zero" + stage + ".json");
      MAPPER.writeValue(exe.toFile(), changed);
      Path stats = dir.resolve("405b-zero" + stage + ".stats.json");
      Run r = CliRun.run("llm", "models/llama3-405B.json", exe.toString(), H100, stats.toString());
      assertThat(r.status()).as("zero_stage " + stage).isEqualTo(stage == 3 ? 0 : Main.EXIT_INFEASIBLE);
      if (stage == 3) {
        // the need the clause shows: "alone, zero_stage 3 (44.050 GiB) fits"
        assertThat(gib(MAPPER.readTree(stats.toFile()), "proc_mem_tier1_cap_req")).isEqualTo("44.050 GiB");
      }
    }
    Path offload = dir.resolve("405b-optimizer-offload.json");
    MAPPER.writeValue(offload.toFile(), file.deepCopy().put("optimizer_offload", true));
    assertThat(CliRun.run("llm", "models/llama3-405B.json", offload.toString(), H100, "-").status())
        .isEqualTo(Main.EXIT_INFEASIBLE);
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

  /**
   * Llama 3 405B (126 blocks) with TP 8 and no PP, ZeRO or recompute on 80 GiB H100s (the task's
   * reproduction of the Llama 3 8K-GPU row): every block on each GPU. Per block (the stats'
   * block fields) 0.750 GiB of weights, 4.500 GiB of optimizer state (fp32 master weights and
   * two Adam moments, 12 bytes a parameter over TP 8) and 1.500 GiB of gradients (the file's
   * {@code gradient_datatype} float32, Llama 3 paper section 3.3.4): weights 126 x 0.750 = 94.502
   * GiB, optimizer state 126 x 4.500 = 567.011 GiB, weight gradients 126 x 1.500 = 189.004 GiB,
   * activations the working 1.382 GiB + 125 stored blocks x 0.298 = 38.617 GiB, activation
   * gradients 1.604 GiB: 890.738 GiB in all. Optimizer state and weight gradients lead, so ZeRO 1 or 2 and optimizer
   * offload come first.
   */
  @Test
  void noPipelineNamesTheSystemsKeyThePartsAndTheKeysToTry() throws Exception {
    Path exe = llama405bWithoutPipeline(dir.resolve("405b.json"));
    Run r = CliRun.run("llm", "models/llama3-405B.json", exe.toString(), H100, "-");
    assertThat(r.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(r.out()).isEqualTo("ERROR: calculon llm: " + exe + ": does not fit mem1.GiB of " + H100
        + ": Mem tier1 needs 890.738 GiB but only has 80.000 GiB; by part: optimizer state 567.011 GiB, "
        + "weight gradients 189.004 GiB, weights 94.502 GiB, activations 38.617 GiB, activation gradients 1.604 GiB; "
        + "try zero_stage 1 or 2 (optimizer_sharding true), optimizer_offload, more tensor_par or pipeline_par; "
        + "alone, zero_stage 3 (44.050 GiB) fits\n");
    assertThat(r.err()).isEmpty();

    Run moe = CliRun.run("llm", "--model-version", "calculon-moe", "models/llama3-405B.json", exe.toString(), H100,
        "-");
    assertThat(moe.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(moe.out()).startsWith("ERROR: Mem tier1 needs ").doesNotContain("calculon llm");
  }

  /**
   * The same run in 16 pipeline stages (8 blocks each, 126 rounded up) with full recompute and
   * everything offloaded to a 16 GiB mem2: the line names mem2.GiB and what lives there. Stage 0
   * (its average block 0.803 GiB of weights, the embedding's share included) holds: weights 8 x
   * 0.803 = 6.427 GiB; optimizer state 6 x that (12 bytes a parameter against 2) = 38.563 GiB;
   * weight gradients 8 fp32 blocks, 16 x 0.803 = 12.854 GiB; checkpoints of 8
   * blocks x 16 microbatches in flight (1F1B's first stage) x 8192 x 16384 x 2 bytes / TP 8 (32
   * MiB) = 4.000 GiB. 61.845 GiB in all, the run's proc_mem_tier2_cap_req with a roomy mem2.
   */
  @Test
  void mem2TooSmallNamesMem2AndWhatIsOffloaded() throws Exception {
    ObjectNode e = (ObjectNode) MAPPER.readTree(llama405bWithoutPipeline(dir.resolve("base.json")).toFile());
    e.put("pipeline_par", 16);
    e.put("data_par", 64);
    e.put("activation_recompute", "full");
    e.put("seq_par_ag_redo", false);
    e.put("weight_offload", true);
    e.put("activations_offload", true);
    e.put("optimizer_offload", true);
    Path exe = dir.resolve("offload.json");
    MAPPER.writeValue(exe.toFile(), e);
    ObjectNode s = (ObjectNode) MAPPER.readTree(Path.of(H100).toFile());
    ((ObjectNode) s.get("mem2")).put("GiB", 16);
    Path small = dir.resolve("small-mem2.json");
    MAPPER.writeValue(small.toFile(), s);
    Run r = CliRun.run("llm", "models/llama3-405B.json", exe.toString(), small.toString(), "-");
    assertThat(r.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(r.out()).isEqualTo("ERROR: calculon llm: " + exe + ": does not fit mem2.GiB of " + small
        + ": Mem tier2 needs 61.845 GiB but only has 16.000 GiB on pipeline stage 0 of 0-15, the stage that needs "
        + "the most (16 of the 16 stages do not fit); by part: optimizer state 38.563 GiB, weight gradients "
        + "12.854 GiB, weights 6.427 GiB, activation checkpoints 4.000 GiB; try zero_stage 1 or 2 "
        + "(optimizer_sharding true), more tensor_par or pipeline_par; alone, zero_stage 2 (12.812 GiB) fits\n");
  }

  /**
   * {@code report} recomputes the run to check its files belong to the stats file: files that do
   * not fit say why as {@code llm} does, inside its own line (exit 2: the report's inputs are
   * wrong, not a run).
   */
  @Test
  void reportSaysWhyItsFilesCannotRunAsLlmDoes() throws Exception {
    Path exe = llama405bWithoutPipeline(dir.resolve("405b.json"));
    ObjectNode s = (ObjectNode) MAPPER.readTree(Path.of(H100).toFile());
    ((ObjectNode) s.get("mem1")).put("GiB", 100000);
    Path roomy = dir.resolve("roomy.json");
    MAPPER.writeValue(roomy.toFile(), s);
    Path stats = dir.resolve("stats.json");
    Run fits = CliRun.run("llm", "models/llama3-405B.json", exe.toString(), roomy.toString(), stats.toString());
    assertThat(fits.status()).as(fits.err()).isZero();
    Run r = CliRun.run("report", stats.toString(), dir.resolve("r.html").toString(), "--model",
        "models/llama3-405B.json", "--execution", exe.toString(), "--system", H100);
    assertThat(r.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(r.err()).isEqualTo("calculon report: " + stats + " is not the stats of models/llama3-405B.json, "
        + exe + " and " + H100 + ": they cannot run (" + exe + ": does not fit mem1.GiB of " + H100
        + ": Mem tier1 needs 890.738 GiB but only has 80.000 GiB; by part: optimizer state 567.011 GiB, "
        + "weight gradients 189.004 GiB, weights 94.502 GiB, activations 38.617 GiB, activation gradients 1.604 GiB; "
        + "try zero_stage 1 or 2 (optimizer_sharding true), optimizer_offload, more tensor_par or pipeline_par; "
        + "alone, zero_stage 3 (44.050 GiB) fits)\n");
  }

  /** validation/llama3/llama3-405B_8192.json with PP 1 (DP 1024), no interleaving, ZeRO 0. */
  private static Path llama405bWithoutPipeline(Path to) throws Exception {
    ObjectNode e = (ObjectNode) MAPPER.readTree(Path.of("validation/llama3/llama3-405B_8192.json").toFile());
    e.put("pipeline_par", 1);
    e.put("data_par", 1024);
    e.put("pipeline_interleaving", 1);
    e.remove("blocks_in_first_stage");
    e.remove("blocks_in_last_stage");
    e.put("zero_stage", 0);
    e.put("optimizer_sharding", false);
    MAPPER.writeValue(to.toFile(), e);
    return to;
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
