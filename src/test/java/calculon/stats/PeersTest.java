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

  @Test
  void nodeIdCountsTensorRanksFastestThenStagesThenReplicas() {
    assertThat(Peers.nodeId(1, 1, 1, 2, 2)).isEqualTo(7);
    assertThat(Peers.nodeId(0, 2, 0, 1, 3)).isEqualTo(2);
  }

  private static Path resource(String name) throws Exception {
    return Path.of(PeersTest.class.getResource(name).toURI());
  }
}
