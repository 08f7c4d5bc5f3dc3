package calculon.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import calculon.model.ParameterCount;
import calculon.util.PyJson;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * import-hf on twelve published config.json files and one Nemotron-4 config from NVIDIA's
 * TensorRT-LLM tests (src/test/resources/hf, sources in its SOURCES.md): the model files read back,
 * and their parameter counts equal the published totals within 0.5% (Nemotron's its hand-derived count). Where the checkpoint's exact count is published, the count plus the parameters
 * the importer reports as not counted equals it exactly (the count is the corrected model's,
 * {@link ParameterCount#corrected}, with the final norm before the output layer).
 */
class HuggingFaceImportTest {
  private static final Path DIR = Path.of("src/test/resources/hf");
  private static final double TOLERANCE = 0.005;

  record Imported(Application app, ParameterCount count, HuggingFaceImport.Result result) {
    long inputEmbedding() { return app.architecture().vocabSize() * app.hidden(); }

    /** Parameters the importer said it could not count (the numbers in "(N parameters)"). */
    long reportedNotCounted() {
      long sum = 0;
      for (String note : result.notMapped()) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\((\\d+) parameters\\)").matcher(note);
        if (m.find()) {
          sum += Long.parseLong(m.group(1));
        }
      }
      return sum;
    }
  }

  static Imported load(String name) throws Exception {
    JsonNode config = JsonFiles.read(DIR.resolve(name + ".json"));
    HuggingFaceImport.Result r = HuggingFaceImport.convert(config, name + ".json", null);
    JsonNode model = new ObjectMapper().readTree(PyJson.dumps(r.model(), PyJson.FILE_INDENT));
    Application app = ApplicationReader.read(model, name + ".json");
    return new Imported(app, ParameterCount.corrected(app), r);
  }

  private static void near(long actual, double published, String what) {
    assertThat((double) actual).as(what + ": " + actual).isCloseTo(published, within(TOLERANCE * published));
  }

  @Test
  void llama() throws Exception {
    Imported l3 = load("Meta-Llama-3-8B");
    near(l3.count().total(), 8.03e9, "Llama 3 8B");
    assertThat(l3.count().total()).isEqualTo(8_030_261_248L);
    assertThat(l3.app().architecture().numKvHeads()).isEqualTo(8);
    assertThat(l3.app().seqSize()).isEqualTo(8192);
    Imported l70 = load("Meta-Llama-3-70B");
    near(l70.count().total(), 70.6e9, "Llama 3 70B");
    // the config's "attention_dropout": 0.0 is kept (not the model file's 0.1 default); it says
    // nothing of residual dropout, so hidden_dropout keeps the default
    assertThat(l70.app().architecture().dropout().attention()).isEqualTo(0.0);
    assertThat(l70.app().architecture().dropout().hidden()).isEqualTo(0.1);
    assertThat(l70.result().notMapped()).noneMatch(n -> n.contains("attention_dropout"));
    Imported l2 = load("Llama-2-7b-hf");
    near(l2.count().total(), 6.74e9, "Llama 2 7B");
    assertThat(l2.count().total()).isEqualTo(6_738_415_616L);
  }

  @Test
  void mistralAndMixtral() throws Exception {
    Imported m = load("Mistral-7B-v0.1");
    near(m.count().total(), 7.24e9, "Mistral 7B");
    assertThat(m.count().total()).isEqualTo(7_241_732_096L);
    // Mistral windows every layer (config sliding_window 4096)
    Architecture.SlidingWindow mw = m.app().architecture().slidingWindow();
    assertThat(mw.tokens()).isEqualTo(4096);
    assertThat(mw.windowedFraction()).isEqualTo(1.0);
    assertThat(m.result().notMapped()).noneMatch(n -> n.contains("sliding"));
    Imported x = load("Mixtral-8x7B-v0.1");
    near(x.count().total(), 46.7e9, "Mixtral 8x7B total");
    near(x.count().active(), 12.9e9, "Mixtral 8x7B active");
    assertThat(x.app().architecture().moe().numExperts()).isEqualTo(8);
    assertThat(x.app().architecture().moe().topK()).isEqualTo(2);
  }

  @Test
  void qwen() throws Exception {
    Imported q = load("Qwen2.5-7B");
    near(q.count().total(), 7.61e9, "Qwen2.5 7B");
    // the q/k/v biases are reported, not counted: with them, the checkpoint
    assertThat(q.count().total() + q.reportedNotCounted()).isEqualTo(7_615_616_512L);
    assertThat(q.result().notMapped()).noneMatch(n -> n.contains("sliding"));  // use_sliding_window false
    Imported a3b = load("Qwen3-30B-A3B");
    near(a3b.count().total(), 30.5e9, "Qwen3-30B-A3B total");
    // published 3.3B activated: ours (3.353B) truncated to 0.1B, as Qwen writes all its figures
    assertThat(a3b.count().active()).isBetween(3_300_000_000L, 3_399_999_999L);
    assertThat(a3b.count().total() + a3b.reportedNotCounted()).isEqualTo(30_532_122_624L);
    assertThat(a3b.app().attnSize()).isEqualTo(128);  // head_dim, not hidden / heads = 64
  }

  @Test
  void deepSeek() throws Exception {
    Imported v3 = load("DeepSeek-V3");
    near(v3.count().total(), 671e9, "DeepSeek-V3 total");
    near(v3.count().active() - v3.inputEmbedding(), 36.6e9, "DeepSeek-V3 active without the input embedding");
    Architecture.Moe moe = v3.app().architecture().moe();
    assertThat(moe.firstDenseLayers()).isEqualTo(3);
    assertThat(moe.sharedExperts()).isEqualTo(1);
    assertThat(v3.app().architecture().mla().qLoraRank()).isEqualTo(1536);
    assertThat(v3.app().seqSize()).isEqualTo(4096);
    assertThat(v3.result().notMapped()).noneMatch(n -> n.startsWith("num_nextn_predict_layers:"));
    assertThat(v3.app().architecture().mtpLayers()).isEqualTo(1);
    Imported lite = load("DeepSeek-V2-Lite");
    near(lite.count().total(), 15.7e9, "DeepSeek-V2-Lite total");
    // published 2.4B activated, without the input embedding as DeepSeek counts: ours 2.45B truncated
    assertThat(lite.count().active() - lite.inputEmbedding()).isBetween(2_400_000_000L, 2_499_999_999L);
    assertThat(lite.app().architecture().mla().qLoraRank()).isZero();  // q_lora_rank null
  }

  @Test
  void nemotron() throws Exception {
    Imported n = load("Nemotron-4-4B");
    Architecture a = n.app().architecture();
    // NemotronMLP: down_proj(relu2(up_proj(x))); NemotronLayerNorm1P: weight and bias
    assertThat(a.mlp().jsonName).isEqualTo("squared_relu");
    assertThat(a.norm().jsonName).isEqualTo("layernorm");
    assertThat(n.app().attnSize()).isEqualTo(128);  // kv_channels
    assertThat(a.numKvHeads()).isEqualTo(8);
    // hand-derived (SOURCES.md): 2 x 256,000 x 3,072 embeddings + 32 x (2 x 3,072^2 + 2 x 3,072 x 1,024
    // + 2 x 3,072 x 9,216 + 2 x 2 x 3,072) + the final norm's 2 x 3,072
    long perLayer = 2L * 3072 * 3072 + 2L * 3072 * 1024 + 2L * 3072 * 9216 + 2L * 2 * 3072;
    assertThat(perLayer * 32 + 2L * 256_000 * 3072 + 2 * 3072).isEqualTo(4_190_509_056L);
    assertThat(n.count().total()).isEqualTo(4_190_509_056L);
    // the half-rotated heads are named, not silently dropped
    assertThat(n.result().notMapped()).anyMatch(note -> note.startsWith("partial_rotary_factor 0.5: the rotary embedding"));
    // a Nemotron config with a gated activation is refused in one line
    ObjectNode gated = (ObjectNode) JsonFiles.read(DIR.resolve("Nemotron-4-4B.json"));
    gated.put("hidden_act", "silu");
    assertThatThrownBy(() -> HuggingFaceImport.convert(gated, "n.json", null))
        .isInstanceOf(ConfigError.class).hasMessageContaining("n.json").hasMessageContaining("hidden_act")
        .hasMessageContaining("relu2: squared_relu");
  }

  @Test
  void gptOss() throws Exception {
    Imported g = load("gpt-oss-120b");
    near(g.count().total(), 116.83e9, "gpt-oss-120b total");
    near(g.count().active() - g.inputEmbedding(), 5.13e9, "gpt-oss-120b active without the input embedding");
    assertThat(g.app().architecture().linearBiases()).isTrue();
    assertThat(g.app().seqSize()).isEqualTo(4096);
    // the same model as the shipped, hand-written file
    Application shipped = ApplicationReader.read(Path.of("models/gpt-oss-120b.json"));
    assertThat(ParameterCount.corrected(shipped)).isEqualTo(g.count());
    // layer_types (sliding, full, ...) windows the same blocks as the file's pattern 2
    Architecture.SlidingWindow imported = g.app().architecture().slidingWindow();
    Architecture.SlidingWindow written = shipped.architecture().slidingWindow();
    assertThat(imported.tokens()).isEqualTo(written.tokens()).isEqualTo(128);
    for (long b = 0; b < 36; b++) {
      assertThat(imported.isWindowed(b)).as("block " + b).isEqualTo(written.isWindowed(b));
    }
  }

  @Test
  void gemma() throws Exception {
    Imported g2 = load("gemma-2-9b");
    near(g2.count().total(), 9.24e9, "Gemma 2 9B");
    assertThat(g2.app().architecture().mlp()).isEqualTo(Architecture.MlpKind.GEGLU);
    assertThat(g2.app().architecture().tiedEmbeddings()).isTrue();
    assertThat(g2.count().total() + g2.reportedNotCounted()).isEqualTo(9_241_705_984L);
    // Gemma 2 alternates windowed and full blocks, windowed first
    Architecture.SlidingWindow w2 = g2.app().architecture().slidingWindow();
    assertThat(w2.tokens()).isEqualTo(4096);
    assertThat(w2.isWindowed(0)).isTrue();
    assertThat(w2.isWindowed(1)).isFalse();
    Imported g3 = load("gemma-3-1b-pt");
    // Gemma 3: five windowed blocks per full one (sliding_window_pattern 6), window 512
    Architecture.SlidingWindow w3 = g3.app().architecture().slidingWindow();
    assertThat(w3.tokens()).isEqualTo(512);
    assertThat(w3.isWindowed(4)).isTrue();
    assertThat(w3.isWindowed(5)).isFalse();
    near(g3.count().total(), 302e6 + 698e6, "Gemma 3 1B");
    assertThat(g3.count().total() + g3.reportedNotCounted()).isEqualTo(999_885_952L);
  }

  @Test
  void everyShippedConfigConverts() throws Exception {
    List<String> names = List.of("Meta-Llama-3-8B", "Meta-Llama-3-70B", "Llama-2-7b-hf", "Mistral-7B-v0.1",
        "Mixtral-8x7B-v0.1", "Qwen2.5-7B", "Qwen3-30B-A3B", "DeepSeek-V2-Lite", "DeepSeek-V3", "gpt-oss-120b",
        "gemma-2-9b", "gemma-3-1b-pt");
    for (String n : names) {
      Imported i = load(n);
      assertThat(i.result().notMapped().get(0)).as(n).startsWith("seq_size ");
      assertThat(i.result().model().get("source").toString()).as(n).contains("import-hf");
    }
  }

  @Test
  void aGivenSequenceLengthWins() throws Exception {
    HuggingFaceImport.Result r = HuggingFaceImport.convert(JsonFiles.read(DIR.resolve("Qwen2.5-7B.json")),
        "Qwen2.5-7B.json", 4096L);
    assertThat(r.model().get("seq_size")).isEqualTo(4096L);
  }

  @Test
  void anUnsupportedOrBrokenConfigIsOneLine() throws Exception {
    ObjectNode c = (ObjectNode) JsonFiles.read(DIR.resolve("Meta-Llama-3-8B.json"));
    c.put("model_type", "bert");
    assertThatThrownBy(() -> HuggingFaceImport.convert(c, "c.json", null)).isInstanceOf(ConfigError.class)
        .hasMessageStartingWith("c.json: model_type: \"bert\" is not supported");
    c.put("model_type", "llama");
    c.remove("hidden_size");
    assertThatThrownBy(() -> HuggingFaceImport.convert(c, "c.json", null)).isInstanceOf(ConfigError.class)
        .hasMessage("c.json: hidden_size: missing");
    c.put("hidden_size", 4096);
    c.put("hidden_act", "relu");
    assertThatThrownBy(() -> HuggingFaceImport.convert(c, "c.json", null)).isInstanceOf(ConfigError.class)
        .hasMessageContaining("hidden_act");
    // a string key of the wrong type: the rule, not "must be a string (one of a string)"
    c.put("hidden_act", 3);
    assertThatThrownBy(() -> HuggingFaceImport.convert(c, "c.json", null)).isInstanceOf(ConfigError.class)
        .hasMessage("c.json: hidden_act: must be a string, got 3");
  }
}
