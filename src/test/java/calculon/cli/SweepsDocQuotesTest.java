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
 * docs/sweeps.md quotes what the shipped studies print today: the Calculon-MoE network study's
 * gpt-1.8T column (the cheapest study, 6 searches, about 10 s of CPU) is re-run here as the docs
 * say and every quoted cell (sample rate, MFU, TP/PP/DP/EP) compared. The other studies' tables
 * were re-run the same way when they were last quoted (their runs take 15-40 s of CPU each).
 */
class SweepsDocQuotesTest {
  @TempDir
  Path dir;

  @Test
  void theNetworkStudysMoeColumnIsWhatTheSweepPrints() throws Exception {
    Path out = dir.resolve("net-moe.csv");
    Run r = CliRun.run("sweep", "examples/sweeps/moe-network-gpt1.8T.json", out.toString(), "--quiet");
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
    String doc = Files.readString(Path.of("docs/sweeps.md"));
    assertThat(records).hasSize(6);
    for (Map<String, String> p : records) {
      String cell = String.format(Locale.ROOT, "%,.1f /s, %.1f%%, %s/%s/%s/%s",
          Double.parseDouble(p.get("sample_rate")), 100 * Double.parseDouble(p.get("mfu")),
          p.get("tensor_par"), p.get("pipeline_par"), p.get("data_par"), p.get("expert_par"));
      String system = p.get("system");
      String row = system.equals("TwoTiered_HBD8") ? "| TwoTiered_HBD8 (H100-class, 80 GiB) | " : "| " + system + " | ";
      assertThat(doc).as("docs/sweeps.md's row for %s", system).contains(row + cell + " | ");
    }
  }
}
