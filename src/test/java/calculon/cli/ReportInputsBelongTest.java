package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * report refuses --model/--execution/--system that are not the stats file's inputs: a stats file
 * of Llama 3 70B (hidden 8192, TP 4) given GPT 1.8T's files (hidden 12288, another TP) has another
 * block forward flops count, and the page would have been titled "gpt-1.8T on H100_80g_sxm".
 * With only some of the files nothing can be checked, and a note says so.
 */
class ReportInputsBelongTest {
  private static final String[] LLAMA = {"models/llama3-70B.json", "examples/llama3-70B_256xH100.json",
      "systems/H100_SXM_80g_dense.json"};
  private static final String[] GPT = {"models/gpt-1.8T.json", "examples/gpt_1.8_training_4096.json",
      "systems/H100_80g_sxm.json"};

  @TempDir
  Path dir;

  private Path llamaStats() {
    Path stats = dir.resolve("llama.json");
    assertThat(MainTest.run("llm", LLAMA[0], LLAMA[1], LLAMA[2], stats.toString()).status()).isZero();
    return stats;
  }

  @Test
  void refusesAnotherRunsFilesNamingBothAndTheField() throws Exception {
    Path stats = llamaStats();
    Path html = dir.resolve("out.html");
    CliRun.Run r = MainTest.run("report", stats.toString(), html.toString(), "--model", GPT[0], "--execution", GPT[1],
        "--system", GPT[2]);
    assertThat(r.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("calculon report: " + stats + ": block_fw_flops ")
        .contains(GPT[0], GPT[1], GPT[2], "do not belong").doesNotContain("\n" + "calculon");
    assertThat(r.err().strip()).doesNotContain("\n");
    assertThat(Files.exists(html)).isFalse();
  }

  @Test
  void acceptsItsOwnFiles() throws Exception {
    Path stats = llamaStats();
    Path html = dir.resolve("out.html");
    CliRun.Run r = MainTest.run("report", stats.toString(), html.toString(), "--model", LLAMA[0], "--execution",
        LLAMA[1], "--system", LLAMA[2]);
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
    assertThat(Files.readString(html)).contains("llama3-70B");
  }

  /** The two numbers of a refusal "FIELD WANT but ... gives GOT ...": {want, got}. */
  private static double[] numbers(String err, String field) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(": " + field + " ([-0-9.eE+]+) but .* gives? ([-0-9.eE+]+)")
        .matcher(err);
    assertThat(m.find()).as(err).isTrue();
    return new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2))};
  }

  /** The Llama run's system with {@code edit} applied, as a file in {@link #dir}. */
  private Path system(String name, java.util.function.Consumer<com.fasterxml.jackson.databind.node.ObjectNode> edit)
      throws Exception {
    com.fasterxml.jackson.databind.ObjectMapper mapper = new com.fasterxml.jackson.databind.ObjectMapper();
    com.fasterxml.jackson.databind.node.ObjectNode s =
        (com.fasterxml.jackson.databind.node.ObjectNode) mapper.readTree(Path.of(LLAMA[2]).toFile());
    edit.accept(s);
    Path p = dir.resolve(name);
    mapper.writeValue(p.toFile(), s);
    return p;
  }

  private CliRun.Run reportWith(Path stats, String system, String... more) {
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("report", stats.toString(),
        dir.resolve("out.html").toString(), "--model", LLAMA[0], "--execution", LLAMA[1], "--system", system));
    args.addAll(java.util.List.of(more));
    return MainTest.run(args.toArray(new String[0]));
  }

  /**
   * --system is checked as --model and --execution are: the stats file records no system, so the
   * run is computed again on it and a block's forward times compared where the model and execution
   * give the same work. Each differing part of a system is named: H200's 4.8 TB/s mem1 against the
   * H100's 3.35 (same compute and networks) a shorter memory time, B200's 2,250 dense bf16 TFLOP/s
   * against 989.4 a shorter compute time, a tier-0 network of 900 GB/s against 450 (TP 4 runs there)
   * a shorter TP time; one line each, exit 2, no page written.
   */
  @Test
  void refusesAnotherSystemNamingItAndWhatDiffers() throws Exception {
    Path stats = llamaStats();
    String with = " (with " + LLAMA[0] + " and " + LLAMA[1] + "): the system does not belong to this stats file (";
    Object[][] cases = {
        {"systems/H200_SXM_141g_dense.json", "block_fw_mem_time", "block_fw_mem_accessed", "its mem1 bandwidth differs"},
        {"systems/B200_HGX_180g_dense.json", "block_fw_flops_time", "block_fw_flops",
            "its matrix and vector rates at the run's datatype differ"},
        {system("tier0.json", s -> ((com.fasterxml.jackson.databind.node.ObjectNode) s.get("networks").get(0))
            .put("bandwidth", 900)).toString(), "baseblock_fw_tp_time", "baseblock_fw_tp_size",
            "its network tier for TP (tensor_par_net) differs"}};
    for (Object[] c : cases) {
      CliRun.Run r = reportWith(stats, (String) c[0]);
      assertThat(r.status()).as(r.err()).isEqualTo(Main.EXIT_CONFIG_ERROR);
      assertThat(r.out()).isEmpty();
      assertThat(r.err()).startsWith("calculon report: " + stats + ": " + c[1] + " ")
          .contains(" but " + c[0] + " gives ")
          .endsWith(" for the same " + c[2] + with + c[3] + ")\n");
      double[] n = numbers(r.err(), (String) c[1]);
      assertThat(n[1]).as(r.err()).isPositive().isLessThan(n[0]);  // a faster part, a shorter time
      assertThat(dir.resolve("out.html")).doesNotExist();
    }
  }

  /**
   * A system that differs where no block's time shows it (the DP network, tier 1, halved to
   * 25 GB/s) moves the step time: the three files are refused together, as for another model.
   */
  @Test
  void aSlowerDataParallelNetworkIsFoundByTheStepTime() throws Exception {
    Path stats = llamaStats();
    Path slow = system("tier1.json", s -> ((com.fasterxml.jackson.databind.node.ObjectNode) s.get("networks").get(1))
        .put("bandwidth", 25));
    CliRun.Run r = reportWith(stats, slow.toString());
    assertThat(r.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(r.err()).startsWith("calculon report: " + stats + ": total_time ")
        .contains(" but " + LLAMA[0] + ", " + LLAMA[1] + " and " + slow + " give ")
        .endsWith(": the files do not belong to this stats file\n");
    double[] n = numbers(r.err(), "total_time");
    assertThat(n[1]).isGreaterThan(n[0]);
  }

  /**
   * Times move when the corrected model does, so a corrected stats file that records no calculon
   * version (or another one) is not checked against the system: a note says so and the page is
   * written. A calculon-moe file is checked whatever it records (that version is the reference's,
   * number for number).
   */
  @Test
  void theSystemIsCheckedOnlyWhereThisCalculonReproducesTheTimes() throws Exception {
    String h200 = "systems/H200_SXM_141g_dense.json";
    com.fasterxml.jackson.databind.ObjectMapper mapper = new com.fasterxml.jackson.databind.ObjectMapper();
    Path stats = llamaStats();
    com.fasterxml.jackson.databind.node.ObjectNode json =
        (com.fasterxml.jackson.databind.node.ObjectNode) mapper.readTree(stats.toFile());
    json.remove("calculon_version");
    Path old = dir.resolve("old.json");
    mapper.writeValue(old.toFile(), json);
    CliRun.Run r = reportWith(old, h200);
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo("calculon report: note: " + old + " records no calculon version, whose "
        + "corrected-model times this calculon " + VersionCommand.VERSION + " may not reproduce: " + h200
        + " is not checked against them (the model and execution are)\n");
    // the model is still checked
    CliRun.Run gpt = MainTest.run("report", old.toString(), dir.resolve("gpt.html").toString(), "--model", GPT[0],
        "--execution", GPT[1], "--system", GPT[2]);
    assertThat(gpt.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(gpt.err()).startsWith("calculon report: " + old + ": block_fw_flops ");
    // calculon-moe: checked, with or without a calculon version
    Path fork = dir.resolve("fork.json");
    assertThat(MainTest.run("llm", LLAMA[0], LLAMA[1], LLAMA[2], fork.toString(), "--model-version", "calculon-moe")
        .status()).isZero();
    com.fasterxml.jackson.databind.node.ObjectNode forkJson =
        (com.fasterxml.jackson.databind.node.ObjectNode) mapper.readTree(fork.toFile());
    forkJson.remove("calculon_version");
    mapper.writeValue(fork.toFile(), forkJson);
    CliRun.Run f = reportWith(fork, h200);
    assertThat(f.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(f.err()).startsWith("calculon report: " + fork + ": block_fw_mem_time ")
        .endsWith("(its mem1 bandwidth differs)\n");
    assertThat(reportWith(fork, LLAMA[2]).status()).isZero();
  }

  @Test
  void warnsWhenOnlySomeFilesAreGiven() throws Exception {
    Path stats = llamaStats();
    Path html = dir.resolve("out.html");
    CliRun.Run r = MainTest.run("report", stats.toString(), html.toString(), "--model", GPT[0]);
    assertThat(r.status()).isZero();
    assertThat(r.err()).startsWith("calculon report: note: " + stats + " records no names of its inputs");
  }
}
