package calculon.sweep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import calculon.cli.CliRun;
import calculon.config.ConfigError;
import calculon.util.ProgressBars;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sweep: points, resume, thread-count independence, SPEC errors, invalid points. */
class SweepTest {
  @TempDir
  Path dir;

  static String abs(String repoPath) {
    return Path.of(repoPath).toAbsolutePath().toString().replace("\\", "/");
  }

  /**
   * A fixed-execution sweep (microseconds a point): 2 x 3 x 3 = 18 points, some infeasible; in
   * calculon-moe mode, whose numbers the golden parity tests hold fixed.
   */
  static String fixedSpec() {
    return "{\"models\": [\"" + abs("models/megatron-1T.json") + "\", \"" + abs("models/turing-530B.json") + "\"],"
        + " \"systems\": [\"" + abs("systems/a100_80g.json") + "\"],"
        + " \"execution\": \"" + abs("examples/megatron_1T_training_4096_original.json") + "\","
        + " \"grid\": {\"mem1.GiB\": [80, 20, 160], \"networks[0].bandwidth\": {\"from\": 150, \"to\": 450, \"step\": 150}},"
        + " \"model_version\": \"calculon-moe\"}";
  }

  /** A search sweep: 2 sizes x 2 HBM capacities of megatron-126M, top 2. */
  static String searchSpec() {
    return "{\"models\": [\"" + abs("models/megatron-126M.json") + "\"],"
        + " \"systems\": [\"" + abs("systems/a100_80g.json") + "\"],"
        + " \"search\": {\"command\": \"loe\", \"max_batch_size\": 8, \"datatype\": \"float16\", \"mbs_break\": true,"
        + " \"tp_overlap\": false, \"dp_overlap\": false},"
        + " \"grid\": {\"num_procs\": [4, 8], \"mem1.GiB\": [80, 1]}, \"top_n\": 2}";
  }

