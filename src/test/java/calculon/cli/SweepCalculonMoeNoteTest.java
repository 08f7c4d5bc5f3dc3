package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sweep with {@code "model_version": "calculon-moe"} names the corrected-model keys its files give
 * and that version ignores, once on stderr, with the note llm and the searches print
 * (ExecutionDict.calculonMoeIgnoredNote; it was silent): the keys of each model file, then those of
 * the execution file or the search's execution_template, each file named as the SPEC writes it. Its
 * OUTPUT is the one the files without those keys give, byte for byte (the note tells the truth);
 * the corrected model runs them and says nothing.
 */
class SweepCalculonMoeNoteTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "models/megatron-126M.json";  // Calculon's keys only: nothing to name
  private static final String EXE = "src/test/resources/cli/dense-126M-tp2-pp2-dp2-execution.json";
  private static final String SYSTEM = "systems/a100_80g.json";

  @TempDir
  Path dir;

  private static String abs(String file) {
    return Path.of(file).toAbsolutePath().toString();
  }

  private Path json(String name, String from, Consumer<ObjectNode> edit) throws Exception {
    ObjectNode n = (ObjectNode) MAPPER.readTree(Path.of(from).toFile());
    edit.accept(n);
    Path p = dir.resolve(name);
    MAPPER.writeValue(p.toFile(), n);
    return p;
  }

  /** A SPEC in {@link #dir} running its model and execution (written as the SPEC names them) on a100_80g. */
  private Path spec(String name, String model, String exeOrSearch, String version, String grid) throws Exception {
    return Files.writeString(dir.resolve(name), "{\"models\": [\"" + model + "\"], \"systems\": [\"" + abs(SYSTEM)
        + "\"], " + exeOrSearch + ", \"model_version\": \"" + version + "\", \"grid\": " + grid + "}");
  }

  private Run sweep(Path spec, String output) {
    return CliRun.run("sweep", spec.toString(), dir.resolve(output).toString(), "--quiet", "-c", "1");
  }

  @Test
  void aFixedExecutionSweepNamesTheIgnoredKeysAsLlmDoes() throws Exception {
    // with optimizer_sharding the fork runs ZeRO stage 2: stage 1 is ignored, as flash_attention is
    json("exe.json", EXE, e -> e.put("flash_attention", true).put("zero_stage", 1));
    String grid = "{\"mem1.GiB\": [80, 120]}";
    Path fork = spec("fork.json", abs(MODEL), "\"execution\": \"exe.json\"", "calculon-moe", grid);
    Run r = sweep(fork, "fork.csv");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo("calculon sweep: note: model_version calculon-moe ignores flash_attention, zero_stage "
        + "in exe.json (corrected-model keys, docs/reference.md); the results are Calculon-MoE's without them\n");
    // llm's note for the same files, by the same code: only how the version was chosen differs
    Run llm = CliRun.run("llm", MODEL, dir.resolve("exe.json").toString(), SYSTEM, "-", "--model-version", "calculon-moe");
    assertThat(llm.err()).isEqualTo("calculon llm: note: --model-version calculon-moe ignores flash_attention, zero_stage "
        + "in " + dir.resolve("exe.json") + " (corrected-model keys, docs/reference.md); the run is Calculon-MoE's "
        + "without them\n");
    // the same sweep of the execution without them: no note, the same OUTPUT
    Files.copy(Path.of(EXE), dir.resolve("plain.json"));
    Run plain = sweep(spec("plain-spec.json", abs(MODEL), "\"execution\": \"plain.json\"", "calculon-moe", grid), "plain.csv");
    assertThat(plain.status()).as(plain.err()).isZero();
    assertThat(plain.err()).isEmpty();
    assertThat(Files.readString(dir.resolve("fork.csv"))).isEqualTo(Files.readString(dir.resolve("plain.csv")))
        .contains(",ok,");
    // the corrected model runs the keys: no note
    Run corrected = sweep(spec("c.json", abs(MODEL), "\"execution\": \"exe.json\"", "corrected", grid), "c.csv");
    assertThat(corrected.status()).as(corrected.err()).isZero();
    assertThat(corrected.err()).isEmpty();
  }

  /**
   * A grid that gives a model key a value the fork ignores at some points only says at which, as
   * the sweep's other notes count points: attention_dropout 0 (the fork always has dropout) at the
   * second of two points; a dropout of 0.1 is the fork's own and not named.
   */
  @Test
  void aGridThatMakesAModelKeyIgnoredAtSomePointsCountsThem() throws Exception {
    json("m.json", MODEL, m -> m.put("attention_dropout", 0.1));
    Files.copy(Path.of(EXE), dir.resolve("plain.json"));
    Path spec = spec("s.json", "m.json", "\"execution\": \"plain.json\"", "calculon-moe",
        "{\"model.attention_dropout\": [0.1, 0]}");
    Run r = sweep(spec, "s.csv");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo("calculon sweep: note: model_version calculon-moe ignores attention_dropout in m.json "
        + "(corrected-model keys, docs/reference.md); the results are Calculon-MoE's without them at 1 of 2 points "
        + "(the first: point 1)\n");
  }

  /** A search sweep names its execution_template's keys after the model's, as loe does. */
  @Test
  void aSearchSweepNamesItsTemplatesKeysAfterTheModels() throws Exception {
    String template = abs("examples/llama3-8B_64xH100.json");  // flash_attention: true, optimizer_kernel: fused
    json("m.json", MODEL, m -> m.put("hidden_dropout", 0.0));
    String search = "\"search\": {\"command\": \"loe\", \"num_procs\": 8, \"max_batch_size\": 8, \"datatype\": "
        + "\"float16\", \"execution_template\": \"" + template + "\"}";
    Run r = sweep(spec("s.json", "m.json", search, "calculon-moe", "{\"max_batch_size\": [8]}"), "s.csv");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo("calculon sweep: note: model_version calculon-moe ignores hidden_dropout in m.json and "
        + "flash_attention, optimizer_kernel in " + template + " (corrected-model keys, docs/reference.md); the results are "
        + "Calculon-MoE's without them\n");
    Run loe = CliRun.run("loe", dir.resolve("m.json").toString(), "8", "8", "float16", SYSTEM,
        dir.resolve("best.json").toString(), "--model-version", "calculon-moe", "--execution-template", template);
    assertThat(loe.err()).isEqualTo("calculon llm-optimal-execution: note: --model-version calculon-moe ignores "
        + "hidden_dropout in " + dir.resolve("m.json") + " and flash_attention, optimizer_kernel in " + template
        + " (corrected-model keys, docs/reference.md); the results are Calculon-MoE's without them\n");
  }
}
