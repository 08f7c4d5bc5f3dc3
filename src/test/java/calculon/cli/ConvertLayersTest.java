package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A search run with {@code -l} writes its per-layer stats into each JSON entry's stats, or beside
 * a CSV as {@code NAME.layers.json[.gz]}. convert read a CSV without that file (its JSON had no
 * layers) and wrote a CSV without it (layers dropped with a stderr note). Now CSV -> JSON reads
 * the file when it matches the CSV's rows, JSON -> CSV writes it, so both round trips give the
 * search's own files back byte for byte, and a numbered backup {@code NAME.csv.~N~} is read with
 * {@code NAME.layers.json.~N~}, the number the search kept it under.
 */
class ConvertLayersTest {
  /**
   * A search whose three best executions (TP 2) have no merged no-op duplicates, so its JSON has no
   * "equivalent" lists, which no CSV holds; about a second.
   */
  private static final String[] SEARCH = {"llm-optimal-execution", "models/megatron-22B.json", "8", "64", "float16",
      "systems/a100_80g.json"};
  private static final String[] OPTIONS = {"-t", "3", "-l", "-m", "--no-offload", "--quiet"};

  private static final ObjectMapper MAPPER = new ObjectMapper();

  @TempDir Path dir;

  private Run search(Path out, String... options) {
    List<String> a = new ArrayList<>(List.of(SEARCH));
    a.add(out.toString());
    a.addAll(List.of(options));
    Run r = CliRun.run(a.toArray(String[]::new));
    assertThat(r.status()).as(r.err()).isZero();
    return r;
  }

  private static Run convert(Path in, Path out) {
    return CliRun.run("convert", in.toString(), out.toString());
  }

  /** A file's bytes, gunzipped when its name (before a backup number) ends .gz. */
  private static byte[] content(Path p) throws IOException {
    if (!calculon.util.Backups.unnumbered(p.getFileName().toString()).endsWith(".gz")) {
      return Files.readAllBytes(p);
    }
    try (InputStream in = new GZIPInputStream(Files.newInputStream(p))) {
      return in.readAllBytes();
    }
  }

  @Test
  void csvWithItsLayersFileConvertsToTheSearchsJsonAndBack() throws Exception {
    Path json = dir.resolve("s.json");
    search(json, OPTIONS);
    // the search's JSON writer is deterministic: a second run writes the same bytes
    Path again = dir.resolve("again.json");
    search(again, OPTIONS);
    assertThat(Files.readAllBytes(again)).isEqualTo(Files.readAllBytes(json));
    Path csv = dir.resolve("s.csv");
    Run written = search(csv, OPTIONS);
    Path side = dir.resolve("s.layers.json");
    assertThat(written.out()).contains("Output: " + side);
    JsonNode doc = MAPPER.readTree(json.toFile());
    assertThat(doc.size()).isEqualTo(3);
    assertThat(doc.get("0").has("equivalent")).isFalse();
    assertThat(doc.get("0").get("stats").get("layers").size()).isGreaterThan(1);

    // CSV + layers file -> JSON: the search's JSON, byte for byte, layers included
    Path back = dir.resolve("back.json");
    Run r = convert(csv, back);
    assertThat(r).isEqualTo(new Run(0, "Converted: " + back + " (search results, 3 executions; CSV -> JSON, from "
        + csv + ")\n", "calculon convert: read the per-layer stats of 3 executions from " + side + " (beside " + csv
        + ")\n"));
    assertThat(Files.readAllBytes(back)).isEqualTo(Files.readAllBytes(json));

    // JSON -> CSV: the search's CSV and its layers file, byte for byte (LF line ends, as the search's)
    Path csv2 = dir.resolve("c.csv");
    Path side2 = dir.resolve("c.layers.json");
    assertThat(convert(json, csv2)).isEqualTo(new Run(0, "Converted: " + csv2 + " (search results, 3 executions; "
        + "JSON -> CSV, from " + json + ")\nConverted: " + side2 + " (per-layer stats of 3 executions, beside " + csv2
        + ")\n", ""));
    assertThat(Files.readAllBytes(csv2)).isEqualTo(Files.readAllBytes(csv));
    assertThat(Files.readAllBytes(side2)).isEqualTo(Files.readAllBytes(side));

    // the gzipped forms: the search's .csv.gz with .layers.json.gz, both ways
    Path gz = dir.resolve("z.csv.gz");
    search(gz, OPTIONS);
    Path gzSide = dir.resolve("z.layers.json.gz");
    assertThat(gzSide).exists();
    Path fromGz = dir.resolve("fromgz.json");
    assertThat(convert(gz, fromGz).err()).isEqualTo("calculon convert: read the per-layer stats of 3 executions from "
        + gzSide + " (beside " + gz + ")\n");
    assertThat(Files.readAllBytes(fromGz)).isEqualTo(Files.readAllBytes(json));
    Path toGz = dir.resolve("y.csv.gz");
    assertThat(convert(json, toGz).status()).isZero();
    assertThat(content(toGz)).isEqualTo(content(gz));
    assertThat(content(dir.resolve("y.layers.json.gz"))).isEqualTo(content(gzSide));
    // CSV -> CSV carries the layers along
    Path plain = dir.resolve("p.csv");
    assertThat(convert(gz, plain).status()).isZero();
    assertThat(Files.readAllBytes(dir.resolve("p.layers.json"))).isEqualTo(Files.readAllBytes(side));
  }

