package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import calculon.util.AtomicFile;
import calculon.util.Backups;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * "Nothing a user wrote, and no finished result, is ever overwritten or lost": a command that
 * replaces a file at an output path keeps it first as {@code NAME.~N~} (GNU {@code cp
 * --backup=numbered}: N one more than the highest kept), byte for byte, and says so in one line on
 * stderr; a run that fails before writing leaves the file untouched and makes no backup; standard
 * output ({@code -}) is no file.
 */
class OutputBackupsTest {
  private static final String MODEL = "models/megatron-126M.json";
  private static final String EXE = "src/test/resources/cli/dense-126M-tp2-pp2-dp2-execution.json";
  private static final String SYSTEM = "systems/H100_80g_sxm.json";
  /** A hand-written file a user might give as OUTPUT by mistake (not JSON: any bytes are kept). */
  private static final byte[] NOTES = "my notes, not a stats file\n\u00e9\0\n".getBytes(StandardCharsets.UTF_8);

  @TempDir Path dir;

  private Run llm(String stats, String... more) {
    List<String> a = new java.util.ArrayList<>(List.of("llm", MODEL, EXE, SYSTEM, stats));
    a.addAll(List.of(more));
    return CliRun.run(a.toArray(String[]::new));
  }

  /** The names in the temporary folder, sorted. */
  private List<String> names() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static String kept(String command, Path file, int n) {
    return "calculon " + command + ": kept the earlier " + file + " as " + file + ".~" + n + "~\n";
  }

  @Test
  void llmKeepsTheEarlierStatsFileAsBackupOneThenTwo() throws IOException {
    // what the run writes, to a fresh name
    Path fresh = dir.resolve("fresh.json");
    assertThat(llm(fresh.toString()).status()).isZero();
    byte[] stats = Files.readAllBytes(fresh);
    assertThat(new String(stats, StandardCharsets.UTF_8)).contains("\"sample_rate\"");

    Path out = dir.resolve("out.json");
    Files.write(out, NOTES);
    Run first = llm(out.toString());
    assertThat(first.status()).as(first.err()).isZero();
    assertThat(first.err()).isEqualTo(kept("llm", out, 1));
    assertThat(Files.readAllBytes(dir.resolve("out.json.~1~"))).isEqualTo(NOTES);
    assertThat(Files.readAllBytes(out)).isEqualTo(stats);

    Run second = llm(out.toString());
    assertThat(second.err()).isEqualTo(kept("llm", out, 2));
    assertThat(Files.readAllBytes(dir.resolve("out.json.~1~"))).isEqualTo(NOTES);
    assertThat(Files.readAllBytes(dir.resolve("out.json.~2~"))).isEqualTo(stats);
    assertThat(Files.readAllBytes(out)).isEqualTo(stats);
    assertThat(names()).containsExactly("fresh.json", "out.json", "out.json.~1~", "out.json.~2~");
  }

  @Test
  void everyOutputOfLlmIsKeptAndARelativeNameIsSaidAsGiven() throws IOException {
    Path peers = dir.resolve("peers.json");
    Path report = dir.resolve("run.html");
    Files.write(peers, NOTES);
    Files.write(report, NOTES);
    Run r = llm("-", "-p", peers.toString(), "--report", report.toString());
    assertThat(r.status()).as(r.err()).isZero();
    // the report is written before the peers (LlmCommand's order); the "Report:" line goes to stderr with OUTPUT -
    assertThat(r.err()).startsWith(kept("llm", report, 1) + kept("llm", peers, 1));
    assertThat(Files.readAllBytes(dir.resolve("peers.json.~1~"))).isEqualTo(NOTES);
    assertThat(Files.readAllBytes(dir.resolve("run.html.~1~"))).isEqualTo(NOTES);
    assertThat(Files.readString(peers)).contains("tensor");
  }

