package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import calculon.util.Csv;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/sweeps.md ("The studies beside the papers") quotes what the shipped studies print today:
 * each study is re-run here as the docs say ({@code sweep examples/sweeps/SPEC.json OUT.csv}) and
 * every quoted table cell compared with the CSV it writes: the Calculon-MoE network study's two
 * columns (sample rate, MFU, TP/PP/DP[/EP]), the SC23 Table 3 grid (GPUs, sample rate, samples/s
 * per $M, MFU) and the SC23 Fig. 6 rows (sample rate, MFU, and Turing-NLG's TP and PP). The four
 * studies are 76 searches, a few seconds each in this JVM; their prose (which system wins, the
 * tie, the splits) was derived from the same CSVs when the tables were last quoted.
 */
class SweepsDocQuotesTest {
  @TempDir
  Path dir;

  private static String doc() throws Exception {
    return Files.readString(Path.of("docs/sweeps.md"));
  }

  /** Runs {@code examples/sweeps/SPEC.json} to a CSV and returns its records, header name to cell. */
  private List<Map<String, String>> sweep(String spec) throws Exception {
    Path out = dir.resolve(spec + ".csv");
    Run r = CliRun.run("sweep", "examples/sweeps/" + spec + ".json", out.toString(), "--quiet");
    assertThat(r.status()).as(r.err()).isZero();
    List<Map<String, String>> records = new ArrayList<>();
    try (Reader in = Files.newBufferedReader(out)) {
      Csv.RecordReader csv = new Csv.RecordReader(in);
      List<String> header = csv.next();
      for (List<String> cells = csv.next(); cells != null; cells = csv.next()) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < header.size(); i++) {
          m.put(header.get(i), cells.get(i));
        }
        records.add(m);
      }
    }
    return records;
  }

  private static double num(Map<String, String> p, String key) {
    return Double.parseDouble(p.get(key));
  }

  /** The network table's first cell of a system's row. */
  private static String networkRow(String system) {
    return system.equals("TwoTiered_HBD8") ? "| TwoTiered_HBD8 (H100-class, 80 GiB) | " : "| " + system + " | ";
  }

  /** The doc's one line that starts with {@code prefix}. */
  private static String lineStartingWith(String doc, String prefix) {
    List<String> lines = doc.lines().filter(l -> l.startsWith(prefix)).toList();
    assertThat(lines).as("docs/sweeps.md lines starting with %s", prefix).hasSize(1);
    return lines.get(0);
  }

  @Test
  void theNetworkStudysMoeColumnIsWhatTheSweepPrints() throws Exception {
    List<Map<String, String>> records = sweep("moe-network-gpt1.8T");
    String doc = doc();
    assertThat(records).hasSize(6);
    for (Map<String, String> p : records) {
      String cell = String.format(Locale.ROOT, "%,.1f /s, %.1f%%, %s/%s/%s/%s",
          num(p, "sample_rate"), 100 * num(p, "mfu"),
          p.get("tensor_par"), p.get("pipeline_par"), p.get("data_par"), p.get("expert_par"));
      String system = p.get("system");
      assertThat(doc).as("docs/sweeps.md's row for %s", system).contains(networkRow(system) + cell + " | ");
    }
  }

  @Test
  void theNetworkStudysDenseColumnIsWhatTheSweepPrints() throws Exception {
    List<Map<String, String>> records = sweep("moe-network-gpt3-175B");
    String doc = doc();
    assertThat(records).hasSize(6);
    for (Map<String, String> p : records) {
      String cell = String.format(Locale.ROOT, "%,.1f /s, %.1f%%, %s/%s/%s",
          num(p, "sample_rate"), 100 * num(p, "mfu"), p.get("tensor_par"), p.get("pipeline_par"), p.get("data_par"));
      String system = p.get("system");
      assertThat(lineStartingWith(doc, networkRow(system)))
          .as("docs/sweeps.md's row for %s", system).endsWith(" | " + cell + " |");
    }
  }

  @Test
  void theTable3GridIsWhatTheSweepPrints() throws Exception {
    List<Map<String, String>> records = sweep("sc23-table3");
    String doc = doc();
    assertThat(records).hasSize(16);
    // the SPEC's grid order: HBM outer, DDR inner (0, 256, 512, 1,024 GiB), one table row per HBM size
    for (int row = 0; row < 4; row++) {
      StringBuilder line = new StringBuilder();
      for (int col = 0; col < 4; col++) {
        Map<String, String> p = records.get(4 * row + col);
        assertThat(p.get("status")).isEqualTo("ok");
        if (col == 0) {
          line.append("| ").append(p.get("mem1.GiB")).append(" GiB |");
        }
        line.append(String.format(Locale.ROOT, " %,d%s: %.1f /s, %.2f, %.1f%% |",
            Integer.parseInt(p.get("num_procs")), row == 0 && col == 0 ? " GPUs" : "",
            num(p, "sample_rate"), num(p, "sample_rate_per_musd"), 100 * num(p, "mfu")));
      }
      assertThat(doc).as("docs/sweeps.md's Table 3 row").contains(line + "\n");
    }
  }

  @Test
  void theFig6RowsAreWhatTheSweepPrints() throws Exception {
    List<Map<String, String>> records = sweep("sc23-fig6-small");
    assertThat(records).hasSize(48);
    // one table row per system size: GPT-3 175B, Turing-NLG 530B (with its TP and PP), Megatron-1T
    Map<String, StringBuilder> rows = new HashMap<>();
    for (String model : List.of("gpt3-175B", "turing-530B", "megatron-1T")) {
      for (Map<String, String> p : records) {
        if (!p.get("model").equals(model)) {
          continue;
        }
        assertThat(p.get("status")).isEqualTo("ok");
        StringBuilder row = rows.computeIfAbsent(p.get("num_procs"),
            n -> new StringBuilder(String.format(Locale.ROOT, "| %,d |", Integer.parseInt(n))));
        String split = "";
        if (model.equals("turing-530B")) {
          split = ", TP " + p.get("tensor_par") + (p.get("pipeline_par").equals("1") ? "" : " PP " + p.get("pipeline_par"));
        }
        row.append(String.format(Locale.ROOT, " %,.1f /s (%.1f%%%s) |", num(p, "sample_rate"), 100 * num(p, "mfu"), split));
      }
    }
    assertThat(rows).hasSize(16);
    List<String> quoted = doc().lines().filter(l -> l.matches("\\| [0-9,]+ \\| .* /s \\(.*")).toList();
    assertThat(quoted).as("docs/sweeps.md's Fig. 6 rows").hasSize(8);
    for (String line : quoted) {
      String size = line.substring(2, line.indexOf(" |", 2)).replace(",", "");
      assertThat(rows).containsKey(size);
      assertThat(line).isEqualTo(rows.get(size).toString());
    }
  }
}
