package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Issue 13, item 6, end to end: on one processor (TP 1 only) the corrected model's top 3 are three
 * different executions, each listing the TP comm types merged into it; calculon-moe keeps the
 * reference's enumeration (no merging, no "equivalent" key).
 */
class SearchEquivalentsCliTest {
  @TempDir Path dir;

  private String run(Path out, String... extra) {
    OptimalExecutionCommand cmd = new OptimalExecutionCommand();
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    cmd.out = new PrintStream(o, true, StandardCharsets.UTF_8);
    cmd.err = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    String[] base = {"models/megatron-126M.json", "1", "4", "float16", "systems/a100_80g.json",
        out.toString(), "-t", "3", "--quiet", "-c", "2"};
    String[] args = new String[base.length + extra.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    assertThat(new CommandLine(cmd).execute(args)).isZero();
    return o.toString(StandardCharsets.UTF_8);
  }

  @Test
  void correctedTopEntriesAreDistinctAndListTheirEquivalents() throws Exception {
    Path out = dir.resolve("best.json");
    String printed = run(out);
    assertThat(printed).containsPattern("Merged no-op duplicates: [1-9]");
    JsonNode doc = new ObjectMapper().readTree(out.toFile());
    assertThat(doc.size()).isEqualTo(3);
    Set<String> stats = new HashSet<>();
    for (JsonNode e : doc) {
      stats.add(e.get("stats").toString());
      JsonNode exe = e.get("execution");
      assertThat(exe.get("tensor_par").asInt()).isEqualTo(1);
      if (!exe.get("seq_par_ag_redo").asBoolean()) {
        assertThat(exe.get("tensor_par_comm_type").asText()).isEqualTo("ar");
        assertThat(e.get("equivalent").toString())
            .isEqualTo("[{\"tensor_par_comm_type\":\"p2p_rs_ag\"},{\"tensor_par_comm_type\":\"rs_ag\"}]");
      } else {
        assertThat(e.has("equivalent")).isFalse();
      }
    }
    assertThat(stats).as("three different executions, not one three times").hasSize(3);
  }

  @Test
  void calculonMoeKeepsTheReferenceEnumeration() throws Exception {
    Path out = dir.resolve("ref.json");
    String printed = run(out, "--model-version", "calculon-moe");
    assertThat(printed).doesNotContain("Merged");
    for (JsonNode e : new ObjectMapper().readTree(out.toFile())) {
      assertThat(e.has("equivalent")).isFalse();
    }
  }
}