  @Test
  void theNextNumberIsOneMoreThanTheHighestKept() throws IOException {
    Path out = dir.resolve("out.json");
    Files.write(out, NOTES);
    for (String other : new String[] {"out.json.~3~", "out.json.~10~", "out.json.~x~", "out.json.~07~",
        "xout.json.~50~", "out.json.old.~40~"}) {
      Files.writeString(dir.resolve(other), other);
    }
    assertThat(Backups.nextName(out)).isEqualTo(dir.resolve("out.json.~11~"));
    Run r = llm(out.toString());
    assertThat(r.err()).isEqualTo(kept("llm", out, 11));
    assertThat(Files.readAllBytes(dir.resolve("out.json.~11~"))).isEqualTo(NOTES);
    assertThat(Files.readString(dir.resolve("out.json.~10~"))).isEqualTo("out.json.~10~");
    // none yet: 1
    assertThat(Backups.nextName(dir.resolve("new.json"))).isEqualTo(dir.resolve("new.json.~1~"));
  }

  @Test
  void aRunThatFailsBeforeWritingLeavesTheFileAndMakesNoBackup() throws IOException {
    Path out = dir.resolve("out.json");
    Files.write(out, NOTES);
    // a configuration error (an input that does not exist): exit 2
    Run missing = CliRun.run("llm", MODEL, dir.resolve("no-such-execution.json").toString(), SYSTEM, out.toString());
    assertThat(missing.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(missing.err()).doesNotContain("kept");
    // an infeasible execution: 80 GiB cut to 1 GiB cannot hold the 126M model's stages; exit 255
    ObjectMapper m = new ObjectMapper();
    ObjectNode sys = (ObjectNode) m.readTree(Path.of(SYSTEM).toFile());
    ((ObjectNode) sys.get("mem1")).put("GiB", 0.01);
    Path small = dir.resolve("small.json");
    m.writeValue(small.toFile(), sys);
    Run infeasible = CliRun.run("llm", MODEL, EXE, small.toString(), out.toString());
    assertThat(infeasible.status()).as(infeasible.out() + infeasible.err()).isEqualTo(Main.EXIT_INFEASIBLE);
    assertThat(infeasible.err()).doesNotContain("kept");
    assertThat(Files.readAllBytes(out)).isEqualTo(NOTES);
    assertThat(names()).containsExactly("out.json", "small.json");
  }

  @Test
  void anAbortedWriteMakesNoBackupAndARewriteOfItsOwnFileNone() throws IOException {
    Path out = dir.resolve("out.txt");
    Files.write(out, NOTES);
    try (AtomicFile f = new AtomicFile(out)) {
      f.stream().write(1);
      // closed without commit: the write failed
    }
    assertThat(Files.readAllBytes(out)).isEqualTo(NOTES);
    assertThat(names()).containsExactly("out.txt");
    // a file this run wrote itself (a sweep's record): replaced without a backup
    AtomicFile.rewriteOwnText(out, "again\n");
    assertThat(Files.readString(out)).isEqualTo("again\n");
    assertThat(names()).containsExactly("out.txt");
  }

  @Test
  void standardOutputIsNoFile() throws IOException {
    Run r = llm("-");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
    assertThat(r.out()).contains("Sample rate");
    assertThat(names()).isEmpty();
  }

  @Test
  void aSearchKeepsItsEarlierResultOnce() throws IOException {
    Path out = dir.resolve("best.json");
    Files.write(out, NOTES);
    Run r = CliRun.run("loe", MODEL, "1", "8", "bfloat16", "systems/H100_SXM_80g_dense.json", out.toString(),
        "--quiet");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo(kept("llm-optimal-execution", out, 1));
    assertThat(Files.readAllBytes(dir.resolve("best.json.~1~"))).isEqualTo(NOTES);
    assertThat(Files.readString(out)).startsWith("{\n  \"0\": {\n    \"execution\": {");
    assertThat(names()).containsExactly("best.json", "best.json.~1~");
  }

  @Test
  void allExecutionsKeepsItsEarlierRows() throws IOException {
    Path out = dir.resolve("rows.csv");
    Files.write(out, NOTES);
    Run r = CliRun.run("lae", MODEL, "1", "8", "bfloat16", "systems/H100_SXM_80g_dense.json", out.toString(),
        "--quiet");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo(kept("llm-all-executions", out, 1));
    assertThat(Files.readAllBytes(dir.resolve("rows.csv.~1~"))).isEqualTo(NOTES);
    assertThat(Files.readString(out)).startsWith("num_procs,tensor_par,pipeline_par,data_par,");
  }

  @Test
  void importHfForceReplacesButKeepsTheEarlierModelFile() throws IOException {
    Path out = dir.resolve("mine.json");
    Files.write(out, NOTES);
    String config = "src/test/resources/hf/Mixtral-8x7B-v0.1.json";
    Run refused = CliRun.run("import-hf", config, out.toString());
    assertThat(refused.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(names()).containsExactly("mine.json");
    Run r = CliRun.run("import-hf", "--force", config, out.toString());
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).startsWith(kept("import-hf", out, 1));
    assertThat(Files.readAllBytes(dir.resolve("mine.json.~1~"))).isEqualTo(NOTES);
    assertThat(Files.readString(out)).contains("\"num_experts\": 8");
  }

  @Test
  void theLogFileIsMovedAsideBeforeItIsOpened() throws IOException {
    Path log = dir.resolve("log.txt");
    Files.write(log, NOTES);
    Run r = CliRun.run("--log", log.toString(), "llm", MODEL, EXE, SYSTEM, "-");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo(kept("llm", log, 1));
    assertThat(Files.readAllBytes(dir.resolve("log.txt.~1~"))).isEqualTo(NOTES);
    assertThat(Files.readString(log)).contains("Sample rate");
  }

  @Test
  void convertAndReportKeepTheirEarlierOutputs() throws IOException {
    Path stats = dir.resolve("stats.json");
    assertThat(llm(stats.toString()).status()).isZero();
    Path csv = dir.resolve("stats.csv");
    Path html = dir.resolve("r.html");
    Files.write(csv, NOTES);
    Files.write(html, NOTES);
    Run c = CliRun.run("convert", stats.toString(), csv.toString());
    assertThat(c.status()).as(c.err()).isZero();
    assertThat(c.err()).startsWith(kept("convert", csv, 1));
    Run rep = CliRun.run("report", stats.toString(), html.toString());
    assertThat(rep.status()).as(rep.err()).isZero();
    assertThat(rep.err()).startsWith(kept("report", html, 1));
    assertThat(Files.readAllBytes(dir.resolve("stats.csv.~1~"))).isEqualTo(NOTES);
    assertThat(Files.readAllBytes(dir.resolve("r.html.~1~"))).isEqualTo(NOTES);
  }

  @Test
  void aSweepUpdatesItsOwnRecordWithoutABackupAndKeepsAStaleOne() throws IOException {
    String spec = "{\"models\": [\"" + Path.of(MODEL).toAbsolutePath() + "\"], \"systems\": [\""
        + Path.of("systems/H100_SXM_80g_dense.json").toAbsolutePath() + "\"], \"search\": {\"command\": \"loe\", "
        + "\"num_procs\": 1, \"max_batch_size\": 8, \"datatype\": \"bfloat16\"}, \"grid\": {\"max_batch_size\": [4, 8]}}";
    Path specFile = Files.writeString(dir.resolve("spec.json"), spec);
    Path out = dir.resolve("s.csv");
    Path record = dir.resolve("s.csv.spec.json");
    // a record left without its OUTPUT (the user removed s.csv): another sweep's, kept
    Files.write(record, NOTES);
    Run first = CliRun.run("sweep", specFile.toString(), out.toString(), "--quiet", "-c", "1");
    assertThat(first.status()).as(first.err()).isZero();
    assertThat(first.err()).isEqualTo(kept("sweep", record, 1));
    assertThat(Files.readAllBytes(dir.resolve("s.csv.spec.json.~1~"))).isEqualTo(NOTES);
    // the record written at the start is updated when the last point is in: no backup of it
    assertThat(Files.readString(record)).contains("\"complete_bytes\":" + Files.size(out));
    byte[] rows = Files.readAllBytes(out);
    // a re-run of the finished sweep evaluates nothing and keeps nothing
    Run again = CliRun.run("sweep", specFile.toString(), out.toString(), "--quiet", "-c", "1");
    assertThat(again.status()).as(again.err()).isZero();
    assertThat(again.err()).isEqualTo(out + " already holds all 2 points: nothing to evaluate\n");
    assertThat(Files.readAllBytes(out)).isEqualTo(rows);
    assertThat(names()).containsExactly("s.csv", "s.csv.spec.json", "s.csv.spec.json.~1~", "spec.json");
  }
}
