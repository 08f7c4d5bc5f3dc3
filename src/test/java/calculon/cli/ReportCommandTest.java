package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportCommandTest {
  private static final String[] MOE = {"models/gpt-1.8T.json", "examples/gpt_1.8_training_4096.json", "systems/H100_80g_sxm.json"};
  private static final String GOLDEN = "src/test/resources/goldens/search/loe-gpt3-13B-16-b16-singletier.json";

  @Test
  void llmReportWritesTheRunReportBesideTheStats(@TempDir Path dir) throws Exception {
    Path html = dir.resolve("run.html");
    CliRun.Run r = MainTest.run("llm", MOE[0], MOE[1], MOE[2], dir.resolve("s.json").toString(), "-l",
        "--report", html.toString(), "--model-version", "calculon-moe");
    assertThat(r.status()).isZero();
    assertThat(Files.readString(html)).contains("calculon run report: gpt-1.8T on H100_80g_sxm", "table-layers",
        "calculon-moe");
    assertThat(Files.exists(dir.resolve("s.json"))).isTrue();
  }

  /**
   * llm --report says which file it wrote, as the searches and sweeps do ("Report: FILE"): on
   * standard output with a stats file, on standard error with OUTPUT -, whose standard output stays
   * the summary alone, byte for byte.
   */
  @Test
  void llmReportNamesTheFileItWrote(@TempDir Path dir) throws Exception {
    String[] dense = {"models/megatron-126M.json", "src/test/resources/cli/dense-126M-tp2-pp2-dp2-execution.json",
        "systems/H100_80g_sxm.json"};
    Path html = dir.resolve("run.html");
    CliRun.Run toFile = MainTest.run("llm", dense[0], dense[1], dense[2], dir.resolve("s.json").toString(),
        "--report", html.toString());
    assertThat(toFile).isEqualTo(new CliRun.Run(0, "Report: " + html + "\n", ""));
    Path html2 = dir.resolve("run2.html");
    CliRun.Run summary = MainTest.run("llm", dense[0], dense[1], dense[2], "-", "--report", html2.toString());
    CliRun.Run plain = MainTest.run("llm", dense[0], dense[1], dense[2], "-");
    assertThat(summary.status()).isZero();
    assertThat(summary.out()).isEqualTo(plain.out()).contains("Sample rate:");
    assertThat(summary.err()).isEqualTo("Report: " + html2 + "\n");
    assertThat(Files.readString(html2)).contains("calculon run report: megatron-126M");
    // without --report nothing is added
    assertThat(MainTest.run("llm", dense[0], dense[1], dense[2], dir.resolve("t.json").toString()))
        .isEqualTo(new CliRun.Run(0, "", ""));
  }

  @Test
  void reportNamesTheFileItWrote(@TempDir Path dir) throws Exception {
    Path stats = dir.resolve("s.json");
    assertThat(MainTest.run("llm", MOE[0], MOE[1], MOE[2], stats.toString()).status()).isZero();
    Path html = dir.resolve("again.html");
    // it printed nothing on success; now the line llm --report, the searches and sweeps print
    assertThat(MainTest.run("report", stats.toString(), html.toString()))
        .isEqualTo(new CliRun.Run(0, "Report: " + html + "\n", ""));
    assertThat(Files.readString(html)).contains("calculon run report");
  }

  /**
   * A model, execution or system file given as RESULTS is named with its kind and what belongs
   * there, as llm names a swapped file (a system file was named by its first key, matrix, and a
   * model file got a line that did not say what it was).
   */
  @Test
  void anInputFileGivenAsResultsIsNamedWithItsKind(@TempDir Path dir) throws Exception {
    String html = dir.resolve("r.html").toString();
    String[][] files = {
        {"models/llama3-8B.json", "a model file (hidden, num_blocks)"},
        {"examples/llama3-70B_256xH100.json", "an execution file (num_procs, tensor_par)"},
        {"systems/H100_SXM_80g_dense.json", "a system file (matrix, networks)"}};
    for (String[] f : files) {
      assertThat(MainTest.run("report", f[0], html)).as(f[0])
          .isEqualTo(new CliRun.Run(2, "", "calculon report: " + f[0] + ": this looks like " + f[1] + ", not a stats file, "
              + "search results or a sweep output: check which file goes where (the command's --help lists its arguments in order)\n"));
    }
    // the same words as llm given a model file where the system belongs
    assertThat(MainTest.run("llm", "models/llama3-8B.json", "examples/llama3-8B_64xH100.json", "models/llama3-8B.json", "-").err())
        .isEqualTo("calculon llm: models/llama3-8B.json: this looks like a model file (hidden, num_blocks), not a system file: "
            + "check which file goes where (the command's --help lists its arguments in order)\n");
    // a flat file of no kind of ours: no entry to name
    Path flat = dir.resolve("flat.json");
    Files.writeString(flat, "{\"a\": 1}");
    assertThat(MainTest.run("report", flat.toString(), html))
        .isEqualTo(new CliRun.Run(2, "", "calculon report: " + flat + ": is neither a stats file (it has no sample_rate), search "
            + "results (entries with \"execution\" and \"stats\" objects) nor a sweep output (entries with \"sweep\", "
            + "\"execution\" and \"stats\" objects)\n"));
    assertThat(Path.of(html)).doesNotExist();
  }

  @Test
  void aMisspeltDatatypeGetsTheCloseName(@TempDir Path dir) {
    CliRun.Run r = MainTest.run("loe", "models/megatron-126M.json", "8", "8", "bflot16", "systems/H100_SXM_80g_dense.json",
        dir.resolve("o.json").toString());
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("invalid choice: 'bflot16' (choose from 'float4', 'float8', 'float16', 'bfloat16', "
        + "'float32') (did you mean \"bfloat16\"?)");
  }

  @Test
  void llmRejectsANonHtmlReportBeforeRunning(@TempDir Path dir) {
    CliRun.Run r = MainTest.run("llm", MOE[0], MOE[1], MOE[2], "-", "--report", dir.resolve("r.pdf").toString());
    assertThat(r.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(r.err()).contains("r.pdf", "a report must be an .html file");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void reportOfAStatsFileTakesOptionalInputs(@TempDir Path dir) throws Exception {
    Path stats = dir.resolve("s.json");
    // computed by calculon-moe, as the report's --model-version below says (a contradiction is refused)
    assertThat(MainTest.run("llm", MOE[0], MOE[1], MOE[2], stats.toString(), "--model-version", "calculon-moe")
        .status()).isZero();
    Path bare = dir.resolve("bare.html");
    assertThat(MainTest.run("report", stats.toString(), bare.toString()).status()).isZero();
    assertThat(Files.readString(bare)).contains("Inputs unknown");
    Path full = dir.resolve("full.html");
    assertThat(MainTest.run("report", stats.toString(), full.toString(), "--model", MOE[0], "--execution", MOE[1],
        "--system", MOE[2], "--model-version", "calculon-moe").status()).isZero();
    assertThat(Files.readString(full)).doesNotContain("Inputs unknown").contains("Model: gpt-1.8T", "capacity 80.000 GiB");
  }

  /**
   * A report rebuilt from a stats file has the expert all-to-all by tier that the run's own report
   * has (README section 3): the corrected model writes those stats beside the reference's 122 when
   * not zero, and the report reads them back, with the same values, with or without the inputs.
   */
  @Test
  void reportOfAStatsFileKeepsTheExpertAllToAllByTier(@TempDir Path dir) throws Exception {
    Path stats = dir.resolve("out.json");
    Path direct = dir.resolve("run.html");
    assertThat(MainTest.run("llm", MOE[0], MOE[1], MOE[2], stats.toString(), "--report", direct.toString())
        .status()).isZero();
    String section = "<h2>Expert all-to-all by tier, hidden and exposed</h2>";
    String run = Files.readString(direct);
    assertThat(run).contains(section);
    String upper = valueOf(run, "ep_a2a_upper_tier_link_time");
    assertThat(Double.parseDouble(upper)).isPositive();
    Path bare = dir.resolve("bare.html");
    Path full = dir.resolve("run2.html");
    assertThat(MainTest.run("report", stats.toString(), bare.toString()).status()).isZero();
    assertThat(MainTest.run("report", stats.toString(), full.toString(), "--model", MOE[0], "--execution", MOE[1],
        "--system", MOE[2]).status()).isZero();
    for (Path page : new Path[] {bare, full}) {
      String text = Files.readString(page);
      assertThat(text).as(page.toString()).contains(section);
      assertThat(valueOf(text, "ep_a2a_upper_tier_link_time")).as(page.toString()).isEqualTo(upper);
      assertThat(valueOf(text, "ep_comm_exposed_time")).isEqualTo(valueOf(run, "ep_comm_exposed_time"));
    }
  }

  /** The exact value the page gives a stats key (its first data-value). */
  private static String valueOf(String html, String key) {
    java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("data-key=\"" + key + "\" data-value=\"([^\"]+)\"").matcher(html);
    assertThat(m.find()).as(key).isTrue();
    return m.group(1);
  }

  @Test
  void modelVersionNeverRelabelsAFileThatRecordsOne(@TempDir Path dir) throws Exception {
    Path stats = dir.resolve("s.json");
    assertThat(MainTest.run("llm", MOE[0], MOE[1], MOE[2], stats.toString()).status()).isZero();  // corrected
    Path html = dir.resolve("r.html");
    CliRun.Run r = MainTest.run("report", stats.toString(), html.toString(), "--model-version", "calculon-moe");
    assertThat(r.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(r.err().strip()).isEqualTo("calculon report: --model-version: the stats file " + stats
        + " records model_version corrected, which computed it; drop the flag or give corrected");
    assertThat(html).doesNotExist();
    // the same version is fine; search results take no model version
    assertThat(MainTest.run("report", stats.toString(), html.toString(), "--model-version", "corrected").status())
        .isZero();
    CliRun.Run search = MainTest.run("report", GOLDEN, dir.resolve("s.html").toString(), "--model-version", "corrected");
    assertThat(search.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(search.err().strip()).isEqualTo("calculon report: --model-version: applies to a stats file; " + GOLDEN
        + " holds search results, whose rows do not depend on it");
  }

  @Test
  void reportAndConvertHandleSearchResults(@TempDir Path dir) throws Exception {
    Path csv = dir.resolve("r.csv.gz");
    // the golden holds the reference's 5 best executions
    assertThat(MainTest.run("convert", GOLDEN, csv.toString())).isEqualTo(new CliRun.Run(0,
        "Converted: " + csv + " (search results, 5 executions; JSON -> gzipped CSV, from " + GOLDEN + ")\n", ""));
    Path html = dir.resolve("search.html");
    assertThat(MainTest.run("report", csv.toString(), html.toString(), "--top", "3").status()).isZero();
    assertThat(Files.readString(html)).contains("calculon search report", "Top 3 executions of 5", "chart-heatmap-ep1");
  }

  @Test
  void convertSaysPerLayerStatsStayInJson(@TempDir Path dir) throws Exception {
    Path stats = dir.resolve("s.json");
    assertThat(MainTest.run("llm", MOE[0], MOE[1], MOE[2], stats.toString(), "-l").status()).isZero();
    Path csv = dir.resolve("s.csv");
    CliRun.Run r = MainTest.run("convert", stats.toString(), csv.toString());
    assertThat(r.status()).isZero();
    assertThat(r.err()).contains("per-layer stats stay in JSON");
    assertThat(Files.readAllLines(csv)).hasSize(2);
    // as many layers as the stats file's "layers" list holds (one block's layers)
    int layers = new com.fasterxml.jackson.databind.ObjectMapper().readTree(stats.toFile()).get("layers").size();
    assertThat(layers).isGreaterThan(1);
    assertThat(r.out()).isEqualTo("Converted: " + csv + " (stats with " + layers + " layers; JSON -> CSV, from " + stats
        + ")\n");
  }

  /**
   * convert printed nothing on success; it now says on standard output what it wrote, as llm
   * --report's "Report: FILE": the output, what the file holds and the two formats. The CSV read
   * back converts to gzipped JSON with the same line shape, and to a name that is no result file
   * nothing is written or printed but the one error line.
   */
  @Test
  void convertSaysWhatItWrote(@TempDir Path dir) throws Exception {
    Path stats = dir.resolve("s.json");
    assertThat(MainTest.run("llm", MOE[0], MOE[1], MOE[2], stats.toString()).status()).isZero();
    Path csv = dir.resolve("s.csv");
    assertThat(MainTest.run("convert", stats.toString(), csv.toString()))
        .isEqualTo(new CliRun.Run(0, "Converted: " + csv + " (stats; JSON -> CSV, from " + stats + ")\n", ""));
    Path gz = dir.resolve("back.json.gz");
    assertThat(MainTest.run("convert", csv.toString(), gz.toString()))
        .isEqualTo(new CliRun.Run(0, "Converted: " + gz + " (stats; CSV -> gzipped JSON, from " + csv + ")\n", ""));
    CliRun.Run dash = MainTest.run("convert", stats.toString(), "-");
    assertThat(dash.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(dash.out()).isEmpty();
  }

  @Test
  void unknownFormatsAreOneLineErrors(@TempDir Path dir) {
    CliRun.Run r = MainTest.run("convert", GOLDEN, dir.resolve("x.xlsx").toString());
    assertThat(r.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(r.err().lines()).hasSize(1).first().asString().contains("x.xlsx", ".csv.gz");
  }

  /**
   * Search results from a search run with -l carry "layers" in each entry's stats: convert to CSV
   * wrote them as one Java-text cell under a "layers" column, with nothing on stderr; later it left
   * them out with a stderr note. Now the CSV is the same bytes as without the layers and the layers
   * go beside it (NAME.layers.json, as a search with -l writes them), null for an entry without
   * layers so that the keys stay the rows' indices; that CSV converts back to the JSON, layers
   * where they were (ConvertLayersTest: the search's own files).
   */
  @Test
  void convertPutsSearchLayersBesideTheCsv(@TempDir Path dir) throws Exception {
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    com.fasterxml.jackson.databind.node.ObjectNode doc =
        (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(Path.of(GOLDEN).toFile());
    com.fasterxml.jackson.databind.JsonNode top = doc.has("top_n") ? doc.get("top_n") : doc;
    for (String i : List.of("0", "1")) {
      ((com.fasterxml.jackson.databind.node.ObjectNode) top.get(i).get("stats")).putArray("layers")
          .addObject().put("name", "AttnBlock_Fork").put("fw_flops", 1.5);
    }
    Path withLayers = dir.resolve("l.json");
    json.writeValue(withLayers.toFile(), doc);
    Path plainCsv = dir.resolve("plain.csv");
    assertThat(MainTest.run("convert", GOLDEN, plainCsv.toString()).status()).isZero();

    Path csv = dir.resolve("l.csv");
    Path side = dir.resolve("l.layers.json");
    assertThat(MainTest.run("convert", withLayers.toString(), csv.toString())).isEqualTo(new CliRun.Run(0,
        "Converted: " + csv + " (search results, 5 executions; JSON -> CSV, from " + withLayers + ")\n"
            + "Converted: " + side + " (per-layer stats of 2 executions, beside " + csv + ")\n", ""));
    assertThat(Files.readString(csv)).isEqualTo(Files.readString(plainCsv)).doesNotContain("layers");
    assertThat(Files.readString(side)).isEqualTo("{\n  \"0\": [\n    {\n      \"name\": \"AttnBlock_Fork\",\n"
        + "      \"fw_flops\": 1.5\n    }\n  ],\n  \"1\": [\n    {\n      \"name\": \"AttnBlock_Fork\",\n"
        + "      \"fw_flops\": 1.5\n    }\n  ],\n  \"2\": null,\n  \"3\": null,\n  \"4\": null\n}");

    Path back = dir.resolve("back.json");
    assertThat(MainTest.run("convert", withLayers.toString(), back.toString()).err()).isEmpty();
    com.fasterxml.jackson.databind.JsonNode kept = json.readTree(back.toFile());
    assertThat(kept.get("1").get("stats").get("layers").get(0).get("fw_flops").asDouble()).isEqualTo(1.5);
    assertThat(kept.get("2").get("stats").has("layers")).isFalse();

    // the CSV with its layers file converts back to the JSON the JSON converts to, byte for byte
    Path fromCsv = dir.resolve("fromcsv.json");
    CliRun.Run r = MainTest.run("convert", csv.toString(), fromCsv.toString());
    assertThat(r.status()).isZero();
    assertThat(r.err()).isEqualTo("calculon convert: read the per-layer stats of 2 executions from " + side
        + " (beside " + csv + ")\n");
    assertThat(Files.readString(fromCsv)).isEqualTo(Files.readString(back));
  }
}
