package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A search with {@code -l} writes {@code r.csv} and {@code r.layers.json}; a later search without
 * {@code -l} into {@code r.csv} used to leave that layers file beside the new CSV, where convert
 * (CSV -> JSON) read it as the new results' per-layer stats whenever the row counts agreed (the
 * layers file names no executions). The search now moves it to its next backup name and says so,
 * and the new CSV converts without layers.
 */
class SearchStaleLayersTest {
  private static final String[] SEARCH = {"llm-optimal-execution", "models/megatron-22B.json", "8", "64", "float16",
      "systems/a100_80g.json"};

  @TempDir Path dir;

  private Run search(Path out, String... options) {
    String[] a = new String[SEARCH.length + 1 + options.length];
    System.arraycopy(SEARCH, 0, a, 0, SEARCH.length);
    a[SEARCH.length] = out.toString();
    System.arraycopy(options, 0, a, SEARCH.length + 1, options.length);
    Run r = CliRun.run(a);
    assertThat(r.status()).as(r.err()).isZero();
    return r;
  }

  @Test
  void aSearchWithoutLayersMovesAnEarlierLayersFileAside() throws Exception {
    Path csv = dir.resolve("r.csv");
    Path side = dir.resolve("r.layers.json");
    search(csv, "-t", "2", "-l", "-m", "--no-offload", "--quiet");
    assertThat(side).exists();
    byte[] layers = Files.readAllBytes(side);

    Run plain = search(csv, "-t", "2", "-m", "--no-offload", "--quiet");
    Path kept = dir.resolve("r.layers.json.~1~");
    assertThat(plain.err()).contains("kept the earlier " + csv + " as " + dir.resolve("r.csv.~1~"),
        "moved " + side + " to " + kept + ": the results written to " + csv
            + " have no per-layer stats (-l), and that file beside it would be read as theirs");
    assertThat(side).doesNotExist();
    assertThat(Files.readAllBytes(kept)).isEqualTo(layers);

    // the new CSV converts without layers; the kept pair (.~1~ each) still reads with its own
    Path json = dir.resolve("plain.json");
    Run c = CliRun.run("convert", csv.toString(), json.toString());
    assertThat(c.status()).as(c.err()).isZero();
    assertThat(c.err()).isEmpty();
    assertThat(Files.readString(json)).doesNotContain("\"layers\"");
    Path back = dir.resolve("back.json");
    Run b = CliRun.run("convert", dir.resolve("r.csv.~1~").toString(), back.toString());
    assertThat(b.err()).contains(kept.toString());
    assertThat(Files.readString(back)).contains("\"layers\"");

    // a search without -l where no layers file lies says nothing about one
    Path other = dir.resolve("o.csv");
    assertThat(search(other, "-t", "2", "-m", "--no-offload", "--quiet").err()).doesNotContain("moved");
  }
}
