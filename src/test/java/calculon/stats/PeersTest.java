package calculon.stats;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.util.PyJson;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PeersTest {

  /** TP=2, PP=2, DP=2: the file the original Calculon's get_peers_json gives (written by Python). */
  @Test
  void peersOfTp2Pp2Dp2AreTheReferenceFile() throws Exception {
    Execution exe = ExecutionReader.read(resource("/peers/tp2-pp2-dp2-execution.json"));
    String expected;
    try (var in = PeersTest.class.getResourceAsStream("/peers/tp2-pp2-dp2.json")) {
      expected = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(PyJson.dumps(Peers.of(exe), PyJson.FILE_INDENT)).isEqualTo(expected);
  }

  @Test
  void eachProcessorHasOnlyTheGroupsLargerThanOne() throws Exception {
    Execution exe = ExecutionReader.read(resource("/peers/tp2-pp2-dp2-execution.json"));
    Map<String, Map<String, Object>> peers = Peers.of(exe);
    assertThat(peers).hasSize(8);
    assertThat(peers.get("5")).containsExactly(
        Map.entry("tensor", List.of(4, 5)), Map.entry("pipeline", 7), Map.entry("data", List.of(1, 5)));
  }

  /**
   * TP 2, CP 2, PP 1, DP 2 (8 processors): id = di*4 + ci*2 + ti, derived by hand. With PP 1 this
   * is also Megatron-Core's order tp-cp-ep-dp-pp (EP 1): its RankGenerator gives the TP groups
   * [0,1] [2,3] [4,5] [6,7], the CP groups [0,2] [1,3] [4,6] [5,7], the DP groups [0,4] [1,5]
   * [2,6] [3,7] and the dp-cp groups (get_data_parallel_group(with_context_parallel=True), the
   * gradients' and the ZeRO state's group) [0,2,4,6] [1,3,5,7] (megatron/core/parallel_state.py
   * RankGenerator(tp=2, ep=1, dp=2, pp=1, cp=2, order="tp-cp-ep-dp-pp"), run), which are the lists
   * below: a TP rank's DP x CP group is every id of that TP rank.
   */
  @Test
  void contextParallelPeersOfTp2Cp2Pp1Dp2() throws Exception {
    Map<String, Map<String, Object>> peers = Peers.of(withParallel(2, 2, 1, 2));
    assertThat(peers.keySet()).containsExactly("0", "1", "2", "3", "4", "5", "6", "7");
    assertThat(peers.get("0")).containsExactly(
        Map.entry("tensor", List.of(0, 1)), Map.entry("context", List.of(0, 2)), Map.entry("data", List.of(0, 4)),
        Map.entry("data_context", List.of(0, 2, 4, 6)));
    assertThat(peers.get("1")).containsExactly(
        Map.entry("tensor", List.of(0, 1)), Map.entry("context", List.of(1, 3)), Map.entry("data", List.of(1, 5)),
        Map.entry("data_context", List.of(1, 3, 5, 7)));
    assertThat(peers.get("2")).containsExactly(
        Map.entry("tensor", List.of(2, 3)), Map.entry("context", List.of(0, 2)), Map.entry("data", List.of(2, 6)),
        Map.entry("data_context", List.of(0, 2, 4, 6)));
    assertThat(peers.get("3")).containsExactly(
        Map.entry("tensor", List.of(2, 3)), Map.entry("context", List.of(1, 3)), Map.entry("data", List.of(3, 7)),
        Map.entry("data_context", List.of(1, 3, 5, 7)));
    assertThat(peers.get("4")).containsExactly(
        Map.entry("tensor", List.of(4, 5)), Map.entry("context", List.of(4, 6)), Map.entry("data", List.of(0, 4)),
        Map.entry("data_context", List.of(0, 2, 4, 6)));
    assertThat(peers.get("7")).containsExactly(
        Map.entry("tensor", List.of(6, 7)), Map.entry("context", List.of(5, 7)), Map.entry("data", List.of(3, 7)),
        Map.entry("data_context", List.of(1, 3, 5, 7)));
  }

  /**
   * TP 1, CP 2, PP 2, DP 2 (8 processors): id = (di*2 + pi)*2 + ci. Processor 5 is DP rank 1,
   * stage 0, CP rank 1: CP peers 4 and 5, next stage 7 (same CP rank), DP peers 1 and 5; no tensor
   * entry at TP 1. Every processor's pipeline peer keeps its CP and DP ranks. Its DP x CP group is
   * its stage's four processors, (CP, DP) ranks (0,0) (1,0) (0,1) (1,1): ids 0, 1, 4, 5 for stage 0
   * and 2, 3, 6, 7 for stage 1. Megatron-Core numbers the same processors otherwise (tp-cp-ep-dp-pp:
   * rank = ci + 2*di + 4*pi) and its RankGenerator(tp=1, ep=1, dp=2, pp=2, cp=2) gives the dp-cp
   * groups [0,1,2,3] (stage 0) and [4,5,6,7] (stage 1): the same members, as {@link #megatronRank}
   * maps them below.
   */
  @Test
  void contextParallelPeersBesidePipelineStages() throws Exception {
    Map<String, Map<String, Object>> peers = Peers.of(withParallel(1, 2, 2, 2));
    assertThat(peers).hasSize(8);
    assertThat(peers.get("5")).containsExactly(
        Map.entry("context", List.of(4, 5)), Map.entry("pipeline", 7), Map.entry("data", List.of(1, 5)),
        Map.entry("data_context", List.of(0, 1, 4, 5)));
    assertThat(peers.get("2")).containsExactly(
        Map.entry("context", List.of(2, 3)), Map.entry("pipeline", 0), Map.entry("data", List.of(2, 6)),
        Map.entry("data_context", List.of(2, 3, 6, 7)));
    // the file's groups, in Megatron-Core's ranks, are RankGenerator's dp-cp groups
    assertThat(megatronRanks(peers.get("5").get("data_context"), 1, 2, 2, 2)).containsExactly(0, 1, 2, 3);
    assertThat(megatronRanks(peers.get("2").get("data_context"), 1, 2, 2, 2)).containsExactly(4, 5, 6, 7);
    // every processor of a stage has the same group; together they cover the stage's ids once
    for (int id = 0; id < 8; id++) {
      int stage = (id / 2) % 2;
      assertThat(peers.get(Integer.toString(id)).get("data_context"))
          .isEqualTo(stage == 0 ? List.of(0, 1, 4, 5) : List.of(2, 3, 6, 7));
    }
  }

  /**
   * The file's ids of a group as Megatron-Core's ranks (order tp-cp-ep-dp-pp, EP 1: rank = ti +
   * TP*(ci + CP*(di + DP*pi))), sorted: file id = ((di*PP + pi)*CP + ci)*TP + ti taken apart.
   */
  private static List<Integer> megatronRanks(Object group, int tp, int cp, int pp, int dp) {
    @SuppressWarnings("unchecked")
    List<Integer> ids = (List<Integer>) group;
    return ids.stream().map(id -> megatronRank(id, tp, cp, pp, dp)).sorted().toList();
  }

  private static int megatronRank(int id, int tp, int cp, int pp, int dp) {
    int ti = id % tp;
    int ci = (id / tp) % cp;
    int pi = (id / (tp * cp)) % pp;
    int di = id / (tp * cp * pp);
    return ti + tp * (ci + cp * (di + dp * pi));
  }

  /**
   * With DP 1 the DP x CP group is the CP group (the gradients are still reduced over CP), as
   * RankGenerator(tp=2, ep=1, dp=1, pp=2, cp=2) gives dp-cp groups [0,2] [1,3] [4,6] [5,7], its cp
   * groups; there is no data entry, as Calculon writes none at DP 1.
   */
  @Test
  void everyProcessorIsListedOnceWithContextParallelism() throws Exception {
    // TP 2 x CP 4 x PP 2 x DP 1 = 16 processors, ids 0..15 in order; each CP group has 4 members
    Map<String, Map<String, Object>> peers = Peers.of(withParallel(2, 4, 2, 1));
    assertThat(peers.keySet()).containsExactlyElementsOf(
        java.util.stream.IntStream.range(0, 16).mapToObj(Integer::toString).toList());
    // processor 11: TP rank 1, CP rank 1, stage 1 (11 = (1*4 + 1)*2 + 1)
    assertThat(peers.get("11")).containsExactly(Map.entry("tensor", List.of(10, 11)),
        Map.entry("context", List.of(9, 11, 13, 15)), Map.entry("pipeline", 3),
        Map.entry("data_context", List.of(9, 11, 13, 15)));
  }

  /** Without CP no processor has a data_context entry: the file is Calculon's. */
  @Test
  void noDataContextGroupWithoutContextParallelism() throws Exception {
    Map<String, Map<String, Object>> peers = Peers.of(withParallel(2, 1, 2, 2));
    assertThat(peers).hasSize(8);
    assertThat(peers.values()).allSatisfy(entry -> assertThat(entry).containsOnlyKeys("tensor", "pipeline", "data"));
  }

  @Test
  void nodeIdCountsTensorRanksFastestThenContextThenStagesThenReplicas() {
    assertThat(Peers.nodeId(1, 0, 1, 1, 2, 2, 1)).isEqualTo(7);
    assertThat(Peers.nodeId(1, 1, 0, 0, 1, 2, 2)).isEqualTo(6);
    // CP 1 is Calculon's numbering
    assertThat(Peers.nodeId(1, 1, 0, 1, 2, 1, 2)).isEqualTo(Peers.nodeId(1, 1, 1, 2, 2));
  }

  @Test
  void nodeIdCountsTensorRanksFastestThenStagesThenReplicas() {
    assertThat(Peers.nodeId(1, 1, 1, 2, 2)).isEqualTo(7);
    assertThat(Peers.nodeId(0, 2, 0, 1, 3)).isEqualTo(2);
  }

  /** The test resource's execution with TP, CP, PP and DP set (num_procs their product). */
  private static Execution withParallel(int tp, int cp, int pp, int dp) throws Exception {
    var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
    var json = (com.fasterxml.jackson.databind.node.ObjectNode) mapper.readTree(
        resource("/peers/tp2-pp2-dp2-execution.json").toFile());
    json.put("tensor_par", tp).put("context_par", cp).put("pipeline_par", pp).put("data_par", dp)
        .put("num_procs", tp * cp * pp * dp).put("batch_size", 8 * dp);
    Path file = java.nio.file.Files.createTempFile("peers-cp", ".json");
    try {
      mapper.writeValue(file.toFile(), json);
      return ExecutionReader.read(file);
    } finally {
      java.nio.file.Files.deleteIfExists(file);
    }
  }

  private static Path resource(String name) throws Exception {
    return Path.of(PeersTest.class.getResource(name).toURI());
  }
}
