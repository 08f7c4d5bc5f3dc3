package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A complete search removes the partial result an interrupted search to the same output left
 * beside it (it would be taken for the result), and only that: the file must carry the mark an
 * interrupted search gives it ({@link PartialResults#mark}, as {@code SearchInterruptTest} checks
 * on a real interrupted search) and be unchanged since. A user's file under that name, a marked
 * file edited since or marked for another output is kept, and the search says which.
 */
class StalePartialResultTest {
  private static final String MODEL = "models/megatron-126M.json";
  private static final String SYSTEM = "systems/H100_SXM_80g_dense.json";
  private static final String PARTIAL_TEXT = "{\n  \"0\": {\n    \"execution\": {},\n    \"stats\": {}\n  }\n}";

  @TempDir
  Path dir;

  @BeforeEach
  void userAttributesWork() throws Exception {
    Path probe = dir.resolve("probe.json");
    Files.writeString(probe, "{}");
    PartialResults.mark(probe, dir.resolve("x.json"));
    Assumptions.assumeTrue(PartialResults.isOursUnchanged(probe, dir.resolve("x.json")),
        "this file system keeps no user attributes: partial files cannot be marked here");
    Files.delete(probe);
  }

  private Run search(String command, String out, String... more) {
    String[] head = {command, MODEL, "1", "8", "bfloat16", SYSTEM, out, "--quiet"};
    String[] args = java.util.Arrays.copyOf(head, head.length + more.length);
    System.arraycopy(more, 0, args, head.length, more.length);
    return CliRun.run(args);
  }

  /** A file as an interrupted search leaves it: written, then marked for {@code target}. */
  private static Path interruptedLeft(Path partial, Path target) throws Exception {
    Files.writeString(partial, PARTIAL_TEXT);
    PartialResults.mark(partial, target);
    return partial;
  }

  @Test
  void aCompleteSearchRemovesTheMarkedPartialOfItsOutput() throws Exception {
    Path out = dir.resolve("best.json");
    Path partial = interruptedLeft(dir.resolve("best.partial.json"), out);
    Run r = search("loe", out.toString());
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo("Removed " + partial + ": an interrupted earlier search's partial result, "
        + "stale now that " + out + " is complete\n");
    assertThat(partial).doesNotExist();
    assertThat(out).exists();
    // nothing there the next time: nothing said
    Run again = search("loe", out.toString());
    assertThat(again.err()).isEmpty();
  }

  @Test
  void anythingElseUnderThePartialNameIsKeptAndSaid() throws Exception {
    Path out = dir.resolve("best.json");
    Path partial = dir.resolve("best.partial.json");
    String kept = "Kept " + partial + ": not marked as an interrupted search's unchanged partial result of "
        + out + " (the complete result is " + out + ")\n";
    // a user's file (or a result the user asked to be written under that name): no mark
    Files.writeString(partial, PARTIAL_TEXT);
    Run r = search("loe", out.toString());
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo(kept);
    assertThat(Files.readString(partial)).isEqualTo(PARTIAL_TEXT);
    // marked, then edited: no longer what the interrupted search wrote
    interruptedLeft(partial, out);
    Files.writeString(partial, "\n", StandardOpenOption.APPEND);
    assertThat(search("loe", out.toString()).err()).isEqualTo(kept);
    assertThat(Files.readString(partial)).isEqualTo(PARTIAL_TEXT + "\n");
    // marked as the partial result of another output
    interruptedLeft(partial, dir.resolve("other.json"));
    assertThat(search("loe", out.toString()).err()).isEqualTo(kept);
    assertThat(partial).exists();
  }

  @Test
  void csvRowsPerLayerFilesAndReportsToo() throws Exception {
    // lae: the rows
    Path rows = dir.resolve("rows.csv");
    Path rowsPartial = interruptedLeft(dir.resolve("rows.partial.csv"), rows);
    Run r = search("lae", rows.toString());
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo("Removed " + rowsPartial + ": an interrupted earlier search's partial result, "
        + "stale now that " + rows + " is complete\n");
    // loe to CSV with -l: the partial CSV and its per-layer file (the sidecar of the partial name)
    Path best = dir.resolve("best.csv");
    Path layers = dir.resolve("best.layers.json");
    Path bestPartial = interruptedLeft(dir.resolve("best.partial.csv"), best);
    Path layersPartial = interruptedLeft(dir.resolve("best.partial.layers.json"), layers);
    // the report of an interrupted search
    Path report = dir.resolve("run.html");
    Path reportPartial = interruptedLeft(dir.resolve("run.partial.html"), report);
    Run l = search("loe", best.toString(), "-l", "--report", report.toString());
    assertThat(l.status()).as(l.err()).isZero();
    assertThat(l.err()).isEqualTo(
        "Removed " + bestPartial + ": an interrupted earlier search's partial result, stale now that " + best + " is complete\n"
            + "Removed " + layersPartial + ": an interrupted earlier search's partial result, stale now that " + layers
            + " is complete\n"
            + "Removed " + reportPartial + ": an interrupted earlier search's partial result, stale now that " + report
            + " is complete\n");
    assertThat(bestPartial).doesNotExist();
    assertThat(layersPartial).doesNotExist();
    assertThat(reportPartial).doesNotExist();
    assertThat(best).exists();
    assertThat(layers).exists();
    assertThat(report).exists();
  }
}
