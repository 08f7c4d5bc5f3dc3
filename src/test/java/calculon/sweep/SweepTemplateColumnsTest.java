package calculon.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A search sweep's template columns come from the SPEC: a template key is a column where some
 * point's search carries it (fp8_recipe where some point searches float8), so no column is empty
 * in every row and the header is the same in every run and resume of one SPEC; and an output whose
 * columns are another calculon's is kept, not resumed, with one line that names the new output to
 * write instead.
 */
class SweepTemplateColumnsTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @TempDir
  Path dir;

  /** The Llama 3 8B example execution (gradient_datatype float32) with fp8_recipe delayed, as a template. */
  private Path template() throws IOException {
    ObjectNode t = (ObjectNode) MAPPER.readTree(Path.of("examples/llama3-8B_64xH100.json").toFile());
    t.put("fp8_recipe", "delayed");
    Path p = dir.resolve("template.json");
    MAPPER.writeValue(p.toFile(), t);
    return p;
  }

  /** A megatron-126M search on 8 H100 with the template, at {@code datatype} and {@code grid}. */
  private Path spec(String name, String datatype, String grid) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, "{\"models\": [\"" + SweepTest.abs("models/megatron-126M.json") + "\"],"
        + " \"systems\": [\"" + SweepTest.abs("systems/H100_80g.json") + "\"],"
        + " \"search\": {\"command\": \"loe\", \"num_procs\": 8, \"max_batch_size\": 16, \"datatype\": \"" + datatype + "\","
        + " \"tp_overlap\": false, \"dp_overlap\": false, \"execution_template\": \""
        + template().toString().replace("\\", "/") + "\"}, \"grid\": {" + grid + "}}");
    return p;
  }

  @Test
  void fp8RecipeIsAColumnOnlyWhereSomePointSearchesFloat8() throws Exception {
    // no point searches float8: the recipe changes no execution and would be an empty column
    List<String> f16 = SweepTest.sweep(spec("f16.json", "float16", "\"mem1.GiB\": [80, 120]"), SweepFormat.CSV).columns();
    assertThat(f16).contains("gradient_datatype").doesNotContain("fp8_recipe");
    // a grid over the datatype with float8: the column is there, at every point of the SPEC
    Path mixed = spec("mixed.json", "float16", "\"search.datatype\": [\"float16\", \"float8\"]");
    Sweep s = SweepTest.sweep(mixed, SweepFormat.CSV);
    List<String> cols = s.columns();
    assertThat(cols.subList(cols.indexOf("gradient_datatype"), cols.indexOf("gradient_datatype") + 2))
        .containsExactly("gradient_datatype", "fp8_recipe");
    Path out = dir.resolve("mixed.csv");
    SweepTest.runAll(s, out, new LocalEngine(1));
    List<String> lines = Files.readAllLines(out);
    int recipe = cols.indexOf("fp8_recipe");
    int datatype = cols.indexOf("search.datatype");
    for (String line : lines.subList(1, lines.size())) {
      String[] cells = line.split(",", -1);
      // the float16 points' executions do not carry the recipe (SearchTemplate#relevantTo): empty
      assertThat(cells[recipe]).as(line).isEqualTo(cells[datatype].equals("float8") ? "delayed" : "");
      assertThat(cells[cols.indexOf("gradient_datatype")]).as(line).isEqualTo("float32");
    }
    // the float8-only SPEC has the column too: the header depends on the SPEC's datatypes only
    assertThat(SweepTest.sweep(spec("f8.json", "float8", "\"mem1.GiB\": [80]"), SweepFormat.CSV).columns())
        .contains("fp8_recipe");
  }

  @Test
  void anOutputOfAnEarlierCalculonIsKeptAndTheLineNamesANewOutput() throws Exception {
    Path spec = spec("s.json", "float16", "\"mem1.GiB\": [80, 120]");
    Sweep s = SweepTest.sweep(spec, SweepFormat.CSV);
    // the output as the calculon before template keys became columns wrote it: the 44 execution
    // columns, no gradient_datatype, with its spec record (the same SPEC's fingerprint), one point
    List<String> old = new ArrayList<>(s.columns());
    old.remove("gradient_datatype");
    List<String> row = new ArrayList<>();
    for (String c : old) {
      row.add(switch (c) {
        case "point" -> "0";
        case "model" -> "megatron-126M";
        case "system" -> "H100_80g";
        case "mem1.GiB" -> "80";
        case "rank" -> "1";
        case "status" -> "ok";
        default -> "";
      });
    }
    String text = String.join(",", old) + "\n" + String.join(",", row) + "\n";
    Path out = dir.resolve("study.csv");
    Files.writeString(out, text);
    String record = MAPPER.createObjectNode().put("fingerprint", s.spec().fingerprint()).put("format", "CSV")
        .set("spec", MAPPER.readTree(s.spec().text())).toString() + "\n";
    Files.writeString(SweepOutput.specFile(out), record);
    // a file of that name exists already: the line names the next free one, and that one as taken
    Files.writeString(dir.resolve("study-2.csv"), "mine\n");

    CliRun.Run r = CliRun.run("sweep", spec.toString(), out.toString(), "--quiet");
    assertThat(r.status()).isEqualTo(2);
    Path fresh = dir.resolve("study-3.csv");
    assertThat(r.err()).endsWith("calculon sweep: " + out + ": written by an earlier calculon: its records lack "
        + "gradient_datatype, which this sweep writes; it is kept as it is and not resumed; run calculon sweep "
        + spec + " " + fresh + " to compute the SPEC's 2 points into a new output (" + dir.resolve("study-2.csv")
        + " is taken: not a run of this SPEC to resume)\n");
    assertThat(r.err().lines().filter(l -> !l.contains("note:"))).hasSize(1);
    assertThat(Files.readString(out)).isEqualTo(text);
    assertThat(Files.readString(SweepOutput.specFile(out))).isEqualTo(record);
    assertThat(Files.readString(dir.resolve("study-2.csv"))).isEqualTo("mine\n");

    // doing what it says runs the sweep, and the old file is still as it was
    CliRun.Run again = CliRun.run("sweep", spec.toString(), fresh.toString(), "--quiet");
    assertThat(again.status()).as(again.err()).isZero();
    assertThat(Files.readAllLines(fresh).get(0)).isEqualTo(String.join(",", s.columns()));
    assertThat(Files.readAllLines(fresh)).hasSize(1 + 2);
    assertThat(Files.readString(out)).isEqualTo(text);
  }
}
