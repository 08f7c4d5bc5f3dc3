package calculon.search;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun;
import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Datatype;
import calculon.config.Recompute;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --no-offload}: the dense space tries weight_offload, activations_offload and
 * optimizer_offload each on and off where the system has a mem2, so the flag divides each
 * partition's executions by 2 x 2 x 2 = 8, or by 2 x 2 = 4 under full recompute (activation
 * offload is not tried there); no result it finds offloads anything.
 */
class NoOffloadSearchTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "models/megatron-126M.json";
  private static final String SYSTEM = "systems/H100_SXM_80g_dense.json";  // mem2: 1 TiB of host memory

  @TempDir
  Path dir;

  @Test
  void theOffloadAxisIsAFactorOf8Or4PerPartition() throws Exception {
    Application app = ApplicationReader.read(Path.of(MODEL));
    SystemSpec sys = SystemReader.read(Path.of(SYSTEM));
    assertThat(sys.mem2().gib()).isPositive();
    SearchOptions with = SearchOptions.defaults(SearchKind.DENSE, 8, 16, Datatype.BFLOAT16, 1);
    SearchSpace on = new SearchSpace(app, sys, with);
    SearchSpace off = new SearchSpace(app, sys, with.withOffload(false));
    assertThat(off.partitions()).hasSameSizeAs(on.partitions());
    long expected = 0;
    boolean sawFull = false;
    boolean sawOther = false;
    for (int i = 0; i < on.partitions().size(); i++) {
      Partition p = on.partitions().get(i);
      long n = off.plan(off.partitions().get(i)).size();
      boolean full = p.recompute() == Recompute.FULL;
      sawFull |= full && n > 0;
      sawOther |= !full && n > 0;
      long factor = full ? 4 : 8;
      assertThat(on.plan(p).size()).as("partition %s", p).isEqualTo(factor * n);
      expected += factor * n;
    }
    assertThat(sawFull).isTrue();
    assertThat(sawOther).isTrue();
    assertThat(on.size()).isEqualTo(expected);
    assertThat(on.count().total).isEqualTo(on.size());
    assertThat(off.count().total).isEqualTo(off.size()).isLessThan(on.size() / 4);
    // without a tier-2 memory the flags are never tried, as in the reference: the flag changes nothing
    com.fasterxml.jackson.databind.node.ObjectNode j = (com.fasterxml.jackson.databind.node.ObjectNode)
        MAPPER.readTree(Path.of(SYSTEM).toFile());
    ((com.fasterxml.jackson.databind.node.ObjectNode) j.get("mem2")).put("GiB", 0);
    Path noMem2File = dir.resolve("no-mem2.json");
    MAPPER.writeValue(noMem2File.toFile(), j);
    SystemSpec noMem2 = SystemReader.read(noMem2File);
    assertThat(new SearchSpace(app, noMem2, with).size()).isEqualTo(off.size());
    assertThat(new SearchSpace(app, noMem2, with.withOffload(false)).size()).isEqualTo(off.size());
  }

  @Test
  void dryRunCountsTheReducedSpaceInBothModelVersions() {
    for (String version : List.of("corrected", "calculon-moe")) {
      String out = dir.resolve("best-" + version + ".json").toString();
      CliRun.Run on = CliRun.run("loe", MODEL, "8", "16", "bfloat16", SYSTEM, out, "-d", "--model-version", version);
      CliRun.Run off = CliRun.run("loe", MODEL, "8", "16", "bfloat16", SYSTEM, out, "-d", "--no-offload",
          "--model-version", version);
      assertThat(on.status()).as(on.err()).isZero();
      assertThat(off.status()).as(off.err()).isZero();
      long totalOn = count(on.out(), "Total executions: (\\d+)");
      long totalOff = count(off.out(), "Total executions: (\\d+)");
      // between the factor under full recompute and the one without it
      assertThat(totalOn).as(version).isBetween(4 * totalOff, 8 * totalOff);
      assertThat(count(on.out(), "Reference-equivalent executions: (\\d+)"))
          .isBetween(4 * count(off.out(), "Reference-equivalent executions: (\\d+)"),
              8 * count(off.out(), "Reference-equivalent executions: (\\d+)"));
    }
  }

  @Test
  void noResultOffloads() throws Exception {
    for (String version : List.of("corrected", "calculon-moe")) {
      Path best = dir.resolve("best-" + version + ".json");
      CliRun.Run loe = CliRun.run("loe", MODEL, "8", "16", "bfloat16", SYSTEM, best.toString(), "-t", "20",
          "--no-offload", "--quiet", "--model-version", version);
      assertThat(loe.status()).as(loe.err()).isZero();
      JsonNode j = MAPPER.readTree(best.toFile());
      assertThat(j.size()).isEqualTo(20);
      for (JsonNode r : j) {
        for (String k : List.of("weight_offload", "activations_offload", "optimizer_offload")) {
          assertThat(r.get("execution").get(k).asBoolean()).as(k).isFalse();
        }
      }
    }
    Path csv = dir.resolve("all.csv");
    CliRun.Run lae = CliRun.run("lae", MODEL, "8", "16", "bfloat16", SYSTEM, csv.toString(), "--no-offload",
        "--quiet", "--model-version", "calculon-moe", "--no-tp-overlap");
    assertThat(lae.status()).as(lae.err()).isZero();
    List<String> lines = Files.readAllLines(csv);
    List<String> header = List.of(lines.get(0).split(",", -1));
    int[] cols = {header.indexOf("weight_offload"), header.indexOf("activations_offload"),
        header.indexOf("optimizer_offload")};
    assertThat(cols).doesNotContain(-1);
    assertThat(lines).hasSizeGreaterThan(1);
    for (String row : lines.subList(1, lines.size())) {
      String[] v = row.split(",", -1);
      for (int c : cols) {
        assertThat(v[c]).as(row).isEqualTo("False");
      }
    }
  }

  private static long count(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as("%s in %s", regex, text).isTrue();
    return Long.parseLong(m.group(1));
  }
}
