package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file of another kind given as sweep's SPEC (a model, system or execution file, search results,
 * the record a sweep writes beside its OUTPUT) is named by the two keys that mark its kind
 * (config.FileKind), in one line, exit 2, OUTPUT not created; before, the SPEC reader listed the
 * file's keys as unknown against a SPEC's. The reverse, a sweep SPEC given to llm, is named by the
 * model, execution and system readers the same way.
 */
class SweepSpecKindTest {
  private static final String HINT = ": check which file goes where (SPEC comes first: calculon sweep SPEC OUTPUT)\n";

  @TempDir
  Path dir;

  private void refused(String spec, String looksLike) {
    Path out = dir.resolve("q3.csv");
    CliRun.Run r = MainTest.run("sweep", spec, out.toString());
    assertThat(r.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).isEqualTo("calculon sweep: " + spec + ": this looks like " + looksLike
        + ", not a sweep spec (models, systems)" + HINT);
    assertThat(out).doesNotExist();
  }

  @Test
  void inputFilesGivenAsSpecAreNamed() {
    refused("models/megatron-1T.json", "a model file (hidden, num_blocks)");
    refused("systems/a100_80g.json", "a system file (matrix, networks)");
    refused("examples/3072_t4_p64_d12_mbs4_full.json", "an execution file (num_procs, tensor_par)");
  }

  @Test
  void filesCalculonWritesGivenAsSpecAreNamed() throws Exception {
    Path results = Files.writeString(dir.resolve("best.json"), "{\"0\": {\"execution\": {}, \"stats\": {}}}");
    refused(results.toString(), "search results (\"0\": execution, stats)");
    Path record = Files.writeString(dir.resolve("out.csv.spec.json"),
        "{\"fingerprint\": \"f0e7\", \"format\": \"CSV\", \"spec\": {}}");
    refused(record.toString(), "a sweep output's record (fingerprint, spec)");
  }

  @Test
  void aSpecListedInASpecIsNamed() throws Exception {
    String quick = Path.of("examples/sweeps/quick.json").toAbsolutePath().toString();
    Path spec = Files.writeString(dir.resolve("nest.json"), "{\"models\": [\"" + quick + "\"], \"systems\": [\""
        + Path.of("systems/a100_80g.json").toAbsolutePath() + "\"], \"execution\": \""
        + Path.of("examples/3072_t4_p64_d12_mbs4_full.json").toAbsolutePath() + "\"}");
    CliRun.Run r = MainTest.run("sweep", spec.toString(), dir.resolve("n.csv").toString());
    assertThat(r.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(r.err()).isEqualTo("calculon sweep: " + spec + ": models[0]: " + quick + " looks like a sweep spec "
        + "(models, systems), not a model file (hidden, num_blocks): a SPEC lists model, system and execution files, "
        + "not another SPEC\n");
  }

  @Test
  void aSpecWithATypoStillGetsTheUnknownKeyLine() throws Exception {
    // it has systems: a SPEC, whose misspelt key is named as before
    Path spec = Files.writeString(dir.resolve("typo.json"), "{\"model\": [], \"systems\": []}");
    CliRun.Run r = MainTest.run("sweep", spec.toString(), dir.resolve("t.csv").toString());
    assertThat(r.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(r.err()).startsWith("calculon sweep: " + spec + ": model: unknown key").doesNotContain("looks like");
  }

  @Test
  void aSweepSpecGivenToLlmIsNamed() {
    String spec = "examples/sweeps/quick.json";
    String order = ": check which file goes where (the command's --help lists its arguments in order)\n";
    CliRun.Run asExecution = MainTest.run("llm", "models/megatron-1T.json", spec, "systems/a100_80g.json",
        dir.resolve("o.json").toString());
    assertThat(asExecution.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(asExecution.err()).isEqualTo("calculon llm: " + spec
        + ": this looks like a sweep spec (models, systems), not an execution file" + order);
    CliRun.Run asModel = MainTest.run("llm", spec, "examples/3072_t4_p64_d12_mbs4_full.json", "systems/a100_80g.json",
        dir.resolve("o.json").toString());
    assertThat(asModel.err()).isEqualTo("calculon llm: " + spec + ": this looks like a sweep spec (models, systems), "
        + "not a model file" + order);
    assertThat(dir.resolve("o.json")).doesNotExist();
  }
}