  /**
   * A search's JSON entry lists the executions merged into it as no-op duplicates ("equivalent");
   * a CSV has no cell for them, so CSV -> JSON gives everything else: the layers too.
   */
  @Test
  void equivalentListsAreAllACsvRoundTripLoses() throws Exception {
    Path json = dir.resolve("e.json");
    Run r = CliRun.run("llm-optimal-execution", "models/megatron-126M.json", "8", "16", "float16",
        "systems/a100_80g.json", json.toString(), "-t", "2", "-l", "-m", "--no-offload", "--quiet");
    assertThat(r.status()).as(r.err()).isZero();
    ObjectNode doc = (ObjectNode) MAPPER.readTree(json.toFile());
    assertThat(doc.get("0").has("equivalent")).isTrue();
    Path csv = dir.resolve("e.csv");
    assertThat(convert(json, csv).status()).isZero();
    Path back = dir.resolve("back.json");
    assertThat(convert(csv, back).status()).isZero();
    doc.forEach(entry -> ((ObjectNode) entry).remove("equivalent"));
    assertThat(MAPPER.readTree(back.toFile())).isEqualTo(doc);
    assertThat(doc.get("1").get("stats").has("layers")).isTrue();
  }

  /**
   * A layers file whose keys are not the CSV's row indices (another search's, or an older file
   * left beside a CSV rewritten since) is refused in one line naming both files; nothing is written.
   */
  @Test
  void aLayersFileThatDoesNotMatchTheRowsIsOneLineError() throws Exception {
    Path csv = dir.resolve("s.csv");
    search(csv, OPTIONS);
    Path side = dir.resolve("s.layers.json");
    ObjectNode layers = (ObjectNode) MAPPER.readTree(side.toFile());
    Path out = dir.resolve("out.json");

    layers.remove("2");
    MAPPER.writeValue(side.toFile(), layers);
    String tail = ": it is not " + csv + "'s (per-layer stats of other results, or a file changed by hand); "
        + "move it away to convert without them\n";
    assertThat(convert(csv, out)).isEqualTo(new Run(2, "", "calculon convert: " + side
        + ": holds the per-layer stats of 2 executions, " + csv + " has 3 rows" + tail));

    // three rows, out of order
    JsonNode one = layers.remove("1");
    layers.set("2", one);
    layers.set("1", one);
    MAPPER.writeValue(side.toFile(), layers);
    assertThat(convert(csv, out)).isEqualTo(new Run(2, "", "calculon convert: " + side
        + ": 2: is not row 1 of " + csv + " (the keys are the rows' indices, \"0\" to \"2\", in order)" + tail));

    Files.writeString(side, "{\"0\": [], \"1\": 7, \"2\": null}");
    assertThat(convert(csv, out)).isEqualTo(new Run(2, "", "calculon convert: " + side
        + ": 1: must be a list of layers (objects with a \"name\"), or null" + tail));
    assertThat(out).doesNotExist();

    // OUTPUT may not be the layers file convert reads
    Run clash = convert(csv, side);
    assertThat(clash.status()).isEqualTo(Main.EXIT_CONFIG_ERROR);
    assertThat(clash.err()).isEqualTo("calculon convert: the converted output " + side
        + " is the per-layer stats file of the CSV given as INPUT; give another output name\n");
  }

