package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** import-hf on the command line, and lpc -e's parameters per GPU. */
class ImportHfCommandTest {
  private static final Path MIXTRAL = Path.of("src/test/resources/hf/Mixtral-8x7B-v0.1.json");

  private static String sha256(Path p) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
  }

  @Test
  void writesAModelFileThatLpcReadsAndReportsWhatItCouldNotMap(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("mixtral.json");
    CliRun.Run r = CliRun.run("import-hf", MIXTRAL.toString(), out.toString());
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).contains("calculon import-hf: seq_size 32768 from max_position_embeddings");
    CliRun.Run lpc = CliRun.run("lpc", out.toString());
    assertThat(lpc.out()).contains("46.703 G total, 12.880 G active (8 experts, top-2)");
  }

  /**
   * The advice to give --seq-size is for a length read from the config; with --seq-size given the
   * note names the flag as the source and gives no advice (it once told the user to pass the flag
   * they had just passed).
   */
  @Test
  void seqSizeFromTheFlagIsNotedWithoutAdvice(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("mixtral.json");
    CliRun.Run r = CliRun.run("import-hf", MIXTRAL.toString(), out.toString(), "--seq-size", "4096");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).contains("calculon import-hf: seq_size 4096 from --seq-size\n")
        .doesNotContain("give --seq-size");
    assertThat(Files.readString(out)).contains("\"seq_size\": 4096");
    CliRun.Run fromConfig = CliRun.run("import-hf", MIXTRAL.toString(), tmp.resolve("m2.json").toString());
    assertThat(fromConfig.err()).contains("seq_size 32768 from max_position_embeddings (give --seq-size for your "
        + "training sequence length)");
  }

  @Test
  void neverOverwritesItsInputOrAnExistingFile(@TempDir Path tmp) throws Exception {
    Path config = tmp.resolve("config.json");
    Files.copy(MIXTRAL, config);
    String before = sha256(config);
    for (String out : new String[] {config.toString(), tmp.resolve("./sub/../config.json").toString()}) {
      CliRun.Run r = CliRun.run("import-hf", config.toString(), out);
      assertThat(r.status()).isEqualTo(2);
      assertThat(r.err().strip()).doesNotContain("\n").contains("is the Hugging Face config given as CONFIG").contains("give another output name");
    }
    Path link = tmp.resolve("link.json");
    Files.createSymbolicLink(link, config);
    CliRun.Run viaLink = CliRun.run("import-hf", config.toString(), link.toString());
    assertThat(viaLink.status()).isEqualTo(2);
    assertThat(sha256(config)).isEqualTo(before);

    Path existing = tmp.resolve("mine.json");
    Files.writeString(existing, "{\"hidden\": 1}");
    CliRun.Run r = CliRun.run("import-hf", config.toString(), existing.toString());
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("exists");
    assertThat(Files.readString(existing)).isEqualTo("{\"hidden\": 1}");
    assertThat(CliRun.run("import-hf", "--force", config.toString(), existing.toString()).status()).isZero();
  }

  @Test
  void aConfigWithoutModelTypeSaysTheKeyIsMissing(@TempDir Path tmp) throws Exception {
    Path config = tmp.resolve("nomodeltype.json");
    Files.writeString(config, "{\"hidden_size\": 768, \"num_hidden_layers\": 12}");
    CliRun.Run r = CliRun.run("import-hf", config.toString(), tmp.resolve("out.json").toString());
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("calculon import-hf: " + config + ": model_type: missing: a Hugging Face "
        + "config.json names its model type (supported: llama, mistral, mixtral, qwen2, qwen2_moe, qwen3, qwen3_moe, "
        + "deepseek_v2, deepseek_v3, gpt_oss, gemma2, gemma3, gemma3_text, nemotron)");
    assertThat(tmp.resolve("out.json")).doesNotExist();
  }

  @Test
  void anUnsupportedModelTypeIsOneLineWithExitTwo(@TempDir Path tmp) throws Exception {
    Path config = tmp.resolve("bert.json");
    Files.writeString(config, "{\"model_type\": \"bert\", \"hidden_size\": 768}");
    CliRun.Run r = CliRun.run("import-hf", config.toString(), tmp.resolve("out.json").toString());
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("calculon import-hf: " + config + ": model_type: \"bert\" is not supported (supported: llama, "
        + "mistral, mixtral, qwen2, qwen2_moe, qwen3, qwen3_moe, deepseek_v2, deepseek_v3, gpt_oss, gemma2, gemma3, gemma3_text, nemotron)");
    assertThat(tmp.resolve("out.json")).doesNotExist();
  }

  /**
   * A calculon file given as CONFIG (users reach for models/*.json first) once read as a config of
   * an unknown model ({@code model_type: "" is not supported (supported: ...)}); now one line says
   * which calculon kind it is, by FileKind's two keys, and what import-hf reads. Nothing is written.
   */
  @Test
  void aCalculonFileGivenAsConfigIsNamedAsSuch(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("out.json");
    String reads = "not a Hugging Face config.json (import-hf reads a model's config.json from its Hugging Face Hub "
        + "repository, with model_type, hidden_size, num_hidden_layers, ...";
    CliRun.Run model = CliRun.run("import-hf", "models/llama3-8B.json", out.toString());
    assertThat(model.status()).isEqualTo(2);
    assertThat(model.err()).isEqualTo("calculon import-hf: models/llama3-8B.json is a calculon model file "
        + "(hidden, num_blocks), " + reads + "; a calculon model file needs no import: give it to llm, lpc or a "
        + "search as it is)\n");
    CliRun.Run execution = CliRun.run("import-hf", "examples/llama3-8B_64xH100.json", out.toString());
    assertThat(execution.status()).isEqualTo(2);
    assertThat(execution.err()).isEqualTo("calculon import-hf: examples/llama3-8B_64xH100.json is a calculon "
        + "execution file (num_procs, tensor_par), " + reads + ")\n");
    CliRun.Run system = CliRun.run("import-hf", "systems/H100_80g.json", out.toString());
    assertThat(system.status()).isEqualTo(2);
    assertThat(system.err()).isEqualTo("calculon import-hf: systems/H100_80g.json is a calculon system file "
        + "(matrix, networks), " + reads + ")\n");
    assertThat(out).doesNotExist();
  }

  /**
   * Llama 3 8B at TP 8, PP 1 (examples/llama3-8B_64xH100.json): per block the norms 2 x 4,096,
   * attention (4,096 x 4,096 x 2 + 2 x 4,096 x 1,024) / 8 = 5,242,880 and SwiGLU 3 x 4,096 x 14,336 / 8
   * = 22,020,096; 32 blocks; the untied input and output tables 128,256 x 4,096 / 8 each; the final
   * RMSNorm 4,096 (replicated, on the last stage).
   */
  @Test
  void lpcPrintsParametersPerGpuForADenseExecution() {
    long block = 8_192 + 5_242_880 + 22_020_096;
    long perGpu = 32 * block + 2 * (128_256L * 4_096 / 8) + 4_096;
    assertThat(perGpu).isEqualTo(1_004_015_616L);
    CliRun.Run r = CliRun.run("lpc", "models/llama3-8B.json", "-e", "examples/llama3-8B_64xH100.json");
    assertThat(r.status()).isZero();
    assertThat(r.out()).endsWith("-> 1.004 G per GPU (largest pipeline stage; TP 8, PP 1)\n");
  }

  /**
   * gpt-1.8T with 16 experts at TP 8, PP 4, EP 16, ES 8 (examples/gpt_1.8_training_4096.json):
   * 30 blocks per stage, each with LayerNorms 4 x 10,752 = 43,008, attention (462,422,016 + 43,008 biases) / 8
   * = 57,808,128, the replicated router 10,752 x 16 = 172,032 and one expert (924,844,032 + 53,760) / 8
   * = 115,612,224; the first stage adds the tied table 51,200 x 10,752 / 8 = 68,812,800 and learned
   * positions 4,096 x 10,752 = 44,040,192 (the last stage's copy of the table is smaller).
   */
  @Test
  void lpcPrintsParametersPerGpuForAMoeExecution() {
    long block = 43_008 + 57_808_128 + 172_032 + 115_612_224;
    long first = 30 * block + 68_812_800 + 44_040_192;
    assertThat(first).isEqualTo(5_321_914_752L);
    CliRun.Run r = CliRun.run("lpc", "models/gpt-1.8T.json", "-e", "examples/gpt_1.8_training_4096.json");
    assertThat(r.out()).endsWith("-> 5.322 G per GPU (largest pipeline stage; TP 8, PP 4, EP 16, ES 8)\n");
  }
}
