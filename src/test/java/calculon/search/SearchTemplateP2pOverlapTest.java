package calculon.search;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.ExecutionReader;
import calculon.config.PipelineScheduleKind;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A search template's {@code pipeline_p2p_overlap} reaches every execution the search builds
 * (with or without a searched pipeline schedule), and it is no MoE key: a dense search takes it.
 */
class SearchTemplateP2pOverlapTest {
  static SearchTemplate template(Boolean overlap) throws Exception {
    ObjectNode exe = (ObjectNode) new ObjectMapper().readTree(
        Path.of("src/test/resources/faults/per-stage-inflight/exe-pp4_nm8.json").toFile());
    if (overlap != null) {
      exe.put("pipeline_p2p_overlap", overlap);
    }
    return SearchTemplate.of(ExecutionReader.read(exe, "exe.json"));
  }

  @Test
  void theTemplatesOverlapReachesTheSearchedExecutions() throws Exception {
    SearchTemplate off = template(false);
    assertThat(off.scheduleOptions(null).p2pOverlap()).isFalse();
    assertThat(off.scheduleOptions(PipelineScheduleKind.INTERLEAVED).p2pOverlap()).isFalse();
    assertThat(off.moeKeysGiven()).isEmpty();
    // absent: Megatron-Core's default, on
    assertThat(template(null).scheduleOptions(null).p2pOverlap()).isTrue();
    assertThat(template(true).scheduleOptions(null).pipelineP2pOverlap()).isTrue();
  }
}
