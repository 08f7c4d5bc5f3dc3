package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * import-hf on configs a user might hand it by mistake: each is one line {@code calculon
 * import-hf: FILE: FIELD: RULE} on standard error, exit 2, no stack trace, and no model file
 * written. The configs are Meta-Llama-3-8B's published config.json with one key broken.
 */
class ImportHfBadConfigTest {
  private static final Path LLAMA = Path.of("src/test/resources/hf/Meta-Llama-3-8B.json");
  private static final String SUPPORTED = "supported: llama, mistral, mixtral, qwen2, qwen2_moe, qwen3, qwen3_moe, "
      + "deepseek_v2, deepseek_v3, gpt_oss, gemma2, gemma3, gemma3_text, nemotron";

  @TempDir
  Path tmp;

  /** Runs import-hf on {@code text} and checks the run refused it in one line; returns that line without the prefix. */
  private String refused(String text) throws Exception {
    Path config = tmp.resolve("config.json");
    Files.writeString(config, text);
    Path out = tmp.resolve("out.json");
    CliRun.Run r = CliRun.run("import-hf", config.toString(), out.toString());
    assertThat(r.status()).as(r.err()).isEqualTo(2);
    assertThat(r.err()).endsWith("\n");
    String line = r.err().substring(0, r.err().length() - 1);
    assertThat(line).doesNotContain("\n").doesNotContain("Exception").startsWith("calculon import-hf: " + config + ": ");
    assertThat(r.out()).isEmpty();
    assertThat(out).doesNotExist();
    return line.substring(("calculon import-hf: " + config + ": ").length());
  }

  /** Meta-Llama-3-8B's config with {@code change} applied, as JSON text. */
  private static String llama(Consumer<ObjectNode> change) throws Exception {
    ObjectNode c = (ObjectNode) new ObjectMapper().readTree(LLAMA.toFile());
    change.accept(c);
    return c.toString();
  }

  @Test
  void aNullOrNonStringModelTypeNamesTheRule() throws Exception {
    assertThat(refused(llama(c -> c.putNull("model_type"))))
        .isEqualTo("model_type: is null: a Hugging Face config.json names its model type (" + SUPPORTED + ")");
    assertThat(refused(llama(c -> c.put("model_type", 3))))
        .isEqualTo("model_type: must be a string naming the model type (" + SUPPORTED + "), got 3");
    assertThat(refused(llama(c -> c.putArray("model_type").add("llama"))))
        .isEqualTo("model_type: must be a string naming the model type (" + SUPPORTED + "), got [\"llama\"]");
    assertThat(refused(llama(c -> c.put("model_type", true))))
        .isEqualTo("model_type: must be a string naming the model type (" + SUPPORTED + "), got true");
  }

  /**
   * A misspelt model_type gets NearMiss's hint (edit distance with transpositions, case ignored):
   * one edit each from llama, mixtral, qwen3, qwen3_moe, gpt_oss and deepseek_v3; transformers names
   * model types case-sensitively, so "Llama" is refused too, with the hint.
   */
  @Test
  void aMisspeltModelTypeIsRefusedWithTheClosestSupportedOne() throws Exception {
    String[][] cases = {
        {"lama", "llama"}, {"mixtrall", "mixtral"}, {"qwen-3", "qwen3"}, {"qwen3moe", "qwen3_moe"},
        {"gpt-oss", "gpt_oss"}, {"deepseekv3", "deepseek_v3"}, {"Llama", "llama"}};
    for (String[] c : cases) {
      assertThat(refused(llama(n -> n.put("model_type", c[0])))).as(c[0])
          .isEqualTo("model_type: \"" + c[0] + "\" is not supported (" + SUPPORTED + ") (did you mean \"" + c[1] + "\"?)");
    }
    // nothing close: no guess
    assertThat(refused(llama(n -> n.put("model_type", "bert"))))
        .isEqualTo("model_type: \"bert\" is not supported (" + SUPPORTED + ")");
  }

  /** A multimodal config's text model type is checked by the same rule, under its own path. */
  @Test
  void aMultimodalConfigsTextModelTypeIsChecked() throws Exception {
    assertThat(refused("{\"model_type\": \"gemma3\", \"text_config\": {\"model_type\": \"gema3_text\"}}"))
        .isEqualTo("text_config.model_type: \"gema3_text\" is not supported (" + SUPPORTED + ") (did you mean \"gemma3_text\"?)");
    assertThat(refused("{\"model_type\": \"gemma3\", \"text_config\": [1]}"))
        .isEqualTo("text_config: must be a JSON object (the language model's config of a multimodal config.json), got [1]");
  }

  @Test
  void aMissingZeroOrWronglyTypedSizeNamesTheKey() throws Exception {
    assertThat(refused(llama(c -> c.remove("hidden_size")))).isEqualTo("hidden_size: missing");
    assertThat(refused(llama(c -> c.put("num_attention_heads", 0))))
        .isEqualTo("num_attention_heads: must be a positive integer, got 0");
    assertThat(refused(llama(c -> c.put("num_attention_heads", "32"))))
        .isEqualTo("num_attention_heads: must be an integer, got \"32\"");
    assertThat(refused(llama(c -> c.put("hidden_size", 4096.5)))).isEqualTo("hidden_size: must be an integer, got 4096.5");
    assertThat(refused(llama(c -> c.putNull("num_hidden_layers"))))
        .isEqualTo("num_hidden_layers: must be an integer, got null");
    assertThat(refused(llama(c -> c.put("tie_word_embeddings", "false"))))
        .isEqualTo("tie_word_embeddings: must be true or false, got \"false\"");
  }

