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
 * A complete search moves the partial result an interrupted search to the same output left beside
 * it to a numbered backup name (it would be taken for the result, and it is kept, since the
 * interrupted search may have had other inputs), and only that: the file must carry the mark an
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

  /** The line a search prints when it keeps the earlier {@code file} as its backup number {@code n}. */
  private static String keptEarlier(String command, Path file, int n) {
    return "calculon " + command + ": kept the earlier " + file + " as " + file + ".~" + n + "~\n";
  }

  /** The line of a stale partial file moved to its backup number 1. */
  private static String movedAside(String command, Path partial, Path target) {
    return "calculon " + command + ": moved " + partial + " to " + partial + ".~1~: an interrupted earlier search's partial result, "
        + "stale now that " + target + " is complete\n";
  }

  @Test
  void aCompleteSearchMovesTheMarkedPartialOfItsOutputToABackupName() throws Exception {
    Path out = dir.resolve("best.json");
    Path partial = interruptedLeft(dir.resolve("best.partial.json"), out);
    Run r = search("loe", out.toString());
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo(movedAside("llm-optimal-execution", partial, out));
    assertThat(partial).doesNotExist();
    assertThat(Files.readString(dir.resolve("best.partial.json.~1~"))).isEqualTo(PARTIAL_TEXT);
    assertThat(out).exists();
    // no partial file the next time: only the earlier result kept
    Run again = search("loe", out.toString());
    assertThat(again.err()).isEqualTo(keptEarlier("llm-optimal-execution", out, 1));
  }

  @Test
  void anythingElseUnderThePartialNameIsKeptAndSaid() throws Exception {
    Path out = dir.resolve("best.json");
    Path partial = dir.resolve("best.partial.json");
    String kept = "calculon llm-optimal-execution: kept " + partial + ": not marked as an interrupted search's unchanged partial result of "
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
    assertThat(search("loe", out.toString()).err()).isEqualTo(keptEarlier("llm-optimal-execution", out, 1) + kept);
    assertThat(Files.readString(partial)).isEqualTo(PARTIAL_TEXT + "\n");
    // marked as the partial result of another output
    interruptedLeft(partial, dir.resolve("other.json"));
    assertThat(search("loe", out.toString()).err()).isEqualTo(keptEarlier("llm-optimal-execution", out, 2) + kept);
    assertThat(partial).exists();
  }

  @Test
  void csvRowsPerLayerFilesAndReportsToo() throws Exception {
    // lae: the rows
    Path rows = dir.resolve("rows.csv");
    Path rowsPartial = interruptedLeft(dir.resolve("rows.partial.csv"), rows);
    Run r = search("lae", rows.toString());
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo(movedAside("llm-all-executions", rowsPartial, rows));
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
    assertThat(l.err()).isEqualTo(movedAside("llm-optimal-execution", bestPartial, best) + movedAside("llm-optimal-execution", layersPartial, layers)
        + movedAside("llm-optimal-execution", reportPartial, report));
    for (Path p : new Path[] {bestPartial, layersPartial, reportPartial}) {
      assertThat(p).doesNotExist();
      assertThat(Files.readString(Path.of(p + ".~1~"))).isEqualTo(PARTIAL_TEXT);
    }
    assertThat(best).exists();
    assertThat(layers).exists();
    assertThat(report).exists();
  }
}