  /**
   * A search with -l that replaces NAME.csv and NAME.layers.json keeps each under its next number;
   * a backup NAME.csv.~N~ is read with NAME.layers.json.~N~, and stderr names it (or says that
   * there is none). convert's own CSV output keeps the pair's numbers together: an earlier pair is
   * kept as .~N~ each, and results without layers move an earlier layers file to its backup name.
   */
  @Test
  void aBackupIsReadWithTheLayersFileOfItsNumber() throws Exception {
    Path two = dir.resolve("two.json");
    search(two, "-t", "2", "-l", "-m", "--no-offload", "--quiet");
    Path three = dir.resolve("three.json");
    search(three, OPTIONS);
    Path csv = dir.resolve("r.csv");
    search(csv, "-t", "2", "-l", "-m", "--no-offload", "--quiet");
    Run second = search(csv, OPTIONS);
    Path csv1 = dir.resolve("r.csv.~1~");
    Path side1 = dir.resolve("r.layers.json.~1~");
    assertThat(second.err()).contains("kept the earlier " + csv + " as " + csv1,
        "kept the earlier " + dir.resolve("r.layers.json") + " as " + side1);

    Path back = dir.resolve("back.json");
    Run r = convert(csv1, back);
    assertThat(r.err()).isEqualTo("calculon convert: read the per-layer stats of 2 executions from " + side1
        + " (beside " + csv1 + ")\n");
    assertThat(Files.readAllBytes(back)).isEqualTo(Files.readAllBytes(two));

    // without its layers file: said, and converted without layers
    Path moved = dir.resolve("elsewhere.json");
    Files.move(side1, moved);
    Path bare = dir.resolve("bare.json");
    assertThat(convert(csv1, bare).err()).isEqualTo("calculon convert: no per-layer stats beside the backup " + csv1
        + " (looked for " + side1 + ", the per-layer file a search with -l kept with it): " + bare + " has none\n");
    assertThat(Files.readString(bare)).doesNotContain("\"layers\"");
    Files.move(moved, side1);

    // convert to r.csv again: the earlier pair is kept as .~2~ each, and r.csv.~2~ reads with its own
    Run again = convert(two, csv);
    Path csv2 = dir.resolve("r.csv.~2~");
    Path side2 = dir.resolve("r.layers.json.~2~");
    assertThat(again.err()).isEqualTo("calculon convert: kept the earlier " + csv + " as " + csv2 + "\n"
        + "calculon convert: kept the earlier " + dir.resolve("r.layers.json") + " as " + side2 + "\n");
    Path back2 = dir.resolve("back2.json");
    assertThat(convert(csv2, back2).err()).contains(side2.toString());
    assertThat(Files.readAllBytes(back2)).isEqualTo(Files.readAllBytes(three));

    // results without layers to r.csv: the layers file beside it is moved to its backup name, so
    // that it is not read as these results'
    Path noLayers = dir.resolve("nolayers.json");
    search(noLayers, "-t", "2", "-m", "--no-offload", "--quiet");
    Path side3 = dir.resolve("r.layers.json.~3~");
    assertThat(convert(noLayers, csv).err()).isEqualTo("calculon convert: kept the earlier " + csv + " as "
        + dir.resolve("r.csv.~3~") + "\ncalculon convert: moved " + dir.resolve("r.layers.json") + " to " + side3
        + ": the results written to " + csv + " have no per-layer stats, and that file beside it would be read "
        + "as theirs\n");
    assertThat(dir.resolve("r.layers.json")).doesNotExist();
    Path plain = dir.resolve("plain.json");
    assertThat(convert(csv, plain)).isEqualTo(new Run(0, "Converted: " + plain + " (search results, 2 executions; "
        + "CSV -> JSON, from " + csv + ")\n", ""));
    assertThat(Files.readAllBytes(plain)).isEqualTo(Files.readAllBytes(noLayers));
    // and the pair kept as .~3~ still reads as the results with layers it was
    Path back3 = dir.resolve("back3.json");
    assertThat(convert(dir.resolve("r.csv.~3~"), back3).err()).contains(side3.toString());
    assertThat(Files.readAllBytes(back3)).isEqualTo(Files.readAllBytes(two));
  }
}