  Path write(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, text);
    return p;
  }

  static Sweep sweep(Path spec, SweepFormat f) throws ConfigError {
    Sweep s = new Sweep(SweepSpec.read(spec), f);
    s.validate();
    return s;
  }

  static void runAll(Sweep s, Path out, SweepEngine engine) throws Exception {
    try (SweepOutput o = SweepOutput.open(out, s)) {
      SweepRunner.run(s, o, engine, ProgressBars.Mode.OFF, new PrintStream(PrintStream.nullOutputStream()), () -> false);
    }
  }

  @Test
  void pointsAreModelsTimesSystemsTimesGridInOrder() throws Exception {
    Sweep s = sweep(write("f.json", fixedSpec()), SweepFormat.CSV);
    assertThat(s.size()).isEqualTo(18);
    Path out = dir.resolve("f.csv");
    runAll(s, out, new LocalEngine(1));
    List<String> lines = Files.readAllLines(out);
    assertThat(lines).hasSize(19);
    assertThat(lines.get(0)).startsWith("point,model,system,mem1.GiB,networks[0].bandwidth,rank,status,num_procs,");
    // point 0: megatron-1T, 80 GiB, 150 GB/s; point 1: 80 GiB, 300 GB/s (the last field fastest)
    assertThat(lines.get(1)).startsWith("0,megatron-1T,a100_80g,80,150,1,ok,4096,8,4,128,");
    assertThat(lines.get(2)).startsWith("1,megatron-1T,a100_80g,80,300,1,ok,");
    // 20 GiB of HBM cannot hold megatron-1T on 3072 GPUs: recorded, and the sweep goes on
    assertThat(lines.get(4)).startsWith("3,megatron-1T,a100_80g,20,150,,infeasible: ");
    assertThat(lines.get(10)).startsWith("9,turing-530B,a100_80g,80,150,1,ok,");
  }

  @Test
  void theRecordHoldsTheModelsStepTime() throws Exception {
    // the same point as `calculon llm models/megatron-1T.json examples/3072_... systems/a100_80g.json`
    Sweep s = sweep(write("f.json", fixedSpec().replace("[80, 20, 160]", "[80]")
        .replace("{\"from\": 150, \"to\": 450, \"step\": 150}", "[300]")), SweepFormat.JSONL);
    PointResult r = s.evaluate(0);
    calculon.stats.Stats direct = calculon.schedule.Evaluator.evaluate(
        calculon.config.ApplicationReader.read(Path.of("models/megatron-1T.json")),
        calculon.config.ExecutionReader.read(Path.of("examples/megatron_1T_training_4096_original.json")),
        new calculon.hardware.Hardware(calculon.config.SystemReader.read(Path.of("systems/a100_80g.json")),
            calculon.config.Datatype.FLOAT16), calculon.model.ModelVersion.CALCULON_MOE, false);
    assertThat(r.text()).contains("\"total_time\": " + calculon.util.PyFormat.repr(direct.get(calculon.stats.StatField.TOTAL_TIME)) + ",");
    assertThat(r.bestRate()).isEqualTo(direct.get(calculon.stats.StatField.SAMPLE_RATE));
  }

  @Test
  void outputDoesNotDependOnThreadCount() throws Exception {
    Path spec = write("s.json", searchSpec());
    Path one = dir.resolve("one.jsonl");
    Path two = dir.resolve("two.jsonl");
    runAll(sweep(spec, SweepFormat.JSONL), one, new LocalEngine(1));
    runAll(sweep(spec, SweepFormat.JSONL), two, new LocalEngine(3));
    assertThat(Files.readString(two)).isEqualTo(Files.readString(one));
    List<String> lines = Files.readAllLines(one);
    // 4 points of 2 ranked records each; with 1 GiB of HBM the best execution fits in it (with the
    // corrected model's flash attention the 126M model needs no offload for that)
    assertThat(lines).hasSize(8);
    assertThat(lines.get(0)).startsWith("{\"point\": 0, \"model\": \"megatron-126M\", \"system\": \"a100_80g\", \"grid.num_procs\": 4, \"mem1.GiB\": 80, \"rank\": 1, \"status\": \"ok\"");
    assertThat(lines.get(2)).startsWith("{\"point\": 1, ").contains("\"rank\": 1, \"status\": \"ok\"");
    java.util.regex.Matcher tier1 = java.util.regex.Pattern.compile("\"proc_mem_tier1_cap_req\": ([0-9.eE+]+)").matcher(lines.get(2));
    assertThat(tier1.find()).isTrue();
    assertThat(Double.parseDouble(tier1.group(1))).isLessThanOrEqualTo(1L << 30);
  }

  @Test
  void resumeAfterAnInterruptionGivesTheUninterruptedFile() throws Exception {
    Path spec = write("f.json", fixedSpec());
    Path full = dir.resolve("full.csv");
    runAll(sweep(spec, SweepFormat.CSV), full, new LocalEngine(2));
    byte[] expected = Files.readAllBytes(full);

    // interrupted after 7 points (Ctrl-C), then re-run
    Path out = dir.resolve("out.csv");
    Sweep s = sweep(spec, SweepFormat.CSV);
    AtomicInteger seen = new AtomicInteger();
    try (SweepOutput o = SweepOutput.open(out, s)) {
      SweepRunner.Outcome r = SweepRunner.run(s, o, new LocalEngine(2), ProgressBars.Mode.OFF,
          new PrintStream(PrintStream.nullOutputStream()), () -> seen.incrementAndGet() > 7);
      assertThat(r.interrupted()).isTrue();
    }
    assertThat(Files.size(out)).isLessThan(expected.length);
    runAll(sweep(spec, SweepFormat.CSV), out, new LocalEngine(1));
    assertThat(Files.readAllBytes(out)).isEqualTo(expected);

    // a crash in the middle of a line: every cut point resumes to the same bytes
    for (int cut : new int[] {0, 10, expected.length / 3, expected.length / 2 + 7, expected.length - 1}) {
      Path c = dir.resolve("cut" + cut + ".csv");
      Files.copy(full, c);
      Files.copy(SweepOutput.specFile(full), SweepOutput.specFile(c));
      try (FileChannel ch = FileChannel.open(c, StandardOpenOption.WRITE)) {
        ch.truncate(cut);
      }
      runAll(sweep(spec, SweepFormat.CSV), c, new LocalEngine(2));
      assertThat(Files.readAllBytes(c)).as("cut at %d", cut).isEqualTo(expected);
    }
  }

  @Test
  void aFinishedSweepRunAgainEvaluatesNothingUnlessItsFileChanged() throws Exception {
    Path spec = write("s.json", searchSpec());
    Path out = dir.resolve("done.jsonl");
    SweepRunner.Outcome first = runOutcome(sweep(spec, SweepFormat.JSONL), out);
    byte[] expected = Files.readAllBytes(out);
    assertThat(Files.readString(SweepOutput.specFile(out))).contains("\"complete_bytes\":" + expected.length);
    // run again: nothing evaluated (the engine is never asked for a point), same file, same best
    Sweep s = sweep(spec, SweepFormat.JSONL);
    try (SweepOutput o = SweepOutput.open(out, s)) {
      assertThat(o.complete()).isTrue();
      SweepRunner.Outcome again = SweepRunner.run(s, o, new SweepEngine() {
        @Override public void run(Sweep sw, long from, long to, Sink sink,
                                  java.util.function.BooleanSupplier cancelled) {
          throw new AssertionError("asked for points " + from + ".." + to + " of a finished sweep");
        }
        @Override public String describe() { return "none"; }
      }, ProgressBars.Mode.OFF, new PrintStream(PrintStream.nullOutputStream()), () -> false);
      assertThat(again.pointsDone() - again.resumedFrom()).isZero();
      assertThat(again.interrupted()).isFalse();
      assertThat(again.bestLabel()).isEqualTo(first.bestLabel());
      assertThat(again.bestRate()).isEqualTo(first.bestRate());
    }
    assertThat(Files.readAllBytes(out)).isEqualTo(expected);
    // the file cut inside its last point (top 2: two records a point) after it was marked: its
    // size no longer matches, so the last point runs again and the file comes back whole
    String text = new String(expected, StandardCharsets.UTF_8);
    int lastLine = text.lastIndexOf('\n', text.length() - 2) + 1;
    Files.write(out, java.util.Arrays.copyOf(expected, lastLine));
    try (SweepOutput o = SweepOutput.open(out, sweep(spec, SweepFormat.JSONL))) {
      assertThat(o.complete()).isFalse();
    }
    runOutcome(sweep(spec, SweepFormat.JSONL), out);
    assertThat(Files.readAllBytes(out)).isEqualTo(expected);
  }

  static SweepRunner.Outcome runOutcome(Sweep s, Path out) throws Exception {
    try (SweepOutput o = SweepOutput.open(out, s)) {
      return SweepRunner.run(s, o, new LocalEngine(1), ProgressBars.Mode.OFF,
          new PrintStream(PrintStream.nullOutputStream()), () -> false);
    }
  }

  @Test
  void tiedPointsAreNamedTheSameWhetherOrNotTheSweepResumed() throws Exception {
    // 80 GiB twice: points 0 and 1 are the same run and tie, as do points 3 and 4 (turing-530B)
    for (SweepFormat f : SweepFormat.values()) {
      Path spec = write("t.json", fixedSpec().replace("[80, 20, 160]", "[80, 80, 20]")
          .replace("{\"from\": 150, \"to\": 450, \"step\": 150}", "[300]"));
      Path full = dir.resolve("full" + f.extension);
      SweepRunner.Outcome whole = runOutcome(sweep(spec, f), full);
      // turing-530B at 80 GiB is the fastest point (the file's execution, calculon-moe: no ZeRO
      // stage); of the tie the first is named
      assertThat(whole.bestLabel()).isEqualTo("point 3: TP 8 PP 4 DP 128 mbs 1 batch 128");
      List<String> lines = Files.readAllLines(full);
      byte[] expected = Files.readAllBytes(full);
      // resumed after every line and inside lines (a crash): the same best, the same name
      long offset = 0;
      for (int k = 0; k <= lines.size(); k++) {
        for (long cut : offset < expected.length ? new long[] {offset, offset + 5} : new long[] {offset}) {
          Path c = dir.resolve("cut" + k + "-" + cut + f.extension);
          Files.write(c, java.util.Arrays.copyOf(expected, (int) cut));
          Files.copy(SweepOutput.specFile(full), SweepOutput.specFile(c));
          SweepRunner.Outcome r = runOutcome(sweep(spec, f), c);
          assertThat(r.bestLabel()).as("%s cut at %d", f, cut).isEqualTo(whole.bestLabel());
          assertThat(r.bestRate()).as("%s cut at %d", f, cut).isEqualTo(whole.bestRate());
          assertThat(Files.readAllBytes(c)).isEqualTo(expected);
        }
        offset += k < lines.size() ? lines.get(k).getBytes(StandardCharsets.UTF_8).length + 1 : 0;
      }
    }
  }

  @Test
  void aDifferentSpecForAnExistingOutputIsRefusedAndTheFileKept() throws Exception {
    Path out = dir.resolve("out.csv");
    runAll(sweep(write("f.json", fixedSpec()), SweepFormat.CSV), out, new LocalEngine(1));
    byte[] before = Files.readAllBytes(out);
    Sweep other = sweep(write("g.json", fixedSpec().replace("[80, 20, 160]", "[80, 20]")), SweepFormat.CSV);
    // the refusal says where the SPECs part: the grid's list of HBM sizes lost an element
    assertThatThrownBy(() -> SweepOutput.open(out, other)).isInstanceOf(ConfigError.class)
        .hasMessageContaining("was written by a different SPEC")
        .hasMessageContaining("(first difference: the SPEC's grid.mem1.GiB: [80,20,160] -> [80,20])")
        .hasMessageNotContaining("\n");
    assertThat(Files.readAllBytes(out)).isEqualTo(before);
    // an input file changed under the same SPEC: the file and the place
    Path system = write("sys.json", Files.readString(Path.of("systems/a100_80g.json")));
    String mySpec = fixedSpec().replace(abs("systems/a100_80g.json"), system.toString().replace("\\", "/"));
    Path out2 = dir.resolve("out2.csv");
    runAll(sweep(write("h.json", mySpec), SweepFormat.CSV), out2, new LocalEngine(1));
    ObjectNode sys = (ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper().readTree(system.toFile());
    ((ObjectNode) sys.get("mem2")).put("GiB", 1024);
    Files.writeString(system, sys.toString());
    Sweep changed = sweep(dir.resolve("h.json"), SweepFormat.CSV);
    assertThatThrownBy(() -> SweepOutput.open(out2, changed)).isInstanceOf(ConfigError.class)
        .hasMessageContaining("(first difference: input " + system.toString().replace("\\", "/") + ", at mem2.GiB: ");
    Path mine = write("mine.csv", "a,b\n1,2\n");
    assertThatThrownBy(() -> SweepOutput.open(mine, other)).isInstanceOf(ConfigError.class)
        .hasMessageContaining("is not a sweep output");
    assertThat(Files.readString(mine)).isEqualTo("a,b\n1,2\n");
  }

  @Test
  void theDifferentSpecLineNamesTheRecordByThePathTheOutputWasGivenBy() throws Exception {
    Path spec = write("f.json", fixedSpec());
    Path other = write("g.json", fixedSpec().replace("[80, 20, 160]", "[80, 20]"));
    Files.createDirectories(dir.resolve("runs"));
    // OUTPUT given relative to the working folder, and absolute: the record is named the same way
    Path relative = Path.of("").toAbsolutePath().relativize(dir.resolve("runs/out.csv"));
    for (Path out : List.of(relative, dir.resolve("runs/out.csv"))) {
      CliRun.Run first = CliRun.run("sweep", spec.toString(), out.toString(), "--quiet");
      assertThat(first.status()).as(first.err()).isZero();
      byte[] before = Files.readAllBytes(out);
      CliRun.Run r = CliRun.run("sweep", other.toString(), out.toString(), "--quiet");
      assertThat(r.status()).isEqualTo(2);
      assertThat(r.err()).isEqualTo("calculon sweep: " + out + ": exists and was written by a different SPEC (or its "
          + "inputs changed): " + out + ".spec.json records another fingerprint (first difference: the SPEC's "
          + "grid.mem1.GiB: [80,20,160] -> [80,20]); remove both files or choose another output name\n");
      assertThat(Files.readAllBytes(out)).isEqualTo(before);
      Files.delete(out);
      Files.delete(SweepOutput.specFile(out));
    }
  }

  @Test
  void theRefusalOfAnEarlierCalculonsOutputSaysWhatTheNumberedRunBesideItHolds() throws Exception {
    Path spec = write("f.json", fixedSpec());
    Path old = dir.resolve("old.csv");
    runAll(sweep(spec, SweepFormat.CSV), old, new LocalEngine(1));
    // the same file as a calculon before the zero_stage column wrote it
    Files.writeString(old, Files.readString(old).replaceFirst(",zero_stage,", ","));
    byte[] oldBytes = Files.readAllBytes(old);
    String refused = "calculon sweep: " + old + ": written by an earlier calculon: its records lack zero_stage, "
        + "which this sweep writes; it is kept as it is and not resumed; ";
    Path two = dir.resolve("old-2.csv");
    Path three = dir.resolve("old-3.csv");
    CliRun.Run r = CliRun.run("sweep", spec.toString(), old.toString(), "--quiet");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).isEqualTo(refused + "run calculon sweep " + spec + " " + two
        + " to compute the SPEC's 18 points into a new output\n");
    // the suggestion taken and finished: the next refusal names that run, not only old-3.csv
    CliRun.Run into2 = CliRun.run("sweep", spec.toString(), two.toString(), "--quiet");
    assertThat(into2.status()).as(into2.err()).isZero();
    byte[] full = Files.readAllBytes(two);
    r = CliRun.run("sweep", spec.toString(), old.toString(), "--quiet");
    assertThat(r.err()).isEqualTo(refused + two + " already holds all 18 points of the SPEC: run calculon sweep "
        + spec + " " + two + " to see its summary (nothing is evaluated again), or calculon sweep " + spec + " "
        + three + " to compute the SPEC's 18 points into a new output\n");
    // that run cut short (5 whole records and part of the 6th): the points a resume keeps, and how
    List<String> lines = Files.readAllLines(two);
    int cut = 0;
    for (int k = 0; k <= 5; k++) {
      cut += lines.get(k).getBytes(StandardCharsets.UTF_8).length + 1;
    }
    Files.write(two, java.util.Arrays.copyOf(full, cut + 10));
    r = CliRun.run("sweep", spec.toString(), old.toString(), "--quiet");
    assertThat(r.err()).isEqualTo(refused + two + " already holds 4 of the SPEC's 18 points: run calculon sweep "
        + spec + " " + two + " to resume it, or calculon sweep " + spec + " " + three
        + " to compute the SPEC's 18 points into a new output\n");
    // the resume it names keeps those 4 and gives the uninterrupted file
    CliRun.Run resumed = CliRun.run("sweep", spec.toString(), two.toString());
    assertThat(resumed.status()).as(resumed.err()).isZero();
    assertThat(resumed.out()).contains("Points: 18 (14 evaluated now, 4 resumed)");
    assertThat(Files.readAllBytes(two)).isEqualTo(full);
    // a numbered name that holds another SPEC's run is only named as taken
    Path otherSpec = write("g.json", fixedSpec().replace("[80, 20, 160]", "[80, 20]"));
    Files.delete(two);
    Files.delete(SweepOutput.specFile(two));
    CliRun.Run other = CliRun.run("sweep", otherSpec.toString(), two.toString(), "--quiet");
    assertThat(other.status()).as(other.err()).isZero();
    r = CliRun.run("sweep", spec.toString(), old.toString(), "--quiet");
    assertThat(r.err()).isEqualTo(refused + "run calculon sweep " + spec + " " + three
        + " to compute the SPEC's 18 points into a new output (" + two + " is taken: not a run of this SPEC to resume)\n");
    assertThat(Files.readAllBytes(old)).isEqualTo(oldBytes);
  }

  /** The one line a bad SPEC gives, through the command line (exit status 2, nothing written). */
  private String badSpec(String spec) throws IOException {
    Path p = write("bad.json", spec);
    Path out = dir.resolve("bad.csv");
    CliRun.Run r = CliRun.run("sweep", p.toString(), out.toString(), "--quiet");
    assertThat(r.status()).as(r.err()).isEqualTo(2);
    assertThat(r.err().strip()).doesNotContain("\n").startsWith("calculon sweep: " + p + ": ");
    assertThat(out).doesNotExist();
    return r.err().strip();
  }

  @Test
  void badSpecsGiveOneLineNamingTheFieldAndTheRuleBeforeAnyWork() throws Exception {
    assertThat(badSpec(fixedSpec().replace("\"mem1.GiB\"", "\"mem1.GB\"")))
        .contains("grid.mem1.GB: is not a field of the search, the system, the model or the execution");
    assertThat(badSpec(fixedSpec().replace("[80, 20, 160]", "[80, \"big\"]")))
        .contains("grid.mem1.GiB[1]: must be a number like the field it sets, got \"big\"");
    // an integer field of a file: the file's own rule, with the grid value that broke it
    assertThat(badSpec(fixedSpec().replace("\"mem1.GiB\"", "\"networks[0].size\"").replace("[80, 20, 160]", "[4096, 4.5]")))
        .contains("grid.networks[0].size: the value 4.5 makes " + abs("systems/a100_80g.json") + " invalid: ");
    assertThat(badSpec(fixedSpec().replace("[80, 20, 160]", "[]")))
        .contains("grid.mem1.GiB: is an empty list");
    assertThat(badSpec(fixedSpec().replace("\"from\": 150, \"to\": 450", "\"from\": 450, \"to\": 150")))
        .contains("grid.networks[0].bandwidth: is an empty range");
    // a value the system file rejects: named with the point's grid value and the system's rule
    assertThat(badSpec(fixedSpec().replace("[80, 20, 160]", "[80, -5]")))
        .endsWith("grid.mem1.GiB: the value -5 makes " + abs("systems/a100_80g.json") + " invalid: must be > 0, got -5");
    assertThat(badSpec(fixedSpec().replace("\"execution\": \"" + abs("examples/megatron_1T_training_4096_original.json") + "\",", "")))
        .contains("give either search");
    assertThat(badSpec(searchSpec().replace("\"datatype\": \"float16\"", "\"datatype\": \"bfloat16\"")))
        .contains("search.datatype: the system");
    assertThat(badSpec(searchSpec().replace("\"num_procs\": [4, 8]", "\"num_procs\": [4.5]")))
        .contains("grid.num_procs[0]: must be an integer");
    assertThat(badSpec(searchSpec().replace("\"top_n\": 2", "\"top_n\": 2, \"colour\": 1")))
        .contains("colour: unknown key");
  }

  @Test
  void aFileOfTheWrongKindInTheSpecIsNamedByItsFieldBeforeTheGrid() throws Exception {
    String system = abs("systems/a100_80g.json");
    String model = abs("models/megatron-1T.json");
    String execution = abs("examples/megatron_1T_training_4096_original.json");
    String line = "calculon sweep: " + dir.resolve("bad.json") + ": ";
    // a model file under systems, with a grid over a system field: the file and its index, not the grid
    assertThat(badSpec(fixedSpec().replace("\"systems\": [\"" + system + "\"]",
        "\"systems\": [\"" + system + "\", \"" + model + "\"]")))
        .isEqualTo(line + "systems[1]: " + model + " looks like a model file (hidden, num_blocks), not a system file "
            + "(matrix, networks): list it under models");
    assertThat(badSpec(fixedSpec().replace("\"systems\": [\"" + system + "\"]", "\"systems\": [\"" + execution + "\"]")))
        .isEqualTo(line + "systems[0]: " + execution + " looks like an execution file (num_procs, tensor_par), not a system "
            + "file (matrix, networks): give it as execution or search.execution_template");
    assertThat(badSpec(fixedSpec().replace("\"execution\": \"" + execution + "\"", "\"execution\": \"" + system + "\"")))
        .isEqualTo(line + "execution: " + system + " looks like a system file (matrix, networks), not an execution file "
            + "(num_procs, tensor_par): list it under systems");
    // a file of no kind: what it lacks
    Path other = write("other.json", "{\"name\": \"a100\"}");
    assertThat(badSpec(fixedSpec().replace(system, other.toString())))
        .isEqualTo(line + "systems[0]: " + other + " is not a system file (matrix, networks): it has neither of those keys");
    Path list = write("list.json", "[1, 2]");
    assertThat(badSpec(fixedSpec().replace(model, list.toString())))
        .isEqualTo(line + "models[0]: " + list + " is not a model file (hidden, num_blocks): it is a list, not a JSON object");
  }

  @Test
  void theCommandWritesAndResumes() throws Exception {
    Path p = write("f.json", fixedSpec());
    Path out = dir.resolve("f.csv");
    CliRun.Run r = CliRun.run("sweep", p.toString(), out.toString(), "--quiet", "-c", "2");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).contains("Points: 18 (18 evaluated now, 0 resumed)");
    byte[] first = Files.readAllBytes(out);
    CliRun.Run again = CliRun.run("sweep", p.toString(), out.toString(), "--quiet");
    assertThat(again.status()).isZero();
    // a finished sweep: nothing evaluated, the same file
    assertThat(again.out()).contains("Points: 18 (0 evaluated now, 18 resumed)");
    assertThat(again.err()).contains("already holds all 18 points: nothing to evaluate");
    assertThat(Files.readAllBytes(out)).isEqualTo(first);
    // a file cut short by a byte (point 17's line is half-written): point 17 is evaluated again,
    // and so is point 16, the last point with a whole line (it may have been cut short too)
    Files.write(out, java.util.Arrays.copyOf(first, first.length - 1));
    CliRun.Run resumed = CliRun.run("sweep", p.toString(), out.toString(), "--quiet");
    assertThat(resumed.status()).isZero();
    assertThat(resumed.out()).contains("Points: 18 (2 evaluated now, 16 resumed)");
    assertThat(resumed.err()).contains("Resuming " + out + ": 16 of 18 points kept");
    assertThat(Files.readAllBytes(out)).isEqualTo(first);
    assertThat(new String(first, StandardCharsets.UTF_8)).doesNotContain("\r");
  }

  @Test
  void theShippedStudiesAreValidSpecs() throws Exception {
    java.util.Map<String, Long> points = new java.util.TreeMap<>();
    try (java.util.stream.Stream<Path> files = Files.list(Path.of("examples/sweeps"))) {
      for (Path p : files.filter(f -> f.toString().endsWith(".json") && !f.getFileName().toString().startsWith("H100")).toList()) {
        Sweep s = sweep(p, SweepFormat.CSV);
        points.put(p.getFileName().toString(), s.size());
      }
    }
    // SC23 Fig. 6 and 8/9: three models x 1,024 system sizes (8 to 8,192 in steps of 8)
    assertThat(points).containsEntry("sc23-fig6.json", 3L * 1024).containsEntry("sc23-fig8-9.json", 3L * 1024)
        .containsEntry("sc23-table3.json", 16L).containsEntry("moe-network-gpt1.8T.json", 6L)
        .containsEntry("moe-network-gpt3-175B.json", 6L).containsEntry("sc23-fig6-small.json", 3L * 16)
        .containsEntry("sc23-fig8-9-small.json", 3L * 16);
    // Table 3's budget: $125M at $20,000 + 80 GiB x $25 + 512 GiB x $5 = $24,560 a GPU buys
    // 5,089 GPUs, 4,992 in racks of 128
    Sweep t = sweep(Path.of("examples/sweeps/sc23-table3.json"), SweepFormat.CSV);
    int[] d = t.digits(2 * 4 + 2);  // mem1 80 GiB, mem2 512 GiB
    assertThat(t.procs(t.searchParams(d), t.system(d))).isEqualTo(4992);
  }
}
