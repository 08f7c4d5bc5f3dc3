package calculon.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sweep names the asked {@code tp_overlaps} and {@code context_par} values that no execution of a
 * point runs, with the search commands' "note: not tried: ..." lines after "calculon sweep: "
 * (SearchNotTriedTest: one rule,
 * SearchSpace#notTried), each once with the points it applies to, on stderr; OUTPUT is byte for byte
 * the OUTPUT of the sweep without those values. Reasons hand-derived from megatron-126M (seq_size
 * 2048, 16 heads, hidden 768): on 1 processor every TP is 1 (only none runs there) and CP 3 does not
 * divide 1; on 6 ring attention would cut the 2048 tokens into 2 x 3 chunks, Ulysses into 3.
 */
class SweepNotTriedTest {
  private static final String MODEL = "models/megatron-126M.json";
  private static final String SYSTEM = "systems/H100_SXM_80g_dense.json";

  /** The sweep's prefix, as its other notes, and the search commands' words. */
  private static final String NOT_TRIED = "calculon sweep: note: not tried: ";

  @TempDir
  Path dir;

  private static String spec(String searchKeys, String grid) {
    return "{\"models\": [\"" + SweepTest.abs(MODEL) + "\"], \"systems\": [\"" + SweepTest.abs(SYSTEM) + "\"],"
        + " \"search\": {\"command\": \"loe\", \"num_procs\": 1, \"max_batch_size\": 8, \"datatype\": \"bfloat16\","
        + " \"dp_overlap\": false" + searchKeys + "}, \"grid\": " + grid + "}";
  }

  private static String stable(CliRun.Run r) {
    return r.out().replaceAll("Points per second: .*\n", "").replaceAll("Output: .*\n", "");
  }

  @Test
  void aSweepNamesWhatItWillNotTryAndWritesWhatItWouldWithout() throws Exception {
    Path asked = Files.writeString(dir.resolve("asked.json"),
        spec(", \"tp_overlaps\": [\"none\", \"ring\"], \"context_par\": [1, 3]", "{\"max_batch_size\": [4, 8]}"));
    Path plain = Files.writeString(dir.resolve("plain.json"),
        spec(", \"tp_overlaps\": [\"none\"], \"context_par\": [1]", "{\"max_batch_size\": [4, 8]}"));
    CliRun.Run a = CliRun.run("sweep", asked.toString(), dir.resolve("asked.csv").toString(), "--quiet", "-c", "1");
    assertThat(a.status()).as(a.err()).isZero();
    assertThat(a.err()).isEqualTo(
        NOT_TRIED + "tensor_par_overlap ring (every execution of this search has TP 1, where only none runs)"
            + " at 2 of 2 points (the first: point 0)\n"
            + NOT_TRIED + "context_par 3 (it does not divide num_procs 1) at 2 of 2 points (the first: point 0)\n");
    CliRun.Run p = CliRun.run("sweep", plain.toString(), dir.resolve("plain.csv").toString(), "--quiet", "-c", "1");
    assertThat(p.status()).as(p.err()).isZero();
    assertThat(p.err()).isEmpty();
    assertThat(stable(a)).isEqualTo(stable(p)).contains("Best sample rate: ");
    assertThat(Files.readAllBytes(dir.resolve("asked.csv"))).isEqualTo(Files.readAllBytes(dir.resolve("plain.csv")));
  }

  @Test
  void eachPointsReasonOnceWithThePointsItAppliesTo() throws Exception {
    // point 0: 1 processor; point 1: 6 processors, where TP 2 runs ring and CP 3 meets the sequence
    Path spec = Files.writeString(dir.resolve("s.json"),
        spec(", \"tp_overlaps\": [\"none\", \"ring\"], \"context_par\": [1, 3]", "{\"num_procs\": [1, 6]}"));
    assertThat(SweepTest.sweep(spec, SweepFormat.CSV).notTried()).containsExactly(
        NOT_TRIED + "tensor_par_overlap ring (every execution of this search has TP 1, where only none runs)"
            + " at 1 of 2 points (the first: point 0)",
        NOT_TRIED + "context_par 3 (it does not divide num_procs 1) at 1 of 2 points (the first: point 0)",
        NOT_TRIED + "context_par 3 (p2p needs seq_size 2048 to be a multiple of 6; a2a needs seq_size 2048 to be "
            + "a multiple of 3) at 1 of 2 points (the first: point 1)");
    // the search keys' defaults and a fixed execution ask nothing that can be dropped
    Path none = Files.writeString(dir.resolve("n.json"), spec("", "{\"num_procs\": [1, 6]}"));
    assertThat(SweepTest.sweep(none, SweepFormat.CSV).notTried()).isEmpty();
  }

  /**
   * A MoE search sweep over a model without moe.num_experts and without search.experts runs with
   * the default 16 experts, as loe-moe does; it says so once on stderr, with loe-moe's note and the
   * points it applies to (it was silent), not once per point. megatron-126M is dense, mixtral-8x7B
   * declares 8 experts (not named); a SPEC that gives experts, or a grid over them, gets no note.
   */
  @Test
  void aMoeSweepOfADenseModelSaysOnceThatItTookTheDefaultExperts() throws Exception {
    String mixtral = SweepTest.abs("models/mixtral-8x7B.json");
    String dense = SweepTest.abs(MODEL);
    String note = "calculon sweep: note: " + dense + " has no moe.num_experts: searched as a mixture of experts with search.experts's "
        + "default of 16 experts (give \"experts\": E in the SPEC's search; a dense model's search is \"command\": "
        + "\"llm-optimal-execution\")";
    Path one = Files.writeString(dir.resolve("one.json"), "{\"models\": [\"" + dense + "\"], \"systems\": [\""
        + SweepTest.abs(SYSTEM) + "\"], \"search\": {\"command\": \"loe-moe\", \"num_procs\": 16, \"max_batch_size\": 16,"
        + " \"datatype\": \"bfloat16\", \"tp_overlap\": false, \"dp_overlap\": false}, \"grid\": {\"max_batch_size\": [16, 32]}}");
    CliRun.Run r = CliRun.run("sweep", one.toString(), dir.resolve("one.csv").toString(), "--quiet", "-c", "1");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo(note + " at 2 of 2 points (the first: point 0)\n");
    // each point searched 16 experts (EP 16 on 16 GPUs)
    assertThat(Files.readAllLines(dir.resolve("one.csv"))).hasSize(3);

    String two = "{\"models\": [\"" + mixtral + "\", \"" + dense + "\"], \"systems\": [\"" + SweepTest.abs(SYSTEM)
        + "\"], \"search\": {\"command\": \"loe-moe-flex\", \"num_procs\": 16, \"max_batch_size\": 16,"
        + " \"datatype\": \"bfloat16\"%s}, \"grid\": {%s}}";
    Path mixed = Files.writeString(dir.resolve("mixed.json"), String.format(two, "", "\"max_batch_size\": [16, 32, 64]"));
    assertThat(SweepTest.sweep(mixed, SweepFormat.CSV).notTried()).containsExactly(
        note + " at 3 of 6 points (the first: point 3)");
    Path given = Files.writeString(dir.resolve("given.json"), String.format(two, ", \"experts\": 16",
        "\"max_batch_size\": [16, 32]"));
    assertThat(SweepTest.sweep(given, SweepFormat.CSV).notTried()).isEmpty();
    Path grid = Files.writeString(dir.resolve("grid.json"), String.format(two, "", "\"experts\": [8, 16]"));
    assertThat(SweepTest.sweep(grid, SweepFormat.CSV).notTried()).isEmpty();
  }
}
