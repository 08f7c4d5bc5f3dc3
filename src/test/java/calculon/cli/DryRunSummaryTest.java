package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code -d} says what a dry run is: the counts, the search's time (and lae's output size)
 * measured on a sample, what a search would evaluate and write, no good/bad counts and no
 * calculation rate (the counts evaluate nothing; a rate would time the counting). Its counts are
 * those of the real search of the same space, and a sample that covers the whole space estimates
 * exactly the file the search writes.
 */
class DryRunSummaryTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "models/megatron-126M.json";

  @TempDir
  Path dir;

  @Test
  void allExecutionsDryRunSaysWhatItWouldWrite() throws Exception {
    // megatron-126M on 2 GPUs, batch 4, an A100 without host memory, Calculon's space: small, and
    // one network tier, so every execution is tier-valid
    ObjectNode j = (ObjectNode) MAPPER.readTree(Path.of("systems/a100_80g.json").toFile());
    ((ObjectNode) j.get("mem2")).put("GiB", 0);
    Path sys = dir.resolve("a100.json");
    MAPPER.writeValue(sys.toFile(), j);
    Path out = dir.resolve("all.csv");
    String[] space = {"lae", MODEL, "2", "4", "float16", sys.toString(), out.toString(), "--model-version", "calculon-moe"};
    Run real = CliRun.run(concat(space, "--quiet"));
    assertThat(real.status()).as(real.err()).isZero();
    long total = count(real.out(), "Total executions: (\\d+)");
    long rows = count(real.out(), "Output: .* \\((\\d+) rows\\)");
    assertThat(rows).isPositive().isLessThanOrEqualTo(total);
    long fileBytes = Files.size(out);
    Files.delete(out);
    Run dry;
    long measure = SearchCommandBase.dryRunMeasureNanos;
    try {
      // a budget the whole (small) space fits in: the sample is the search, its rows are exact
      SearchCommandBase.dryRunMeasureNanos = 120_000_000_000L;
      dry = CliRun.run(concat(space, "-d"));
    } finally {
      SearchCommandBase.dryRunMeasureNanos = measure;
    }
    assertThat(dry.status()).as(dry.err()).isZero();
    String[] lines = dry.out().split("\n(?! )");
    assertThat(lines).hasSize(6);
    assertThat(lines[0] + "\n" + lines[1] + "\n" + lines[2]).isEqualTo("Total executions: " + total + "\n"
        + "Reference-equivalent executions: " + count(real.out(), "Reference-equivalent executions: (\\d+)") + "\n"
        + "Tier-valid executions: " + total);
    // the time: measured, so only its form is asserted
    assertThat(lines[3].replace("\n  ", " ")).matches("Estimated search time: about [0-9.]+ (s|minutes) with \\d+ threads? "
        + "\\(measured: the search itself, all \\d+ partitions, \\d+ model calls, their rows formatted, in [0-9.]+ s\\)");
    // the size: the sample was every partition, so the estimate is the file the search wrote
    long header = calculon.search.output.CsvRows.headerBytes(false).length;
    assertThat(lines[4].replace("\n  ", " ")).matches("Estimated output: about [0-9.]+ kB \\(" + fileBytes
        + " bytes\\) of CSV in " + rows + " rows \\(measured: the sampled partitions' " + rows + " rows took "
        + (fileBytes - header) + " bytes, plus the " + header + "-byte header\\)");
    assertThat(lines[5]).isEqualTo("Dry run (-d): nothing written; a search would evaluate up to these " + total
        + " executions, every one tier-valid, and write each good one as a row of " + out);
    assertThat(out).doesNotExist();
  }

  /**
   * -d keeps the reference's names (-d, --debug) and its help says what it does; it once read "Count
   * the executions, run none, write nothing", and lae's merged-duplicates line pointed at
   * "equivalent" lists in JSON results that a CSV does not have.
   */
  @Test
  void dryRunHelpAndTheMergedLineSayWhatTheCommandDoes() {
    CommandLine.Model.OptionSpec d = Main.commandLine(new Main()).getSubcommands().get("lae")
        .getCommandSpec().findOption("-d");
    assertThat(d.names()).containsExactly("-d", "--debug");
    assertThat(d.description()).containsExactly(SearchCommandBase.DEBUG_HELP);
    assertThat(SearchCommandBase.DEBUG_HELP).contains("writes no file", "estimated from a few seconds at most of timed sample "
        + "evaluations").doesNotContain("evaluates no execution");
    String[] space = {MODEL, "8", "16", "bfloat16", "systems/H100_SXM_80g_dense.json"};
    Run lae = CliRun.run(concat(concat(new String[] {"lae"}, space), dir.resolve("all.csv").toString(), "-d"));
    assertThat(lae.out()).contains("\nMerged no-op duplicates: 26880 (not in the counts above: the TP comm type has no\n"
        + "  effect at TP 1; no CSV rows of their own: each is the same run as the\n  execution kept)\n");
    Run loe = CliRun.run(concat(concat(new String[] {"loe"}, space), dir.resolve("best.json").toString(), "-d"));
    assertThat(loe.out()).contains("\nMerged no-op duplicates: 26880 (not in the counts above: the TP comm type has no\n"
        + "  effect at TP 1; listed as \"equivalent\" in JSON results)\n");
    // a best-N search's -d estimates the time only
    assertThat(loe.out()).contains("\nEstimated search time: about ").doesNotContain("Estimated output");
    // every line of the summary fits an 80-column terminal but the dry-run line (the counts' own)
    for (String line : loe.out().split("\n")) {
      if (!line.startsWith("Dry run")) {
        assertThat(line.length()).as(line).isLessThanOrEqualTo(SearchCommandBase.SUMMARY_WIDTH_COLUMNS);
      }
    }
  }

  private static String[] concat(String[] a, String... b) {
    String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  private static long count(String text, String regex) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as("%s in %s", regex, text).isTrue();
    return Long.parseLong(m.group(1));
  }

  @Test
  void optimalExecutionDryRunSaysWhatItWouldWrite() {
    Path out = dir.resolve("best.json");
    Run dry = CliRun.run("loe", MODEL, "8", "16", "bfloat16", "systems/H100_SXM_80g_dense.json", out.toString(),
        "-d", "-t", "3", "--context-par", "1", "--zero-stages", "1");
    assertThat(dry.status()).as(dry.err()).isZero();
    assertThat(dry.out()).doesNotContain("Calculation rate", "Good executions", "Bad executions")
        .endsWith(" executions, every one tier-valid, and write the best 3 to " + out + "\n");
    Run m = CliRun.run("loe", MODEL, "8", "16", "bfloat16", "systems/H100_SXM_80g_dense.json", out.toString(),
        "-d", "-m", "--context-par", "1", "--zero-stages", "1");
    assertThat(m.out()).containsPattern("a search would count at least these \\d+ executions, at least these \\d+ of "
            + "them tier-valid, the ones it evaluates \\(with -m")
        .endsWith("(with -m the counts stop each microbatch loop after its first size: nothing is good when "
            + "nothing is evaluated; a search goes on to the next size after a good one) and write the best one to "
            + out + "\n");
  }

  /**
   * The counts say what they count: on 2 GPUs every split has one group of 2 (TP, PP or DP) and the
   * others of 1, which use no tier; the group goes on tier 0 or tier 1, and a tier 0 of size 1
   * cannot hold it ("Network tier0 isn't big enough"), so exactly half of the total is tier-valid,
   * the other half network tier too small, which the search counts bad without a model call. The
   * -d total is the search's own.
   */
  @Test
  void tierInvalidExecutionsAreNamedWithTheirRule() throws Exception {
    ObjectNode j = (ObjectNode) MAPPER.readTree(Path.of("systems/a100_80g.json").toFile());
    ((ObjectNode) j.get("mem2")).put("GiB", 0);
    ((ObjectNode) j.get("networks").get(0)).put("size", 1).put("must_be_filled", false);
    Path sys = dir.resolve("tier0-of-1.json");
    MAPPER.writeValue(sys.toFile(), j);
    Path out = dir.resolve("all.csv");
    String[] space = {"lae", MODEL, "2", "4", "float16", sys.toString(), out.toString(), "--model-version", "calculon-moe"};
    Run real = CliRun.run(concat(space, "--quiet"));
    assertThat(real.status()).as(real.err()).isZero();
    long total = count(real.out(), "Total executions: (\\d+)");
    long bad = count(real.out(), "Bad executions: (\\d+)");
    assertThat(total % 2).isZero();
    assertThat(bad).isGreaterThanOrEqualTo(total / 2);
    Run dry = CliRun.run(concat(space, "-d"));
    assertThat(dry.status()).as(dry.err()).isZero();
    String joined = dry.out().replace("\n  ", " ");
    assertThat(joined).startsWith("Total executions: " + total + "\n")
        .contains("\nTier-valid executions: " + total / 2 + " (the other " + total / 2 + " of the " + total
            + " break a network-tier rule: " + total / 2 + " network tier too small for the groups placed on it; a "
            + "search counts them bad without running the model)\n")
        .endsWith("\nDry run (-d): nothing written; a search would count these " + total + " executions, evaluate up "
            + "to the " + total / 2 + " tier-valid ones and write each good one as a row of " + out + "\n")
        .doesNotContain("--no-offload");
    // a tier 0 of 3 that must be filled holds no group of 2 either: 3 is not a multiple of 2
    ((ObjectNode) j.get("networks").get(0)).put("size", 3).put("must_be_filled", true);
    MAPPER.writeValue(sys.toFile(), j);
    Run fill = CliRun.run(concat(space, "-d"));
    assertThat(fill.out().replace("\n  ", " ")).contains("\nTier-valid executions: " + total / 2 + " (the other "
        + total / 2 + " of the " + total + " break a network-tier rule: " + total / 2
        + " network tier not filled (must_be_filled); a search");
  }

  /**
   * --no-offload's -d says what it leaves out, counted as -d counts without the option: an A100
   * with host memory tries weight, activation and optimizer offload each on and off (8 ways, 4
   * under full recompute, where activation offload is not tried), so the space without the option
   * is 4 to 8 times as large.
   */
  @Test
  void noOffloadDryRunSaysWhatItLeavesOut() {
    String[] space = {"loe", MODEL, "2", "4", "float16", "systems/a100_80g.json", dir.resolve("best.json").toString(), "-d"};
    Run all = CliRun.run(space);
    Run no = CliRun.run(concat(space, "--no-offload"));
    assertThat(no.status()).as(no.err()).isZero();
    long totalAll = count(all.out(), "Total executions: (\\d+)");
    long validAll = count(all.out(), "Tier-valid executions: (\\d+)");
    long totalNo = count(no.out(), "Total executions: (\\d+)");
    assertThat(totalAll).isGreaterThan(4 * totalNo).isLessThan(8 * totalNo);
    assertThat(no.out().replace("\n  ", " ")).contains("\nLeft out by --no-offload: " + (totalAll - totalNo)
        + " executions with weight, activation or optimizer offload on (without the option: " + totalAll
        + " executions, " + validAll + " tier-valid)\n");
    assertThat(all.out()).doesNotContain("--no-offload");
  }
}
