package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.cli.CliRun.Run;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.search.BlockRecomputeNote;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code recompute_method: block} with {@code recompute_num_layers} N at least the blocks of every
 * pipeline chunk recomputes every block, each from its own checkpoint: plain full recompute. The
 * corrected model runs it and says so in one note (llm, and a search whose template sets it), and
 * says nothing where some chunk has more than N blocks. The case: GPT 126M (12 blocks) at TP 2 x
 * PP 2 x DP 2: 6 blocks per stage, 3 per chunk with interleaving 2; blocks_in_first_stage 4 leaves
 * the last stage 8.
 */
class BlockRecomputeNoteTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "models/megatron-126M.json";
  private static final String SYSTEM = "systems/H100_80g_sxm.json";
  /** A system with bfloat16 rates, for the searches. */
  private static final String SEARCH_SYSTEM = "systems/H100_SXM_80g_dense.json";
  private static final String EXE = "src/test/resources/cli/dense-126M-tp2-pp2-dp2-execution.json";

  @TempDir
  Path dir;

  @Test
  void blockCoveringEveryChunkIsSaidToBePlainFullRecompute() throws Exception {
    Path six = write("six.json", block(6));
    Run r = CliRun.run("llm", MODEL, six.toString(), SYSTEM, dir.resolve("six.stats.json").toString());
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo("calculon llm: note: recompute_method block with recompute_num_layers 6 in " + six
        + " recomputes every block (no pipeline chunk has more than 6): the run is plain full recompute, as "
        + "activation_recompute full without recompute_method and recompute_num_layers\n");
    // and it is: step time and memory are those of full recompute without the keys
    Path full = write("full.json", base().put("activation_recompute", "full"));
    Run f = CliRun.run("llm", MODEL, full.toString(), SYSTEM, dir.resolve("full.stats.json").toString());
    assertThat(f).isEqualTo(new Run(0, "", ""));
    JsonNode b = MAPPER.readTree(dir.resolve("six.stats.json").toFile());
    JsonNode p = MAPPER.readTree(dir.resolve("full.stats.json").toFile());
    for (String key : new String[] {"sample_rate", "total_time", "proc_mem_tier1_cap_req", "block_re_time"}) {
      assertThat(b.get(key).asDouble()).as(key).isCloseTo(p.get(key).asDouble(), within(1e-12 * p.get(key).asDouble()));
    }
  }

  @Test
  void noNoteWhereAChunkKeepsBlocksWithoutRecompute() throws Exception {
    // 5 of a stage's 6 blocks: the sixth runs without recompute
    Path five = write("five.json", block(5));
    assertThat(CliRun.run("llm", MODEL, five.toString(), SYSTEM, "-")).extracting(Run::status, Run::err)
        .containsExactly(0, "");
    // uneven stages 4 + 8: N = 4 covers the first stage only
    Path uneven = write("uneven4.json", block(4).put("blocks_in_first_stage", 4));
    assertThat(CliRun.run("llm", MODEL, uneven.toString(), SYSTEM, "-")).extracting(Run::status, Run::err)
        .containsExactly(0, "");
  }

  @Test
  void theLargestChunkCountsInterleavingAndUnevenStages() throws Exception {
    // interleaving 2: 3 blocks per chunk, so N = 3 covers them
    Path v2 = write("v2.json", block(3).put("pipeline_interleaving", 2));
    Run r = CliRun.run("llm", MODEL, v2.toString(), SYSTEM, "-");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).contains("recompute_num_layers 3 in " + v2 + " recomputes every block (no pipeline chunk "
        + "has more than 3)");
    // uneven stages 4 + 8: the last stage's 8 blocks bound it
    Path uneven = write("uneven8.json", block(8).put("blocks_in_first_stage", 4));
    Run u = CliRun.run("llm", MODEL, uneven.toString(), SYSTEM, "-");
    assertThat(u.status()).as(u.err()).isZero();
    assertThat(u.err()).contains("(no pipeline chunk has more than 8)");
    // the helper, by hand: 12 blocks over PP 2, v 2 -> 3; first stage 4, last 8, v 2 -> 4; PP 5
    // (stages of ceil(12 / 5) = 3 blocks) -> 3
    assertThat(BlockRecomputeNote.largestChunkBlocks(12, read(block(3).put("pipeline_interleaving", 2)))).isEqualTo(3);
    assertThat(BlockRecomputeNote.largestChunkBlocks(12,
        read(block(3).put("blocks_in_first_stage", 4).put("pipeline_interleaving", 2)))).isEqualTo(4);
    assertThat(BlockRecomputeNote.largestChunkBlocks(12,
        read(block(3).put("pipeline_par", 5).put("num_procs", 20)))).isEqualTo(3);
  }

  @Test
  void aSearchSaysItOnceWhereTheTemplateCoversEveryChunk() throws Exception {
    // 8 processors: PP 1 is searched, whose one chunk holds all 12 blocks
    Path twelve = write("t12.json", block(12));
    Run r = CliRun.run("llm-optimal-execution", MODEL, "8", "8", "bfloat16", SEARCH_SYSTEM,
        dir.resolve("o12.json").toString(), "-d", "--execution-template", twelve.toString());
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo("calculon llm-optimal-execution: note: recompute_method block with "
        + "recompute_num_layers 12 in " + twelve + " recomputes every block of this search's executions with full "
        + "recompute (no pipeline chunk has more than 12): they run as plain full recompute, as activation_recompute "
        + "full without recompute_method and recompute_num_layers\n");
    // 11: the PP 1 executions run their twelfth block without recompute
    Path eleven = write("t11.json", block(11));
    Run e = CliRun.run("llm-optimal-execution", MODEL, "8", "8", "bfloat16", SEARCH_SYSTEM,
        dir.resolve("o11.json").toString(), "-d", "--execution-template", eleven.toString());
    assertThat(e.status()).as(e.err()).isZero();
    assertThat(e.err()).isEmpty();
  }

  /** The test resource's execution under full recompute with recompute_method block, N = n. */
  private static ObjectNode block(int n) throws Exception {
    return base().put("activation_recompute", "full").put("recompute_method", "block").put("recompute_num_layers", n);
  }

  private static ObjectNode base() throws Exception {
    return (ObjectNode) MAPPER.readTree(Path.of(EXE).toFile());
  }

  private Execution read(ObjectNode json) throws Exception {
    return ExecutionReader.read(write("read-" + System.nanoTime() + ".json", json));
  }

  private Path write(String name, JsonNode node) throws Exception {
    Path p = dir.resolve(name);
    MAPPER.writeValue(p.toFile(), node);
    return p;
  }
}
