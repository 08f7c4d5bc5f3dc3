package calculon.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every model and system file in the repository reads without error; the modern model files and
 * the datasheet systems say where their numbers come from (docs/models.md lists them all).
 */
class ShippedFilesTest {
  /** Model files with a "source" key: each names its publication and config fields. */
  static final List<String> MODERN_MODELS = List.of("llama3-8B", "llama3-70B", "llama3-405B", "mixtral-8x7B",
      "mixtral-8x22B", "qwen3-30B-A3B", "qwen3-235B-A22B", "deepseek-v3", "gpt-oss-120b");
  /** System files built from datasheets, sourced in systems/SOURCES.md (system files allow no extra key). */
  static final List<String> DATASHEET_SYSTEMS = List.of("H100_SXM_80g_dense", "H100_SXM_96g_hbm2e_dense", "H200_SXM_141g_dense",
      "B200_HGX_180g_dense", "GB200_NVL72_186g_dense", "GB300_NVL72_288g_dense");

  private static List<Path> json(String dir) throws Exception {
    try (Stream<Path> s = Files.list(Path.of(dir))) {
      return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
  }

  @Test
  void everyModelFileReads() throws Exception {
    List<Path> models = json("models");
    assertThat(models).hasSizeGreaterThanOrEqualTo(17 + MODERN_MODELS.size());
    for (Path p : models) {
      assertThatCode(() -> ApplicationReader.read(p)).as(p.toString()).doesNotThrowAnyException();
    }
  }

  @Test
  void everySystemFileReads() throws Exception {
    List<Path> systems = json("systems");
    assertThat(systems).hasSizeGreaterThanOrEqualTo(15 + DATASHEET_SYSTEMS.size());
    for (Path p : systems) {
      assertThatCode(() -> SystemReader.read(p)).as(p.toString()).doesNotThrowAnyException();
    }
  }

  @Test
  void modernModelsGiveTheirSourceVocabularyAndTying() throws Exception {
    for (String m : MODERN_MODELS) {
      Path p = Path.of("models", m + ".json");
      JsonNode node = JsonFiles.read(p);
      assertThat(node.path("source").isTextual()).as(m + " has a source").isTrue();
      assertThat(node.path("source").asText()).as(m).contains("config.json");
      // an absent vocab_size means Calculon's 51,200 without vocabulary layers, an absent
      // tied_embeddings means tied: a modern file sets both
      assertThat(node.has("vocab_size")).as(m + " sets vocab_size").isTrue();
      assertThat(node.path("tied_embeddings").isBoolean()).as(m + " sets tied_embeddings").isTrue();
      Application app = ApplicationReader.read(p);
      assertThat(app.architecture().modelsVocabulary()).as(m).isTrue();
      assertThat(app.architecture().tiedEmbeddings()).as(m + " is untied").isFalse();
      assertThat(app.architecture().learnedPositions()).as(m + " uses rotary positions").isFalse();
    }
  }

  @Test
  void datasheetSystemsAreSourcedAndListed() throws Exception {
    String sources = Files.readString(Path.of("systems/SOURCES.md"));
    String table = Files.readString(Path.of("docs/models.md"));
    for (String s : DATASHEET_SYSTEMS) {
      assertThat(sources).as("systems/SOURCES.md").contains("## " + s + ".json");
      assertThat(table).as("docs/models.md").contains("systems/" + s + ".json");
      SystemSpec sys = SystemReader.read(Path.of("systems", s + ".json"));
      // dense (not 2:4-sparse) tensor rates: bf16 at most 2.5 PFLOP/s per GPU
      assertThat(sys.matrix().get(Datatype.BFLOAT16).tflops()).as(s).isBetween(900.0, 2500.0);
      assertThat(sys.matrix().get(Datatype.FLOAT16).tflops()).isEqualTo(sys.matrix().get(Datatype.BFLOAT16).tflops());
      assertThat(sys.networks()).hasSize(2);
      assertThat(sys.networks().get(0).ops()).containsKey("all_to_all");
      assertThat(sys.networks().get(1).ops()).containsKey("all_to_all");
    }
    for (String m : MODERN_MODELS) {
      assertThat(table).as("docs/models.md").contains("models/" + m + ".json");
    }
  }

  @Test
  void gb300IsTheGb200WithBlackwellUltrasFp4MemoryAndScaleOut() throws Exception {
    // systems/SOURCES.md: the same 16- and 8-bit rates, 1.5x the dense FP4 (15 vs 10 PFLOP/s),
    // 288 GB of HBM3e, and an 800 Gb/s ConnectX-8 per GPU (100 GB/s) instead of 400 Gb/s
    SystemSpec gb200 = SystemReader.read(Path.of("systems/GB200_NVL72_186g_dense.json"));
    SystemSpec gb300 = SystemReader.read(Path.of("systems/GB300_NVL72_288g_dense.json"));
    for (Datatype t : List.of(Datatype.FLOAT32, Datatype.BFLOAT16, Datatype.FLOAT8)) {
      assertThat(gb300.matrix().get(t).tflops()).as(t.toString()).isEqualTo(gb200.matrix().get(t).tflops());
    }
    assertThat(gb300.matrix().get(Datatype.FLOAT4).tflops()).isEqualTo(15000.0);
    assertThat(gb300.matrix().get(Datatype.FLOAT4).tflops() / gb200.matrix().get(Datatype.FLOAT4).tflops()).isEqualTo(1.5);
    assertThat(gb300.mem1().gib()).isEqualTo(288.0);
    assertThat(gb300.networks().get(0).size()).isEqualTo(72);
    assertThat(gb300.networks().get(1).bandwidthGBps()).isEqualTo(2 * gb200.networks().get(1).bandwidthGBps());
  }
}
