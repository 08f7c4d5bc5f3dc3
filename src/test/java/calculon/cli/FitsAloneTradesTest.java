package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import calculon.util.PyFormat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The corrected memory line's "alone" clauses include the parallel-degree trades that keep
 * num_procs (tensor_par, pipeline_par or context_par doubled with data_par halved; in a MoE run
 * expert_par doubled with data_par_exp halved). Each named clause is checked the way a user would:
 * the execution file with the clause's keys changed, run through {@code llm}, fits, and needs the
 * bytes the clause shows. A trade the tool's rules reject (a group too large for its network tier,
 * more experts per group than the model has) is never named, even where its memory would fit.
 */
class FitsAloneTradesTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "models/llama3-70B.json";
  private static final String H100 = "systems/H100_SXM_80g_dense.json";

  @TempDir
  Path dir;

  /**
   * Llama 3 70B on 256 H100s, TP 4 x PP 2 x DP 32, microbatches of 4, no recompute, the pipeline
   * across nodes (pipeline_par_net 1), so that TP 8 fills the 8-GPU NVLink domain alone: 117.632
   * GiB. TP 8 (sequence parallel: the activations split over twice the ranks) and CP 2 (each rank
   * holds half the sequence) both fit; PP 4 does not (1F1B's first stage keeps PP microbatches in
   * flight, so its activations stay near the same). CP 2 comes before TP 8: its step is faster.
   */
  @Test
  void tradesThatFitAreNamedFastestFirstAndEachFitsInLlm() throws Exception {
    ObjectNode base = llama70b(4, 1, 4, 32);
    Path exe = write("tp4.json", base);
    Run r = CliRun.run("llm", MODEL, exe.toString(), H100, "-");
    assertThat(r.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(r.out()).startsWith("ERROR: calculon llm: " + exe + ": does not fit mem1.GiB of " + H100
        + ": Mem tier1 needs 117.632 GiB but only has 80.000 GiB").endsWith("; alone, activation_recompute full "
        + "(32.691 GiB), microbatch_size 1 (42.480 GiB), activations_offload (28.981 GiB), context_par 2 with "
        + "data_par 16 (67.531 GiB), tensor_par 8 with data_par 16 (58.907 GiB) each fit\n");
    List<JsonNode> stats = eachClauseFits(base, r.out());
    // the two trades, in the line's order: CP 2's step is the faster
    assertThat(stats.get(3).get("total_time").asDouble()).isLessThan(stats.get(4).get("total_time").asDouble());

    // PP 4 x DP 16 is a valid run (tried) that does not fit: not named
    Path pp = write("pp4.json", base.deepCopy().put("pipeline_par", 4).put("data_par", 16));
    Run ppRun = CliRun.run("llm", MODEL, pp.toString(), H100, "-");
    assertThat(ppRun.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(ppRun.out()).contains(": does not fit mem1.GiB of " + H100 + ": Mem tier1 needs 109.878 GiB");
    assertThat(r.out()).doesNotContain("pipeline_par 4");
  }

  /**
   * TP 2 x PP 2 x DP 64 with microbatch 1 and no recompute (84.779 GiB): all three trades fit; the
   * line names the two fastest (TP 4 and CP 2) and leaves out PP 4, whose step, by llm's own stats,
   * is slower than both.
   */
  @Test
  void atMostTwoTradesTheFastest() throws Exception {
    ObjectNode base = llama70b(2, 1, 1, 64);
    Path exe = write("tp2.json", base);
    Run r = CliRun.run("llm", MODEL, exe.toString(), H100, "-");
    assertThat(r.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(r.out()).contains("Mem tier1 needs 84.779 GiB").endsWith("; alone, activation_recompute full "
        + "(42.183 GiB), weight_offload (53.567 GiB), activations_offload (40.325 GiB), tensor_par 4 with data_par "
        + "32 (42.480 GiB), context_par 2 with data_par 32 (59.728 GiB) each fit\n");
    List<JsonNode> stats = eachClauseFits(base, r.out());
    JsonNode pp = fits(base.deepCopy().put("pipeline_par", 4).put("data_par", 32), "pp4.json");
    assertThat(pp.get("total_time").asDouble()).isGreaterThan(stats.get(4).get("total_time").asDouble());
    assertThat(stats.get(3).get("total_time").asDouble()).isLessThan(stats.get(4).get("total_time").asDouble());
  }

  /**
   * The first case with the pipeline on tier 0 (the example's pipeline_par_net 0): TP 8 x DP 16
   * and CP 2 x DP 16 would fit in memory (58.907 and 67.531 GiB above) but put TP x PP or TP x CP
   * x PP = 16 GPUs on the 8-GPU tier 0, which llm rejects: neither is named.
   */
  @Test
  void aTradeTheTiersRejectIsNeverNamed() throws Exception {
    ObjectNode base = llama70b(4, 0, 4, 32);
    Path exe = write("tier0.json", base);
    Run r = CliRun.run("llm", MODEL, exe.toString(), H100, "-");
    assertThat(r.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(r.out()).endsWith("; alone, activation_recompute full (32.691 GiB), microbatch_size 1 (42.480 GiB), "
        + "activations_offload (28.981 GiB) each fit\n");
    eachClauseFits(base, r.out());
    for (ObjectNode trade : List.of(base.deepCopy().put("tensor_par", 8).put("data_par", 16),
        base.deepCopy().put("context_par", 2).put("data_par", 16))) {
      Path t = write("trade.json", trade);
      Run tr = CliRun.run("llm", MODEL, t.toString(), H100, "-");
      assertThat(tr.status()).isEqualTo(Main.EXIT_INFEASIBLE);
      assertThat(tr.out()).contains("= 16 GPUs on tier 0").contains("but tier 0 of " + H100 + " holds 8");
    }
  }

  /**
   * Where nothing fits, the line names what it tried that is a valid run: Llama 3 405B with TP 8
   * (tier 0) x DP 1024 on an H100 of 30 GiB. PP 2 x DP 512 is tried and named; TP 16 and CP 2
   * (16 GPUs on tier 0) are not runs, so not named.
   */
  @Test
  void noOneOfNamesOnlyValidTrades() throws Exception {
    ObjectNode e = (ObjectNode) MAPPER.readTree(Path.of("validation/llama3/llama3-405B_8192.json").toFile());
    e.put("pipeline_par", 1).put("data_par", 1024).put("pipeline_interleaving", 1).put("zero_stage", 0)
        .put("optimizer_sharding", false);
    e.remove("blocks_in_first_stage");
    e.remove("blocks_in_last_stage");
    Path exe = write("405b.json", e);
    ObjectNode s = (ObjectNode) MAPPER.readTree(Path.of(H100).toFile());
    ((ObjectNode) s.get("mem1")).put("GiB", 30);
    Path small = write("h100-30.json", s);
    Run r = CliRun.run("llm", "models/llama3-405B.json", exe.toString(), small.toString(), "-");
    assertThat(r.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(r.out()).endsWith("; no one of zero_stage 1, zero_stage 2, zero_stage 3, "
        + "activation_recompute attn_only, activation_recompute full, weight_offload, activations_offload, "
        + "optimizer_offload, pipeline_par 2 with data_par 512 fits alone\n");
  }

  /**
   * Llama 3 70B on 64 H100s, TP 4 x PP 4 (interleaved, 5 chunks) x DP 4, ZeRO 1, flash attention,
   * no recompute (81.631 GiB, the fresh-user walkthrough's file): selective recompute of the
   * attention (attn_only) fits and is named before full recompute, which fits too; each named
   * clause fits in llm with the bytes shown, and attn_only's step is the shorter of the two.
   */
  @Test
  void selectiveRecomputeIsTriedBeforeFull() throws Exception {
    ObjectNode base = (ObjectNode) MAPPER.readTree("{\"num_procs\":64,\"tensor_par\":4,\"pipeline_par\":4,"
        + "\"data_par\":4,\"tensor_par_net\":0,\"pipeline_par_net\":1,\"data_par_net\":1,\"batch_size\":64,"
        + "\"microbatch_size\":1,\"datatype\":\"bfloat16\",\"fused_activation\":true,\"attention_type\":\"multihead\","
        + "\"activation_recompute\":\"none\",\"pipeline_interleaving\":5,\"optimizer_sharding\":true,\"zero_stage\":1,"
        + "\"tensor_par_comm_type\":\"rs_ag\",\"tensor_par_overlap\":\"none\",\"seq_par_ag_redo\":false,"
        + "\"data_par_overlap\":true,\"weight_offload\":false,\"activations_offload\":false,"
        + "\"optimizer_offload\":false,\"training\":true,\"flash_attention\":true}");
    Path exe = write("l70.json", base);
    Run r = CliRun.run("llm", MODEL, exe.toString(), H100, "-");
    assertThat(r.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(r.out()).contains("Mem tier1 needs 81.631 GiB").contains("; alone, zero_stage 2 (76.027 GiB), "
        + "activation_recompute attn_only (70.211 GiB), activation_recompute full (34.858 GiB), ");
    List<JsonNode> stats = eachClauseFits(base, r.out());
    assertThat(stats.get(1).get("total_time").asDouble()).isLessThan(stats.get(2).get("total_time").asDouble());
  }

  /**
   * Mixtral 8x7B on 64 H100s with ES 8 (tier 0), EP 1 and DP_exp 8 (tier 1), no optimizer
   * sharding: 102.374 GiB, most of it the experts' optimizer state. EP 2 x DP_exp 4 halves the
   * experts each GPU holds and fits; the dense trades put 16 GPUs on tier 0 and are not named.
   * The try-list names expert_par with the degrees, as the largest two parts (optimizer state and
   * weight gradients) are mostly the experts'. With EP 8 (all 8 experts, DP_exp 2), EP 16 would
   * exceed num_experts and is not named either: not among the trades, and not in the try-list,
   * though optimizer state is the second-largest part there.
   */
  @Test
  void aMoeRunTradesExpertParForDataParExp() throws Exception {
    ObjectNode base = (ObjectNode) MAPPER.readTree(Path.of("examples/mixtral-8x7B_64xH100.json").toFile());
    base.put("expert_par", 1).put("data_par_exp", 8).put("data_par_exp_net", 1).put("optimizer_sharding", false)
        .put("data_par_overlap", false);
    Path exe = write("ep1.json", base);
    Run r = CliRun.run("llm", "models/mixtral-8x7B.json", exe.toString(), H100, "-");
    assertThat(r.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(r.out()).contains("Mem tier1 needs 102.374 GiB but only has 80.000 GiB; by part: optimizer state 65.256 GiB, weight gradients "
        + "21.752 GiB, weights 10.876 GiB, ").contains("; try zero_stage 1 or 2 (optimizer_sharding true), "
        + "optimizer_offload, more tensor_par, pipeline_par or expert_par; alone, ").hasLineCount(1);
    assertThat(r.out()).endsWith("; alone, zero_stage 1 (45.275 GiB), "
        + "zero_stage 2 (26.837 GiB), zero_stage 3 (18.000 GiB), optimizer_offload (20.804 GiB), expert_par 2 with "
        + "data_par_exp 4 (55.374 GiB) each fit\n");
    eachClauseFits(base, r.out(), "models/mixtral-8x7B.json");

    ObjectNode ep8 = (ObjectNode) MAPPER.readTree(Path.of("examples/mixtral-8x7B_64xH100.json").toFile());
    ep8.put("activation_recompute", "none").put("microbatch_size", 4).put("expert_slice", 4).put("data_par_exp", 2);
    Path all = write("ep8.json", ep8);
    Run r8 = CliRun.run("llm", "models/mixtral-8x7B.json", all.toString(), H100, "-");
    assertThat(r8.status()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(r8.out()).contains("; by part: activations 99.073 GiB, optimizer state 8.157 GiB, ")
        .contains("; try activation_recompute full, a smaller microbatch_size, activations_offload, optimizer_offload, "
            + "more tensor_par, pipeline_par or context_par; alone, ");
    assertThat(r8.out()).endsWith("; alone, activation_recompute full (34.121 GiB), microbatch_size 1 (43.721 GiB), "
        + "activations_offload (33.132 GiB) each fit\n");
    Path ep16 = write("ep16.json", ep8.deepCopy().put("expert_par", 16).put("data_par_exp", 1));
    Run r16 = CliRun.run("llm", "models/mixtral-8x7B.json", ep16.toString(), H100, "-");
    assertThat(r16.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(r16.err()).contains("expert_par: cannot exceed num_experts (8), got 16");
  }

  /** The example's Llama 3 70B file with the given split, no recompute and no interleaving. */
  private static ObjectNode llama70b(int tp, int ppNet, int microbatch, int dp) throws Exception {
    ObjectNode e = (ObjectNode) MAPPER.readTree(Path.of("examples/llama3-70B_256xH100.json").toFile());
    return e.put("tensor_par", tp).put("data_par", dp).put("pipeline_par_net", ppNet)
        .put("microbatch_size", microbatch).put("activation_recompute", "none").put("pipeline_interleaving", 1);
  }

  private List<JsonNode> eachClauseFits(ObjectNode base, String line) throws Exception {
    return eachClauseFits(base, line, MODEL);
  }

  /**
   * Each clause of the line's {@code ; alone, ... fits} list applied to {@code base}, written and
   * run through llm: it fits (exit 0), and its stats' proc_mem_tier1_cap_req is the clause's bytes.
   * Returns the stats in the line's order.
   */
  private List<JsonNode> eachClauseFits(ObjectNode base, String line, String model) throws Exception {
    String list = line.substring(line.indexOf("; alone, ") + "; alone, ".length(), line.lastIndexOf(')') + 1);
    List<JsonNode> stats = new ArrayList<>();
    int i = 0;
    for (String clause : list.split("\\), ")) {
      String keys = clause.substring(0, clause.lastIndexOf(" ("));
      String bytes = clause.substring(clause.lastIndexOf(" (") + 2).replace(")", "");
      ObjectNode changed = base.deepCopy();
      for (String kv : keys.split(" with | and ")) {
        String[] p = kv.split(" ");
        if (p.length == 1) {
          changed.put(p[0], true); // an offload
        } else if (p[1].matches("\\d+")) {
          changed.put(p[0], Integer.parseInt(p[1]));
        } else {
          changed.put(p[0], p[1]);
        }
      }
      if (changed.get("zero_stage") != null && changed.get("zero_stage").asInt() > 0) {
        changed.put("optimizer_sharding", true);
      }
      if ("full".equals(changed.path("activation_recompute").asText())) {
        changed.put("seq_par_ag_redo", false);
      }
      JsonNode s = fitsIn(changed, "clause" + i++ + ".json", model);
      assertThat(PyFormat.bytes(s.get("proc_mem_tier1_cap_req").asDouble())).as(clause).isEqualTo(bytes);
      stats.add(s);
    }
    return stats;
  }

  private JsonNode fits(ObjectNode exe, String name) throws Exception {
    return fitsIn(exe, name, MODEL);
  }

  private JsonNode fitsIn(ObjectNode exe, String name, String model) throws Exception {
    Path file = write(name, exe);
    Path stats = dir.resolve(name.replace(".json", ".stats.json"));
    Run r = CliRun.run("llm", model, file.toString(), H100, stats.toString());
    assertThat(r.status()).as(name + ": " + r.out() + r.err()).isZero();
    return MAPPER.readTree(stats.toFile());
  }

  private Path write(String name, JsonNode node) throws Exception {
    Path p = dir.resolve(name);
    MAPPER.writeValue(p.toFile(), node);
    return p;
  }
}
