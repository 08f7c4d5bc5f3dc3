package calculon.report;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.model.ModelVersion;
import calculon.stats.Stats;
import calculon.stats.StatsJson;
import calculon.util.Csv;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ReportFilesTest {

  static String[] goldens() {
    return Reports.SEARCH_GOLDENS;
  }

  @ParameterizedTest
  @MethodSource("goldens")
  void searchResultsSurviveEveryFormatInTheirKeyOrder(String golden, @TempDir Path dir) throws Exception {
    ReportFiles.SearchContent start = (ReportFiles.SearchContent) ReportFiles.read(Reports.golden(golden));
    ReportFiles.Content c = start;
    for (String name : new String[] {"a.json", "b.csv", "c.csv.gz", "d.json.gz", "e.json"}) {
      Path p = dir.resolve(name);
      assertThat(ReportFiles.write(c, p)).isNull();
      c = ReportFiles.read(p);
      List<SearchRow> rows = ((ReportFiles.SearchContent) c).rows();
      assertThat(rows).as(name).isEqualTo(start.rows());
      assertThat(new ArrayList<>(rows.get(0).execution().keySet())).as(name)
          .isEqualTo(new ArrayList<>(start.rows().get(0).execution().keySet()));
      assertThat(new ArrayList<>(rows.get(0).stats().keySet())).as(name)
          .isEqualTo(new ArrayList<>(start.rows().get(0).stats().keySet()));
    }
    // and the final JSON is the reference's layout, as the search commands write it
    String json = Files.readString(dir.resolve("e.json"));
    assertThat(json).startsWith("{\n  \"0\": {\n    \"execution\": {\n      \"num_procs\": ");
  }

  @Test
  void searchCsvHasTheReferenceHeaderAndIndex(@TempDir Path dir) throws Exception {
    Path csv = dir.resolve("r.csv");
    ReportFiles.write(ReportFiles.read(Reports.golden("loemoe-nemo-64-b128-E8-singletier")), csv);
    List<String> lines = Files.readAllLines(csv);
    assertThat(lines).hasSize(6);
    assertThat(lines.get(0)).startsWith(",num_procs,tensor_par,").endsWith(",total_efficiency,sample_rate");
    assertThat(lines.get(1)).startsWith("0,64,1,1,64,").contains(",True,", ",float16,").endsWith(",224.7444307203935");
  }

  /**
   * A search's entries need not give the same optional execution keys (a template's
   * recompute_method goes with its executions that recompute fully, recompute_modules with the
   * others): the CSV's header holds every key any entry gives, an entry without one leaves its cell
   * empty, and reading it back gives each entry its own keys again (the CSV used to take the first
   * entry's keys, shifting the cells of the others by what they gave more).
   */
  @Test
  void entriesWithDifferentOptionalKeysSurviveCsv(@TempDir Path dir) throws Exception {
    ReportFiles.SearchContent golden =
        (ReportFiles.SearchContent) ReportFiles.read(Reports.golden("loemoe-nemo-64-b128-E8-singletier"));
    List<SearchRow> rows = new ArrayList<>(golden.rows());
    java.util.Map<String, Object> exe = new java.util.LinkedHashMap<>(rows.get(1).execution());
    exe.put("recompute_method", "block");
    exe.put("recompute_num_layers", 2);
    rows.set(1, new SearchRow(exe, rows.get(1).stats()));
    ReportFiles.SearchContent start = new ReportFiles.SearchContent(rows);
    Path csv = dir.resolve("r.csv");
    ReportFiles.write(start, csv);
    List<String> lines = Files.readAllLines(csv);
    int cells = lines.get(0).split(",", -1).length;
    assertThat(lines.subList(1, lines.size())).allSatisfy(l -> assertThat(l.split(",", -1)).hasSize(cells));
    List<SearchRow> back = ((ReportFiles.SearchContent) ReportFiles.read(csv)).rows();
    assertThat(back).isEqualTo(rows);
    assertThat(back.get(0).execution()).doesNotContainKey("recompute_method");
  }

  @Test
  void statsConvertToCsvWithoutTheirLayersAndSaySo(@TempDir Path dir) throws Exception {
    Stats s = Reports.evaluate(Reports.README_RUNS[1]);
    Path json = dir.resolve("s.json");
    StatsJson.write(s, true, json);
    ReportFiles.Content c = ReportFiles.read(json);
    String note = ReportFiles.write(c, dir.resolve("s.csv.gz"));
    assertThat(note).contains("per-layer stats stay in JSON", "layers");
    ReportFiles.StatsContent back = (ReportFiles.StatsContent) ReportFiles.read(dir.resolve("s.csv.gz"));
    assertThat(back.layers()).isNull();
    assertThat(back.stats()).isEqualTo(((ReportFiles.StatsContent) c).stats());
    assertThat(new ArrayList<>(back.stats().keySet())).isEqualTo(new ArrayList<>(((ReportFiles.StatsContent) c).stats().keySet()));
    // stats JSON -> JSON.gz -> JSON keeps the layers byte for byte
    ReportFiles.write(c, dir.resolve("s2.json.gz"));
    ReportFiles.write(ReportFiles.read(dir.resolve("s2.json.gz")), dir.resolve("s3.json"));
    assertThat(Files.readString(dir.resolve("s3.json"))).isEqualTo(Files.readString(json));
    assertThat(RunReport.html(ReportFiles.toStats(back, "s.csv.gz"), RunReport.Inputs.unknown())).contains("No per-layer stats");
    assertThat(ModelVersion.DEFAULT).isNotNull();
  }

  @Test
  void csvCellsWithCommasQuotesAndNewlinesAreQuotedAndReadBack(@TempDir Path dir) throws Exception {
    Map<String, Object> exe = new LinkedHashMap<>();
    exe.put("tensor_par", 2);
    exe.put("note", "a, \"quoted\"\nline");
    Map<String, Object> stats = new LinkedHashMap<>();
    stats.put("sample_rate", 1.5);
    stats.put("total_time", null);
    List<SearchRow> rows = List.of(new SearchRow(exe, stats));
    Path csv = dir.resolve("q.csv");
    ReportFiles.write(new ReportFiles.SearchContent(rows), csv);
    assertThat(Files.readString(csv)).contains("\"a, \"\"quoted\"\"\nline\"");
    assertThat(((ReportFiles.SearchContent) ReportFiles.read(csv)).rows()).isEqualTo(rows);
    Csv.RecordReader r = new Csv.RecordReader(new StringReader(Files.readString(csv)));
    assertThat(r.next()).containsExactly("", "tensor_par", "note", "sample_rate", "total_time");
    assertThat(r.next()).containsExactly("0", "2", "a, \"quoted\"\nline", "1.5", "None");
    assertThat(r.next()).isNull();
  }

  @Test
  void theOriginalAllExecutionsCsvIsReadAsSearchRows(@TempDir Path dir) throws Exception {
    com.fasterxml.jackson.databind.JsonNode g = new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree(Reports.golden("lae-calc-megatron-126M-2-b4-nomem2").toFile());
    Path csv = dir.resolve("all.csv");
    Files.writeString(csv, g.get("csv").asText());
    List<SearchRow> rows = ((ReportFiles.SearchContent) ReportFiles.read(csv)).rows();
    assertThat(rows).hasSizeGreaterThan(1);
    assertThat(rows.get(0).execution()).containsKeys("num_procs", "tensor_par", "training");
    assertThat(rows.get(0).stats()).containsKeys("sample_rate", "proc_mem_tier1_cap_req");
  }
}
