package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where a MoE search's number of experts comes from, said when it matters: the model file's
 * moe.num_experts, else -moe, else (llm-optimal-execution-moe and -flexible only) Calculon-MoE's
 * default of 16. A rule broken by the default names it, so a user who never wrote 16 learns where
 * it came from; llm-all-executions has no default and, like the other two, refuses a -moe that
 * contradicts the model file (it used the file's number silently).
 */
class MoeExpertsDefaultTest {
  private static final String DENSE = "models/megatron-126M.json";
  private static final String MIXTRAL = "models/mixtral-8x7B.json";
  private static final String SYSTEM = "systems/H100_SXM_80g_dense.json";

  @TempDir
  Path dir;

  private Run run(String command, String model, String procs, String... more) {
    String[] head = {command, model, procs, "8", "bfloat16", SYSTEM, dir.resolve("o.csv").toString(), "-d"};
    String[] args = new String[head.length + more.length];
    System.arraycopy(head, 0, args, 0, head.length);
    System.arraycopy(more, 0, args, head.length, more.length);
    return CliRun.run(args);
  }

  @Test
  void theDefaultSixteenIsNamedWhenItBreaksTheRule() {
    // EP is the number of experts in the legacy MoE space: 8 processors cannot hold 16
    Run r = run("loe-moe", DENSE, "8");
    assertThat(r).isEqualTo(new Run(2, "", "calculon llm-optimal-execution-moe: num_procs: num_procs=8 must be divisible by num_experts=16 (16 is "
        + "-moe's default, taken because " + DENSE + " has no moe.num_experts; give -moe E)\n"));
    // a number the user gave is theirs: no note
    Run given = run("loe-moe", DENSE, "8", "-moe", "16");
    assertThat(given).isEqualTo(new Run(2, "", "calculon llm-optimal-execution-moe: num_procs: num_procs=8 must be divisible by num_experts=16\n"));
    Run lae = run("lae", DENSE, "8", "-moe", "16");
    assertThat(lae).isEqualTo(new Run(2, "", "calculon llm-all-executions: num_procs: num_procs=8 must be divisible by num_experts=16\n"));
    // 16 processors hold the default 16 experts: the search runs, and says what it searched
    Run ok = run("loe-moe", DENSE, "16");
    assertThat(ok.status()).isZero();
    assertThat(ok.err()).startsWith("calculon llm-optimal-execution-moe: note: " + DENSE + " has no moe.num_experts: searched as a mixture of experts "
        + "with -moe's default of 16 experts (give -moe E; a dense model's search is llm-optimal-execution)\n");
    // not when the user gave the number
    assertThat(run("loe-moe", DENSE, "16", "-moe", "16").err()).doesNotContain("note:");
  }

  @Test
  void everyMoeSearchRefusesAMoeThatContradictsTheModel() {
    String rule = "-moe: 4 contradicts " + MIXTRAL + ", whose moe.num_experts is 8\n";
    assertThat(run("loe-moe", MIXTRAL, "8", "-moe", "4"))
        .isEqualTo(new Run(2, "", "calculon llm-optimal-execution-moe: " + rule));
    assertThat(run("lae", MIXTRAL, "8", "-moe", "4")).isEqualTo(new Run(2, "", "calculon llm-all-executions: " + rule));
    assertThat(run("lae", MIXTRAL, "8", "-moe", "8").status()).isZero();
  }
}
