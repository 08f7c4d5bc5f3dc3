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
    assertThat(out).contains("No acceptable configurations found :(\nRejected: ",
        " memory tier 1 (mem1) too small",
        "Not searched: 1 parallel splits whose data parallelism exceeds max_batch_size 4");
    long bad = Long.parseLong(find(out, "Bad executions: (\\d+)"));
    String rejected = find(out, "Rejected: (.*)");
    long sum = 0;
    for (String part : rejected.split("; ")) {
      sum += Long.parseLong(part.substring(0, part.indexOf(' ')));
    }
    assertThat(sum).isEqualTo(bad).isPositive();
  }

  private static String find(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as(regex + " in " + text).isTrue();
    return m.group(1);
  }
}
