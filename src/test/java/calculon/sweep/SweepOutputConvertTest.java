package calculon.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code convert} reads a sweep's output as a sweep output, not as search results: it says so
 * ("sweep output, N records of M points"), keeps the sweep's own columns (point, model, system, the
 * grid fields, rank, status) as the "sweep" group of each JSON entry instead of mixing them into
 * the execution, and a round trip CSV -> JSON -> CSV (or through JSON Lines) gives the sweep's
 * file back byte for byte. A converted file makes the same report as the sweep's own.
 */
class SweepOutputConvertTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @TempDir
  Path dir;

  private CliRun.Run ok(String... args) {
    CliRun.Run r = CliRun.run(args);
    assertThat(r.status()).as(r.err()).isZero();
    return r;
  }

  private static List<List<String>> csv(Path file) throws Exception {
    List<List<String>> rows = new ArrayList<>();
    try (Reader in = Files.newBufferedReader(file)) {
      calculon.util.Csv.RecordReader r = new calculon.util.Csv.RecordReader(in);
      for (List<String> c = r.next(); c != null; c = r.next()) {
        rows.add(c);
      }
    }
    return rows;
  }

  @Test
  void theReadmesQuickSweepConvertsToJsonWithItsOwnColumnsAndBackByteForByte() throws Exception {
    // the README's example: 2 HBM sizes x 3 NVLink speeds, one fixed execution
    Path out = dir.resolve("quick.csv");
    ok("sweep", "examples/sweeps/quick.json", out.toString(), "--quiet");
    Path json = dir.resolve("quick.json");
    CliRun.Run c = ok("convert", out.toString(), json.toString());
    assertThat(c.out()).isEqualTo("Converted: " + json + " (sweep output, 6 records of 6 points; CSV -> JSON, from "
        + out + ")\n");
    assertThat(c.err()).isEmpty();

    List<List<String>> rows = csv(out);
    List<String> header = rows.get(0);
    JsonNode doc = MAPPER.readTree(json.toFile());
    assertThat(doc.size()).isEqualTo(6);
    for (int i = 0; i < 6; i++) {
      JsonNode e = doc.get(String.valueOf(i));
      List<String> names = new ArrayList<>();
      e.fieldNames().forEachRemaining(names::add);
      assertThat(names).containsExactly("sweep", "execution", "stats");
      List<String> sweepKeys = new ArrayList<>();
      e.get("sweep").fieldNames().forEachRemaining(sweepKeys::add);
      assertThat(sweepKeys).containsExactly("point", "model", "system", "mem1.GiB", "networks[0].bandwidth", "rank", "status");
      // grid point i: HBM 80, 80, 80, 120, 120, 120 GiB x NVLink 150, 300, 600 GB/s (the spec's order)
      assertThat(e.get("sweep").get("point").asInt()).isEqualTo(i);
      assertThat(e.get("sweep").get("model").asText()).isEqualTo("megatron-1T");
      assertThat(e.get("sweep").get("system").asText()).isEqualTo("a100_80g");
      assertThat(e.get("sweep").get("mem1.GiB").asInt()).isEqualTo(i < 3 ? 80 : 120);
      assertThat(e.get("sweep").get("networks[0].bandwidth").asInt()).isEqualTo(List.of(150, 300, 600).get(i % 3));
      assertThat(e.get("sweep").get("status").asText()).isEqualTo("ok");
      // the execution group is the execution (a row copied into an execution file), nothing of the grid
      assertThat(e.get("execution").has("point")).isFalse();
      assertThat(e.get("execution").has("mem1.GiB")).isFalse();
      assertThat(e.get("execution").get("tensor_par").asInt()).isEqualTo(4);
      assertThat(e.get("execution").get("pipeline_par").asInt()).isEqualTo(64);
      assertThat(e.get("execution").get("data_par").asInt()).isEqualTo(12);
      // the stats and metrics as the CSV says them, numbers the same doubles
      List<String> cells = rows.get(i + 1);
      assertThat(e.get("stats").get("sample_rate").asDouble())
          .isEqualTo(Double.parseDouble(cells.get(header.indexOf("sample_rate"))));
      assertThat(e.get("stats").get("mfu").asDouble()).isEqualTo(Double.parseDouble(cells.get(header.indexOf("mfu"))));
      // no price in the system: an empty cell, kept as null so the column survives
      assertThat(e.get("stats").get("capex_usd").isNull()).isTrue();
      assertThat(e.get("execution").get("zero_stage").isNull()).isTrue();
    }
    // NVLink faster, step no longer at the same HBM: the file's own numbers, not the grid's order mixed up
    assertThat(doc.get("2").get("stats").get("sample_rate").asDouble())
        .isGreaterThan(doc.get("0").get("stats").get("sample_rate").asDouble());

    Path back = dir.resolve("back.csv");
    CliRun.Run b = ok("convert", json.toString(), back.toString());
    assertThat(b.out()).contains("(sweep output, 6 records of 6 points; JSON -> CSV, from ");
    assertThat(Files.readString(back)).isEqualTo(Files.readString(out));

    // the same from the sweep's JSON Lines: converted to CSV it is the sweep's CSV, and back
    Path jsonl = dir.resolve("quick.jsonl");
    ok("sweep", "examples/sweeps/quick.json", jsonl.toString(), "--quiet");
    Path fromJsonl = dir.resolve("from-jsonl.csv");
    assertThat(ok("convert", jsonl.toString(), fromJsonl.toString()).out()).contains("JSON Lines -> CSV");
    assertThat(Files.readString(fromJsonl)).isEqualTo(Files.readString(out));
    Path again = dir.resolve("again.jsonl");
    ok("convert", json.toString(), again.toString());
    assertThat(Files.readString(again)).isEqualTo(Files.readString(jsonl));

    // the converted file makes the report the sweep's file makes
    Path fromCsv = dir.resolve("a.html");
    Path fromJson = dir.resolve("b.html");
    ok("report", out.toString(), fromCsv.toString());
    assertThat(ok("report", json.toString(), fromJson.toString()).out()).isEqualTo("Report: " + fromJson + "\n");
    // (the charts' clip ids count the charts this process drew)
    assertThat(Files.readString(fromJson).replace("quick.json", "quick.csv").replaceAll("c\\d+_clip", "c_clip"))
        .isEqualTo(Files.readString(fromCsv).replaceAll("c\\d+_clip", "c_clip"));
  }

  @Test
  void aSearchSweepWithRanksAndInfeasiblePointsRoundTripsThroughEveryFormat() throws Exception {
    // top 2 per point, and points where nothing fits in 1 GiB: empty cells, a quoted status
    Path spec = dir.resolve("s.json");
    // without offload, so nothing fits in a quarter GiB (a float grid value, written as Python's repr)
    Files.writeString(spec, SweepTest.searchSpec().replace("\"mbs_break\": true,", "\"mbs_break\": true, \"offload\": false,")
        .replace("\"mem1.GiB\": [80, 1]", "\"mem1.GiB\": [80, 0.25]"));
    Path out = dir.resolve("s.csv");
    ok("sweep", spec.toString(), out.toString(), "--quiet");
    String text = Files.readString(out);
    assertThat(text).contains(",,infeasible: no execution of ");
    long records = text.lines().count() - 1;
    assertThat(records).isGreaterThan(4);
    String previous = out.toString();
    for (String name : List.of("s.json", "s.json.gz", "s.csv.gz", "s.jsonl", "s2.json", "s2.csv")) {
      Path next = dir.resolve(name.equals("s.json") ? "c.json" : name);
      CliRun.Run r = ok("convert", previous, next.toString());
      assertThat(r.out()).contains("(sweep output, " + records + " records of 4 points; ").doesNotContain("search results");
      previous = next.toString();
    }
    assertThat(Files.readString(dir.resolve("s2.csv"))).isEqualTo(text);
    JsonNode doc = MAPPER.readTree(dir.resolve("s2.json").toFile());
    // point 1 (4 GPUs, 0.25 GiB) has no execution: one record, rank null, the reason in the sweep group
    JsonNode infeasible = doc.get("2").get("sweep");
    assertThat(infeasible.get("point").asInt()).isEqualTo(1);
    assertThat(infeasible.get("mem1.GiB").asDouble()).isEqualTo(0.25);
    assertThat(infeasible.get("rank").isNull()).isTrue();
    assertThat(infeasible.get("status").asText()).startsWith("infeasible: ");
    assertThat(doc.get("2").get("execution").get("tensor_par").isNull()).isTrue();
    // the grid's num_procs is written grid.num_procs, beside the execution's own num_procs
    assertThat(doc.get("0").get("sweep").get("grid.num_procs").asInt()).isEqualTo(4);
    assertThat(doc.get("0").get("execution").get("num_procs").asInt()).isEqualTo(4);
  }

  @Test
  void searchResultsAreNoSweepOutputAndJsonLinesHoldsOnlyOne() throws Exception {
    Path res = dir.resolve("r.json");
    ok("llm-optimal-execution", "models/megatron-126M.json", "8", "16", "float16", "systems/a100_80g.json",
        res.toString(), "--quiet", "-t", "2");
    assertThat(ok("convert", res.toString(), dir.resolve("r.csv").toString()).out())
        .contains("(search results, 2 executions; JSON -> CSV");
    Path jsonl = dir.resolve("r.jsonl");
    CliRun.Run r = CliRun.run("convert", res.toString(), jsonl.toString());
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).isEqualTo("calculon convert: " + jsonl + ": a .jsonl file holds a sweep output, not search "
        + "results: use a .json, .json.gz, .csv or .csv.gz file\n");
    assertThat(jsonl).doesNotExist();
  }
}
