package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Issue 13, item 4: a search that finds nothing says how many executions each rule rejected (the
 * numbers add up to the bad executions) and which parallel splits had no batch, so the user
 * knows what to relax. Megatron 1T does not fit on 8 A100s in any split: every tier-valid
 * execution is rejected for memory; DP 8 exceeds max_batch_size 4.
 */
class NoAcceptableConfigurationTest {
  @TempDir Path dir;

  @Test
  void rejectionsAreCountedByRuleAndAddUpToTheBadExecutions() {
    OptimalExecutionCommand cmd = new OptimalExecutionCommand();
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    cmd.out = new PrintStream(o, true, StandardCharsets.UTF_8);
    cmd.err = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    int status = new CommandLine(cmd).execute("models/megatron-1T.json", "8", "4", "float16",
        "systems/a100_80g.json", dir.resolve("best.json").toString(), "--quiet", "-c", "2");
    String out = o.toString(StandardCharsets.UTF_8);
    assertThat(status).as(out).isEqualTo(-1);
    assertThat(out).contains("No acceptable configurations found :( (", ")\nRejected: ",
        " memory tier 1 (mem1) too small",
        "Not searched: 1 parallel split whose data parallelism exceeds max_batch_size 4");
    long bad = Long.parseLong(find(out, "Bad executions: (\\d+)"));
    String rejected = find(out, "Rejected: (.*)");
    long sum = 0;
    for (String part : rejected.split("; ")) {
      sum += Long.parseLong(part.substring(0, part.indexOf(' ')));
    }
    assertThat(sum).isEqualTo(bad).isPositive();
  }

  /**
   * The line a user reads first names the binding reason (it gave only the reference's words, the
   * reason followed after the counts, as the last line), and the MoE search that finds nothing
   * exits as the dense one does, -1 (255 in the shell), writing nothing. Megatron 1T on 8 A100s with 8 experts: every
   * one of its executions is rejected for tier-1 memory, the one rule of the Rejected line.
   */
  @Test
  void theNoneFoundLineNamesTheBindingReason() {
    Path best = dir.resolve("best.json");
    CliRun.Run moe = CliRun.run("loe-moe", "models/megatron-1T.json", "8", "8", "float16", "systems/a100_80g.json",
        best.toString(), "-moe", "8", "--quiet", "-c", "2");
    assertThat(moe.status()).as(moe.out() + moe.err()).isEqualTo(-1);
    long bad = Long.parseLong(find(moe.out(), "Bad executions: (\\d+)"));
    assertThat(moe.out()).contains("No acceptable configurations found :( (all " + bad
        + " executions rejected: memory tier 1 (mem1) too small)\nRejected: " + bad + " memory tier 1 (mem1) too small\n");
    assertThat(best).doesNotExist();

    // the dense search of the same model, batch 4: tier-1 memory rejects the most, tier-2 the rest
    CliRun.Run dense = CliRun.run("loe", "models/megatron-1T.json", "8", "4", "float16", "systems/a100_80g.json",
        best.toString(), "--quiet", "-c", "2");
    assertThat(dense.status()).isEqualTo(moe.status());
    long denseBad = Long.parseLong(find(dense.out(), "Bad executions: (\\d+)"));
    String mem1 = find(dense.out(), "Rejected: (\\d+) memory tier 1 \\(mem1\\) too small; \\d+ ");
    assertThat(Long.parseLong(mem1)).isLessThan(denseBad);
    assertThat(dense.out()).contains("No acceptable configurations found :( (" + mem1 + " of " + denseBad
        + " rejected executions: memory tier 1 (mem1) too small; the rest below)\n");

    // nothing to evaluate: 126M with -moe 2 on 2 GPUs has one split, EP 2 = DP 2, and batch 1
    CliRun.Run empty = CliRun.run("loe-moe", "models/megatron-126M.json", "2", "1", "float16", "systems/a100_80g.json",
        best.toString(), "-moe", "2", "--quiet");
    assertThat(empty.status()).as(empty.out() + empty.err()).isEqualTo(-1);
    assertThat(empty.out()).contains("Total executions: 0\n", "No acceptable configurations found :( (no execution to "
        + "try: the only parallel split's data parallelism exceeds max_batch_size 1)\n");
  }

  private static String find(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as(regex + " in " + text).isTrue();
    return m.group(1);
  }
}
