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
 * {@code llm -p} keeps the original Calculon's peers file (rank order TP, PP, DP), while the
 * corrected model's data-parallel rings follow Megatron-Core's order (tp-cp-ep-dp-pp) unless PP is
 * on a lower tier than DP (docs/deviations.md, "data-parallel rings across nodes"). Where the two
 * place the DP members differently the command says so on standard error, naming the strides and
 * docs/deviations.md. The case: GPT 126M at TP 4 x PP 2 x DP 2 on 16 H100s (8-GPU NVLink nodes),
 * PP and DP on tier 1: the file's DP peers of rank 0 are 0 and 8 (two nodes), while the model puts
 * them 4 ranks apart, two to a node, so its DP time depends on the NVLink domain's size.
 */
class PeersRankOrderNoteTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "models/megatron-126M.json";
  private static final String SYSTEM = "systems/H100_80g_sxm.json";
  private static final String EXE = "src/test/resources/cli/dense-126M-tp2-pp2-dp2-execution.json";

  @TempDir
  Path dir;

  @Test
  void theNoteNamesBothOrdersWhenPipelineIsNotBelowData() throws Exception {
    Path exe = write("tp4.json", base());
    Path peers = dir.resolve("peers.json");
    Run r = CliRun.run("llm", MODEL, exe.toString(), SYSTEM, dir.resolve("s.json").toString(), "-p", peers.toString());
    assertThat(r.status()).isZero();
    assertThat(r.err()).isEqualTo("calculon llm: note: " + peers + " numbers the processors in Calculon's order "
        + "(tensor_par fastest, then pipeline_par, then data_par: data-parallel peers 8 ids apart); the model times "
        + "the data-parallel rings in Megatron-Core's order (tp-cp-ep-dp-pp: peers 4 ranks apart, as "
        + "pipeline_par_net 1 is not below data_par_net 1), which decides how many share a domain of the tier "
        + "below (docs/deviations.md, data-parallel rings across nodes)\n");
    // the file as the note says: rank 0's data-parallel peers are 8 apart, in two 8-GPU nodes
    assertThat(MAPPER.readTree(peers.toFile()).get("0").get("data").toString()).isEqualTo("[0,8]");

    // the model's DP ring does see two members per node: with 4-GPU domains (one member each)
    // the same gradient reduction takes longer on the tier-1 links
    ObjectNode sys = (ObjectNode) MAPPER.readTree(Path.of(SYSTEM).toFile());
    ((ObjectNode) sys.get("networks").get(0)).put("size", 4);
    Path small = write("sys4.json", sys);
    double eight = dpLinkTime(exe, Path.of(SYSTEM), "s8.json");
    double four = dpLinkTime(exe, small, "s4.json");
    assertThat(eight).isLessThan(four);
  }

  /**
   * TP 2 x CP 2 x PP 2 x DP 2 (16 processors): the file lists all 16, each with its CP peers, CP
   * next to TP as in Megatron-Core (id = ((di*2 + pi)*2 + ci)*2 + ti); the note names context_par in
   * the file's order and its DP stride TP x CP x PP = 8 against the model's TP x CP = 4.
   */
  @Test
  void contextParallelRunsListEveryProcessorWithItsContextPeers() throws Exception {
    Path exe = write("cp2.json", base().put("tensor_par", 2).put("context_par", 2));
    Path peers = dir.resolve("cp2.peers.json");
    Run r = CliRun.run("llm", MODEL, exe.toString(), SYSTEM, dir.resolve("cp2.stats.json").toString(), "-p",
        peers.toString());
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo("calculon llm: note: " + peers + " numbers the processors in Calculon's order "
        + "(tensor_par fastest, then context_par, then pipeline_par, then data_par: data-parallel peers 8 ids apart); "
        + "the model times the data-parallel rings in Megatron-Core's order (tp-cp-ep-dp-pp: peers 4 ranks apart, as "
        + "pipeline_par_net 1 is not below data_par_net 1), which decides how many share a domain of the tier "
        + "below (docs/deviations.md, data-parallel rings across nodes)\n");
    JsonNode file = MAPPER.readTree(peers.toFile());
    assertThat(file.size()).isEqualTo(16);
    // processor 5: DP rank 0, stage 1, CP rank 0, TP rank 1; its DP x CP group is TP rank 1 of stage 1
    // at every (DP, CP) rank: ((di*2 + 1)*2 + ci)*2 + 1 = 5, 7, 13, 15, which processor 15 shares
    assertThat(file.get("5").toString()).isEqualTo("{\"tensor\":[4,5],\"context\":[5,7],\"pipeline\":1,\"data\":[5,13],"
        + "\"data_context\":[5,7,13,15]}");
    assertThat(file.get("15").toString())
        .isEqualTo("{\"tensor\":[14,15],\"context\":[13,15],\"pipeline\":11,\"data\":[7,15],"
            + "\"data_context\":[5,7,13,15]}");
  }

  @Test
  void noNoteWhereTheOrdersAgreeOrUnderCalculonMoe() throws Exception {
    // PP inside the node (pipeline_par_net 0 below data_par_net 1): the model nests PP inside DP too
    assertThat(llmWithPeers(base().put("pipeline_par_net", 0), "pp0")).isEqualTo(new Run(0, "", ""));
    // one pipeline stage: both orders are TP then DP
    assertThat(llmWithPeers(base().put("pipeline_par", 1).put("num_procs", 8), "pp1")).isEqualTo(new Run(0, "", ""));
    // calculon-moe's DP time does not depend on placement
    assertThat(llmWithPeers(base(), "moe", "--model-version", "calculon-moe")).isEqualTo(new Run(0, "", ""));
  }

  /**
   * TP 4 x CP 2 x PP 2 (16 processors) with CP on InfiniBand and PP on NVLink: the file numbers CP
   * peers 4 ids apart and PP peers 8 (ids 0 and 4 share a node, 0 and 8 do not), the opposite of the
   * tiers the execution gives them, and the command says so; with CP on NVLink and PP on
   * InfiniBand the ids follow the tiers and nothing is said.
   */
  @Test
  void aFileWhoseIdsDoNotFollowTheTiersIsNamed() throws Exception {
    ObjectNode exe = base().put("context_par", 2).put("data_par", 1).put("tensor_par_net", 0)
        .put("context_par_net", 1).put("pipeline_par_net", 0).put("data_par_net", 1);
    Run r = llmWithPeers(exe, "cp-ib");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo("calculon llm: note: " + dir.resolve("cp-ib.peers.json") + " numbers context peers "
        + "4 ids apart and pipeline peers 8 apart (tensor_par fastest, then context_par, then pipeline_par, then "
        + "data_par), but the execution puts pipeline_par on tier 0, below context_par on tier 1: the ids do not "
        + "follow the tiers (the model times each group on the tier the execution gives it)\n");
    assertThat(llmWithPeers(exe.put("context_par_net", 0).put("pipeline_par_net", 1), "cp-nvlink"))
        .isEqualTo(new Run(0, "", ""));
  }

  /** llm on {@code exe} (written as NAME.json) with its stats and peers files named after it. */
  private Run llmWithPeers(ObjectNode exe, String name, String... more) throws Exception {
    Path file = write(name + ".json", exe);
    String[] head = {"llm", MODEL, file.toString(), SYSTEM, dir.resolve(name + ".stats.json").toString(), "-p",
        dir.resolve(name + ".peers.json").toString()};
    String[] args = java.util.Arrays.copyOf(head, head.length + more.length);
    System.arraycopy(more, 0, args, head.length, more.length);
    return CliRun.run(args);
  }

  /** The test resource's TP 2 x PP 2 x DP 2 execution with TP 4 (16 processors). */
  private static ObjectNode base() throws Exception {
    return ((ObjectNode) MAPPER.readTree(Path.of(EXE).toFile())).put("tensor_par", 4).put("num_procs", 16);
  }

  private double dpLinkTime(Path exe, Path system, String name) throws Exception {
    Path stats = dir.resolve(name);
    Run r = CliRun.run("llm", MODEL, exe.toString(), system.toString(), stats.toString());
    assertThat(r.status()).as(r.err()).isZero();
    JsonNode s = MAPPER.readTree(stats.toFile());
    return s.get("dp_comm_link_time").asDouble();
  }

  private Path write(String name, JsonNode node) throws Exception {
    Path p = dir.resolve(name);
    MAPPER.writeValue(p.toFile(), node);
    return p;
  }
}
