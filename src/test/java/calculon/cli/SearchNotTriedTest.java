package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An asked value that no execution of a search runs is named on stderr, one note each with the
 * command's prefix as its other notes ("calculon COMMAND: note: not tried: KEY VALUE (why)"), never
 * dropped silently; stdout and the result file are those of the search
 * without it. The reasons are hand-derived from megatron-126M (seq_size 2048, 16 heads, hidden 768)
 * and Mixtral 8x7B (8 experts): TP divides num_procs / EP, a CP degree divides num_procs, ring
 * attention cuts the sequence into 2 CP chunks, Ulysses into CP and splits the heads over CP.
 */
class SearchNotTriedTest {
  private static final String MODEL = "models/megatron-126M.json";
  private static final String MOE_MODEL = "models/mixtral-8x7B.json";
  private static final String SYSTEM = "systems/H100_SXM_80g_dense.json";
  /** How each command begins the line: its prefix, as its other notes. */
  private static final String LOE = "calculon llm-optimal-execution: note: not tried: ";
  private static final String MOE = "calculon llm-optimal-execution-moe: note: not tried: ";
  private static final String FLEX = "calculon llm-optimal-execution-moe-flexible: note: not tried: ";

  @TempDir
  Path dir;

  private Run search(String command, String procs, String out, String... more) {
    String[] args = new String[7 + more.length];
    String[] head = {command, MODEL, procs, "8", "bfloat16", SYSTEM, dir.resolve(out).toString()};
    System.arraycopy(head, 0, args, 0, head.length);
    System.arraycopy(more, 0, args, head.length, more.length);
    return CliRun.run(args);
  }

  /** stdout without the lines that differ between any two runs (the rate, the output name). */
  private static String stable(Run r) {
    return r.out().replaceAll("Calculation rate: .*\n", "").replaceAll("Output: .*\n", "");
  }

  @Test
  void aTpOverlapModeAndACpDegreeNoExecutionUsesAreNamedAndChangeNothingElse() throws Exception {
    // one processor: every TP is 1 (only none runs there) and CP 3 does not divide 1
    Run asked = search("llm-optimal-execution", "1", "asked.json", "--quiet", "--tp-overlaps", "none,ring",
        "--context-par", "1,3");
    assertThat(asked.status()).as(asked.err()).isZero();
    assertThat(asked.err()).isEqualTo(
        LOE + "tensor_par_overlap ring (every execution of this search has TP 1, where only none runs)\n"
            + LOE + "context_par 3 (it does not divide num_procs 1)\n");
    Run plain = search("llm-optimal-execution", "1", "plain.json", "--quiet", "--tp-overlaps", "none",
        "--context-par", "1");
    assertThat(plain.status()).as(plain.err()).isZero();
    assertThat(plain.err()).isEmpty();
    assertThat(stable(asked)).isEqualTo(stable(plain)).contains("Best sample rate: ");
    assertThat(Files.readAllBytes(dir.resolve("asked.json"))).isEqualTo(Files.readAllBytes(dir.resolve("plain.json")));
  }

  @Test
  void calculonsDefaultModesAtTpOneAreNoNews() {
    Run r = search("llm-optimal-execution", "1", "d.json", "--quiet");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
  }

  @Test
  void eachCpReasonInADryRun() {
    // 2048 tokens: not a multiple of 2 x 3 (ring attention) nor of 3 (Ulysses)
    Run seq = search("llm-optimal-execution", "6", "x.json", "-d", "--context-par", "1,3");
    assertThat(seq.status()).as(seq.err()).isZero();
    assertThat(seq.err()).isEqualTo(LOE + "context_par 3 (p2p needs seq_size 2048 to be a multiple of 6; "
        + "a2a needs seq_size 2048 to be a multiple of 3)\n");
    // Ulysses at CP 32 splits the 16 heads 32 ways; CP 2 runs
    Run heads = search("llm-optimal-execution", "32", "x.json", "-d", "--context-par", "2,32", "--cp-comm-types", "a2a");
    assertThat(heads.status()).as(heads.err()).isZero();
    assertThat(heads.err()).isEqualTo(LOE + "context_par 32 (a2a needs attn_heads 16 to be a multiple of 32)\n");
    Run max = search("llm-optimal-execution", "8", "x.json", "-d", "--context-par", "2,4", "--max-context-par", "2");
    assertThat(max.status()).as(max.err()).isZero();
    assertThat(max.err()).isEqualTo(LOE + "context_par 4 (above the largest degree asked, 2)\n");
    // every listed degree runs: nothing to say
    Run all = search("llm-optimal-execution", "8", "x.json", "-d", "--context-par", "1,2,4,8");
    assertThat(all.err()).isEmpty();
  }

