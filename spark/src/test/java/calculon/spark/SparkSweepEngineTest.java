package calculon.spark;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.sweep.LocalEngine;
import calculon.sweep.Sweep;
import calculon.sweep.SweepEngine;
import calculon.sweep.SweepFormat;
import calculon.sweep.SweepOutput;
import calculon.sweep.SweepRunner;
import calculon.sweep.SweepSpec;
import calculon.util.ProgressBars;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Spark engine on local[2] writes the local engine's file byte for byte (issue 12). */
class SparkSweepEngineTest {
  static final Path ROOT = Path.of(System.getProperty("calculon.root", "..")).toAbsolutePath().normalize();
  static SparkSweepEngine spark;

  @TempDir
  Path dir;

  @BeforeAll
  static void start() {
    spark = new SparkSweepEngine("local[2]");
  }

  @AfterAll
  static void stop() {
    spark.close();
  }

  static String abs(String p) {
    return ROOT.resolve(p).toString();
  }

  /** 2 models x 2 HBM sizes x 2 sizes, a search each, top 2; the 1 GiB points offload. */
  String searchSpec() {
    return "{\"models\": [\"" + abs("models/megatron-126M.json") + "\", \"" + abs("models/gpt3-13B.json") + "\"],"
        + " \"systems\": [\"" + abs("systems/a100_80g.json") + "\"],"
        + " \"search\": {\"command\": \"loe\", \"max_batch_size\": 8, \"datatype\": \"float16\", \"mbs_break\": true,"
        + " \"tp_overlap\": false, \"dp_overlap\": false},"
        + " \"grid\": {\"num_procs\": [4, 8], \"mem1.GiB\": [80, 1]}, \"top_n\": 2}";
  }

  /** 2 models x 3 x 3 fixed executions, some infeasible. */
  String fixedSpec() {
    return "{\"models\": [\"" + abs("models/megatron-1T.json") + "\", \"" + abs("models/turing-530B.json") + "\"],"
        + " \"systems\": [\"" + abs("systems/a100_80g.json") + "\"],"
        + " \"execution\": \"" + abs("examples/megatron_1T_training_4096_original.json") + "\","
        + " \"grid\": {\"mem1.GiB\": [80, 20, 160], \"networks[0].bandwidth\": {\"from\": 150, \"to\": 450, \"step\": 150}},"
        + " \"model_version\": \"calculon-moe\"}";
  }

  byte[] run(String specText, String name, SweepEngine engine) throws Exception {
    Path spec = dir.resolve(name + ".spec-in.json");
    Files.writeString(spec, specText);
    Path out = dir.resolve(name);
    Sweep s = new Sweep(SweepSpec.read(spec), SweepFormat.of(name));
    s.validate();
    try (SweepOutput o = SweepOutput.open(out, s)) {
      SweepRunner.Outcome r = SweepRunner.run(s, o, engine, ProgressBars.Mode.OFF,
          new PrintStream(PrintStream.nullOutputStream()), () -> false);
      assertThat(r.interrupted()).isFalse();
    }
    return Files.readAllBytes(out);
  }

  @Test
  void searchSweepIsByteIdenticalToTheLocalEngine() throws Exception {
    byte[] local = run(searchSpec(), "local.csv", new LocalEngine(2));
    byte[] onSpark = run(searchSpec(), "spark.csv", spark);
    assertThat(new String(onSpark)).isEqualTo(new String(local));
    // header + 8 points: two ranked records each, one record where gpt3-13B fits nowhere
    assertThat(new String(local)).contains("\n7,gpt3-13B,a100_80g,8,1,");
    assertThat(new String(local).lines().count()).isEqualTo(15);
  }

  @Test
  void fixedExecutionSweepIsByteIdenticalToTheLocalEngine() throws Exception {
    byte[] local = run(fixedSpec(), "local.jsonl", new LocalEngine(1));
    byte[] onSpark = run(fixedSpec(), "spark.jsonl", spark);
    assertThat(onSpark).isEqualTo(local);
    assertThat(new String(local)).contains("\"status\": \"infeasible: ");
  }
}