  /**
   * Sizes that are each valid but do not fit together were written into a model file that every
   * later command refused (attn_size 0 from 4,096 / 8,192 heads; seq_size 0); now the import refuses them.
   */
  @Test
  void sizesThatDoNotFitTogetherAreRefusedAtImport() throws Exception {
    // 4,096 / 3 is no head dimension; 4,096 / 8,192 truncated to attn_size 0
    assertThat(refused(llama(c -> c.put("num_attention_heads", 3)))).isEqualTo("num_attention_heads: must divide "
        + "hidden_size=4096 when head_dim is not given (the head dimension is hidden_size / num_attention_heads), got 3");
    assertThat(refused(llama(c -> c.put("num_attention_heads", 8192)))).startsWith("num_attention_heads: must divide");
    assertThat(refused(llama(c -> c.put("num_key_value_heads", 5)))).isEqualTo("num_key_value_heads: must divide "
        + "num_attention_heads=32 (grouped-query attention shares each key/value head among a whole group of query "
        + "heads), got 5");
    assertThat(refused(llama(c -> c.put("num_local_experts", 8).put("num_experts_per_tok", 9))))
        .isEqualTo("num_experts_per_tok: must not exceed num_local_experts=8 (each token is routed to that many "
            + "different experts), got 9");
    assertThat(refused(llama(c -> c.putObject("rope_scaling").put("original_max_position_embeddings", 0))))
        .isEqualTo("rope_scaling.original_max_position_embeddings: must be a positive integer, got 0");
    assertThat(refused(llama(c -> c.put("rope_scaling", "yes")))).isEqualTo("rope_scaling: must be a JSON object "
        + "(transformers' rope_scaling: an object such as {\"rope_type\": \"llama3\", ...}, or null), got \"yes\"");
    assertThat(refused(llama(c -> c.put("attention_dropout", 2)))).isEqualTo(
        "attention_dropout: must be a probability between 0 and 1, got 2");
    assertThat(refused(llama(c -> c.put("attention_dropout", "0.1")))).isEqualTo(
        "attention_dropout: must be a number, got \"0.1\"");
  }

  /** What the importer does not check itself is caught by reading the converted model back, before writing. */
  @Test
  void aModelFileCalculonWouldRefuseIsNeverWritten() throws Exception {
    assertThat(refused(llama(c -> {
      c.put("sliding_window", 4096);
      c.putArray("layer_types");
      for (int i = 0; i < 32; i++) {
        ((com.fasterxml.jackson.databind.node.ArrayNode) c.get("layer_types")).add("local");
      }
    }))).isEqualTo("converts to a model file calculon refuses: layer_types[0]: must be sliding_attention or "
        + "full_attention, got \"local\"");
  }

  @Test
  void notAConfigObjectAtAll() throws Exception {
    assertThat(refused("")).isEqualTo("is empty (expected a JSON object)");
    assertThat(refused("[]")).isEqualTo("must be a JSON object (a Hugging Face config.json), got []");
    assertThat(refused("[{\"model_type\": \"llama\"}]"))
        .isEqualTo("must be a JSON object (a Hugging Face config.json), got [{\"model_type\":\"llama\"}]");
    assertThat(refused("{\"model_type\": \"llama\",")).startsWith("invalid JSON at line 1, column ");
  }

  /**
   * Keys that used to be read loosely: a string switch, a negative window and a null activation
   * are refused; a window of 0 means none (converted like null, without the "not modelled" note).
   */
  @Test
  void looseWindowAndActivationValuesAreRefused() throws Exception {
    Path qwen = Path.of("src/test/resources/hf/Qwen2.5-7B.json");
    ObjectNode q = (ObjectNode) new ObjectMapper().readTree(qwen.toFile());
    q.put("use_sliding_window", "no");
    assertThat(refused(q.toString())).isEqualTo("use_sliding_window: must be true or false, got \"no\"");
    assertThat(refused(llama(c -> c.put("sliding_window", -1)))).isEqualTo(
        "sliding_window: must be a window in tokens (a positive integer), 0 or null for none, got -1");
    assertThat(refused(llama(c -> c.putNull("hidden_act")))).isEqualTo(
        "hidden_act: is null: name the MLP's activation (silu, gelu*, or relu2 for nemotron), or leave the key out for silu");

    Path config = tmp.resolve("zero-window.json");
    Files.writeString(config, llama(c -> c.put("sliding_window", 0)));
    Path out = tmp.resolve("zero-window-model.json");
    CliRun.Run r = CliRun.run("import-hf", config.toString(), out.toString());
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err() + r.out()).doesNotContain("sliding");
    assertThat(new ObjectMapper().readTree(out.toFile()).has("sliding_window")).isFalse();
  }
}
