package calculon.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sweep says once, as {@code llm} and the searches do (BlockRecomputeNoteTest), where
 * {@code recompute_method: block} recomputes every block, with the points it applies to. GPT 126M
 * (12 blocks) at TP 2 x PP 2 x DP 2: 6 blocks per pipeline chunk, so N = 6 covers them and N = 5
 * does not; a search on 8 processors tries PP 1, whose one chunk holds all 12.
 */
class SweepBlockRecomputeNoteTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "models/megatron-126M.json";
  private static final String EXE = "src/test/resources/cli/dense-126M-tp2-pp2-dp2-execution.json";

  @TempDir
  Path dir;

  private Path block(String name, int n) throws Exception {
    ObjectNode e = ((ObjectNode) MAPPER.readTree(Path.of(EXE).toFile())).put("activation_recompute", "full")
        .put("recompute_method", "block").put("recompute_num_layers", n);
    Path p = dir.resolve(name);
    MAPPER.writeValue(p.toFile(), e);
    return p;
  }

  @Test
  void aFixedExecutionSweepSaysItAtThePointsWhereNCoversEveryChunk() throws Exception {
    Path exe = block("exe.json", 5);
    Path spec = Files.writeString(dir.resolve("s.json"), "{\"models\": [\"" + SweepTest.abs(MODEL) + "\"],"
        + " \"systems\": [\"" + SweepTest.abs("systems/H100_80g_sxm.json") + "\"], \"execution\": \""
        + SweepTest.abs(exe.toString()) + "\", \"grid\": {\"execution.recompute_num_layers\": [5, 6]}}");
    String note = "note: recompute_method block with recompute_num_layers 6 in " + SweepTest.abs(exe.toString())
        + " recomputes every block (no pipeline chunk has more than 6): the run is plain full recompute, as "
        + "activation_recompute full without recompute_method and recompute_num_layers";
    assertThat(SweepTest.sweep(spec, SweepFormat.CSV).blockRecomputeNotes())
        .containsExactly(note + " at 1 of 2 points (the first: point 1)");
    CliRun.Run r = CliRun.run("sweep", spec.toString(), dir.resolve("o.csv").toString(), "--quiet", "-c", "1");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo("calculon sweep: " + note + " at 1 of 2 points (the first: point 1)\n");
  }

  @Test
  void aSearchSweepSaysItWhereTheTemplateCoversEveryChunkOfEveryPoint() throws Exception {
    Path twelve = block("t12.json", 12);
    Path eleven = block("t11.json", 11);
    String head = "{\"models\": [\"" + SweepTest.abs(MODEL) + "\"], \"systems\": [\""
        + SweepTest.abs("systems/H100_SXM_80g_dense.json") + "\"], \"search\": {\"command\": \"loe\", \"num_procs\": 8,"
        + " \"max_batch_size\": 8, \"datatype\": \"bfloat16\", \"execution_template\": \"";
    String tail = "\"}, \"grid\": {\"max_batch_size\": [4, 8]}}";
    Path covers = Files.writeString(dir.resolve("c.json"), head + SweepTest.abs(twelve.toString()) + tail);
    assertThat(SweepTest.sweep(covers, SweepFormat.CSV).blockRecomputeNotes()).containsExactly(
        "note: recompute_method block with recompute_num_layers 12 in " + SweepTest.abs(twelve.toString())
            + " recomputes every block of this search's executions with full recompute (no pipeline chunk has more "
            + "than 12): they run as plain full recompute, as activation_recompute full without recompute_method and "
            + "recompute_num_layers");
    Path partial = Files.writeString(dir.resolve("p.json"), head + SweepTest.abs(eleven.toString()) + tail);
    assertThat(SweepTest.sweep(partial, SweepFormat.CSV).blockRecomputeNotes()).isEmpty();
  }
}