  @Test
  void moeSearchesWhoseTpIsOneNameTheAskedModes() {
    // Mixtral's 8 experts on 8 processors: EP 8 leaves TP 1 (legacy MoE space, TP divides N / EP)
    Run moe = CliRun.run("llm-optimal-execution-moe", MOE_MODEL, "8", "8", "bfloat16", SYSTEM,
        dir.resolve("m.json").toString(), "-d", "--tp-overlaps", "none,ring,backward");
    assertThat(moe.status()).as(moe.err()).isZero();
    assertThat(moe.err()).isEqualTo(
        MOE + "tensor_par_overlap ring (every execution of this search has TP 1, where only none runs)\n"
            + MOE + "tensor_par_overlap backward (every execution of this search has TP 1, where only none runs)\n");
    // the flexible space on one processor
    Run flex = CliRun.run("llm-optimal-execution-moe-flexible", MOE_MODEL, "1", "8", "bfloat16", SYSTEM,
        dir.resolve("f.json").toString(), "-d", "--tp-overlaps", "pipe");
    assertThat(flex.status()).as(flex.err()).isZero();
    assertThat(flex.err()).isEqualTo(
        FLEX + "tensor_par_overlap pipe (every execution of this search has TP 1, where only none runs)\n");
    // two processors: TP 2 runs, so ring is tried
    Run two = CliRun.run("llm-optimal-execution-moe-flexible", MOE_MODEL, "2", "8", "bfloat16", SYSTEM,
        dir.resolve("f.json").toString(), "-d", "--tp-overlaps", "none,ring");
    assertThat(two.status()).as(two.err()).isZero();
    assertThat(two.err()).isEmpty();
  }

  /** A dry run's "Total executions: N" count. */
  private static long total(Run r) {
    assertThat(r.status()).as(r.err()).isZero();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("Total executions: (\\d+)").matcher(r.out());
    assertThat(m.find()).as(r.out()).isTrue();
    return Long.parseLong(m.group(1));
  }

  @Test
  void theListedCpDegreesAreExactlyTheOnesSearched() {
    // 8 processors, 2048 tokens: CP 1, 2 and 4 all split the sequence; CP 1 runs only when listed
    long one = total(search("llm-optimal-execution", "8", "x.json", "-d", "--context-par", "1"));
    long two = total(search("llm-optimal-execution", "8", "x.json", "-d", "--context-par", "2"));
    long both = total(search("llm-optimal-execution", "8", "x.json", "-d", "--context-par", "1,2"));
    assertThat(one).isPositive();
    assertThat(two).isPositive();
    assertThat(both).isEqualTo(one + two);
    // a degree that cannot run beside one that can: named, and the other alone is searched
    Run twoThree = search("llm-optimal-execution", "8", "x.json", "-d", "--context-par", "2,3");
    assertThat(total(twoThree)).isEqualTo(two);
    assertThat(twoThree.err()).isEqualTo(LOE + "context_par 3 (it does not divide num_procs 8)\n");
  }

  @Test
  void noListedCpDegreeThatCanRunIsBadInputAndWritesNothing() {
    for (String command : new String[] {"llm-optimal-execution", "llm-all-executions"}) {
      String out = command.equals("llm-all-executions") ? "none.csv" : "none.json";
      Run r = search(command, "8", out, "--quiet", "--context-par", "3,16");
      assertThat(r.status()).as(r.err()).isEqualTo(2);
      assertThat(r.err()).isEqualTo("calculon " + command + ": --context-par: none of the listed degrees can run "
          + "here: 3 (it does not divide num_procs 8), 16 (it does not divide num_procs 8)\n");
      assertThat(r.out()).isEmpty();
      assertThat(dir.resolve(out)).doesNotExist();
    }
    // the MoE searches too (Mixtral: 8 experts on 8 processors)
    Run moe = CliRun.run("llm-optimal-execution-moe", MOE_MODEL, "8", "8", "bfloat16", SYSTEM,
        dir.resolve("m.json").toString(), "--quiet", "--context-par", "4", "--max-context-par", "2");
    assertThat(moe.status()).as(moe.err()).isEqualTo(2);
    assertThat(moe.err()).isEqualTo("calculon llm-optimal-execution-moe: --context-par: none of the listed degrees "
        + "can run here: 4 (above the largest degree asked, 2)\n");
    assertThat(dir.resolve("m.json")).doesNotExist();
  }
}
