package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A corrected {@code llm} run with {@code moe_a2a_overlap} that Megatron-Core would refuse
 * ({@code TransformerConfig.__post_init__}), or where the key changes nothing (DualPipe), still
 * runs and says so in one note line on standard error; the shipped example, which Megatron-Core
 * runs, gets none.
 */
class A2aOverlapNoteTest {
  private static final String MODEL = "models/qwen3-235B-A22B.json";
  private static final String EXE = "examples/qwen3-235B-A22B_512xH100.json";
  private static final String SYSTEM = "systems/H100_SXM_80g_dense.json";

  @TempDir
  Path dir;

  private CliRun.Run run(Consumer<ObjectNode> edit) throws Exception {
    ObjectMapper json = new ObjectMapper();
    ObjectNode exe = (ObjectNode) json.readTree(Path.of(EXE).toFile());
    edit.accept(exe);
    Path file = dir.resolve("exe.json");
    json.writeValue(file.toFile(), exe);
    // a larger GPU, so that every variant fits and the note is the only thing on stderr
    ObjectNode sys = (ObjectNode) json.readTree(Path.of(SYSTEM).toFile());
    ((ObjectNode) sys.get("mem1")).put("GiB", 160);
    Path sysFile = dir.resolve("sys.json");
    json.writeValue(sysFile.toFile(), sys);
    return CliRun.run("llm", MODEL, file.toString(), sysFile.toString(), "-");
  }

  @Test
  void theShippedExampleGetsNoNote() throws Exception {
    CliRun.Run r = run(e -> { });
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
  }

  @Test
  void settingsMegatronCoreRefusesAreNamed() throws Exception {
    String exe = dir.resolve("exe.json").toString();
    CliRun.Run plainPipeline = run(e -> e.put("pipeline_par", 2).put("data_par", 256).put("data_par_exp", 2));
    assertThat(plainPipeline.status()).as(plainPipeline.err()).isZero();
    assertThat(plainPipeline.err()).isEqualTo("calculon llm: note: moe_a2a_overlap in " + exe
        + " is a setting Megatron-Core refuses (with pipeline_par above 1 it needs pipeline_interleaving above 1);"
        + " the run pairs the passes as docs/moe.md says\n");
    CliRun.Run allgather = run(e -> e.put("moe_dispatcher", "allgather"));
    assertThat(allgather.status()).as(allgather.err()).isZero();
    assertThat(allgather.err()).isEqualTo("calculon llm: note: moe_a2a_overlap in " + exe
        + " is a setting Megatron-Core refuses (it needs the alltoall or flex moe_dispatcher);"
        + " the run pairs the passes as docs/moe.md says\n");
  }

  @Test
  void dualPipeOverlapsByItself() throws Exception {
    CliRun.Run r = run(e -> e.put("pipeline_par", 2).put("data_par", 256).put("data_par_exp", 2)
        .put("pipeline_schedule", "dualpipe"));
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo("calculon llm: note: moe_a2a_overlap in " + dir.resolve("exe.json")
        + " changes nothing under pipeline_schedule dualpipe, which overlaps the all-to-alls by itself (docs/moe.md)\n");
  }
}
