package calculon.search;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Datatype;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.ModelVersion;
import calculon.schedule.BlockCache;
import calculon.schedule.Evaluator;
import calculon.stats.StatField;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The search's shortcuts (block cache, sample rate without stats, bound pruning against the shared
 * top-N bar, no repeated tier check) must give exactly what the plain exhaustive search gives: every
 * tier-valid execution evaluated with the full model, each block built for its call. Compared on
 * many small spaces, both model versions, dense and MoE, uniform models and models whose stages
 * differ (vocabulary layers): counts, the ranked executions and every stats value, bit for bit;
 * also with one block cache shared by several searches, as a sweep holds it. The exhaustive run
 * also checks the pruning bound: no accepted execution's sample rate is above it. The corrected
 * model's spaces include the axes beyond Calculon's (ZeRO stages, CP with its tier and comm types,
 * pipeline schedules).
 */
class ExactSearchShortcutsTest {

  @ParameterizedTest(name = "{0} {1} {2} on {3}, {4} procs, batch {5}, E={6}, top {7}")
  @CsvSource({
      "corrected,    DENSE,    models/megatron-126M.json, a100_80g.json,       4,   8, 1, 10",
      "calculon-moe, DENSE,    models/megatron-126M.json, a100_80g.json,       4,   8, 1, 10",
      "corrected,    DENSE,    models/gpt3-175B.json,     H100_80g_sxm.json,   8,   8, 1, 1",
      "calculon-moe, DENSE,    models/gpt3-175B.json,     H100_80g_sxm.json,   8,   8, 1, 5",
      "corrected,    DENSE,    models/megatron-22B.json,  a100_80e.json,       8,  16, 1, 20",
      "calculon-moe, DENSE,    models/megatron-22B.json,  a100_80e.json,       8,  16, 1, 3",
      "corrected,    DENSE,    models/llama3-8B.json,     H100_80g_sxm.json,   4,   8, 1, 10",
      "corrected,    MOE,      models/mixtral-8x7B.json,  H100_80g_sxm.json,  64,  64, 8, 10",
      "calculon-moe, MOE,      models/mixtral-8x7B.json,  H100_80g_sxm.json,  64,  64, 8, 10",
      "calculon-moe, MOE,      models/gpt3-13B.json,      TwoTiered_HBD8.json, 32, 32, 8, 4",
      "corrected,    MOE_FLEX, models/megatron-22B.json,  H100_80g_sxm.json,  16,  16, 4, 10",
      "calculon-moe, MOE_FLEX, models/megatron-22B.json,  H100_80g_sxm.json,   8,   8, 4, 2",
  })
  void shortcutsGiveTheExhaustiveAnswer(String version, SearchKind kind, String model, String system,
                                        int procs, int maxBatch, int experts, int topN) throws Exception {
    Application app = ApplicationReader.read(Path.of(model));
    SystemSpec sys = SystemReader.read(Path.of("systems", system));
    ModelVersion v = ModelVersion.fromCli(version);
    Hardware hw = new Hardware(sys, Datatype.FLOAT16);
    SearchOptions o = SearchOptions.defaults(kind, procs, maxBatch, Datatype.FLOAT16, experts)
        .withTopN(topN);
    SearchSpace space = space(app, sys, o, v);

    AtomicLong boundChecks = new AtomicLong();
    ExecutionEvaluator fast = ExecutionEvaluator.model(app, hw, v);
    ExecutionEvaluator plain = (exe, layers) -> {
      var stats = Evaluator.evaluate(app, exe, hw, v, layers);
      double rate = stats.get(StatField.SAMPLE_RATE);
      assertThat(rate).as("bound of %s", exe).isLessThanOrEqualTo(fast.sampleRateBound(exe));
      boundChecks.incrementAndGet();
      return stats;
    };
    Search.Outcome exhaustive = new Search(space, plain).inferInfeasible(false).run(2, null, null);
    Search.Outcome shortcut = new Search(space, fast).run(2, null, null);

    assertThat(boundChecks.get()).as("accepted executions to check the bound on").isPositive();
    assertThat(exhaustive.counts().good).as("some executions fit").isPositive();
    assertSame(shortcut, exhaustive);
    assertThat(shortcut.counts().evaluated).isLessThan(exhaustive.counts().evaluated);

    // one cache across searches, as a sweep holds it: a smaller system first, then this one; one
    // thread each, as the fresh run, so that both ask for the same blocks (with two, the shared
    // bar's timing changes which executions the bound prunes, and so which blocks are built)
    BlockCache fresh = new BlockCache();
    new Search(space, ExecutionEvaluator.model(app, hw, v, fresh)).run(1, null, null);
    BlockCache shared = new BlockCache();
    SearchSpace smaller = space(app, sys, SearchOptions.defaults(kind, procs / 2, maxBatch,
        Datatype.FLOAT16, experts).withTopN(topN), v);
    new Search(smaller, ExecutionEvaluator.model(app, hw, v, shared)).run(1, null, null);
    long before = shared.builds();
    Search.Outcome again = new Search(space, ExecutionEvaluator.model(app, new Hardware(
        SystemReader.read(Path.of("systems", system)), Datatype.FLOAT16), v, shared)).run(1, null, null);
    assertSame(again, exhaustive);
    assertThat(shared.builds() - before).as("blocks reused across searches").isLessThan(fresh.builds());

    // a tiny cache that empties itself all the time gives the same answer
    Search.Outcome tiny = new Search(space, ExecutionEvaluator.model(app, hw, v, new BlockCache(3)))
        .run(2, null, null);
    assertSame(tiny, exhaustive);
  }

  /**
   * The space a command searches in that model version: Calculon's for calculon-moe; for the
   * corrected model no-op duplicates merged and every ZeRO stage, CP degree up to 2 with both comm
   * types and, in the MoE spaces (where DualPipe hides the expert all-to-all the bound leaves out
   * then), the pipeline schedules: the axes beyond Calculon's space, at a test's cost.
   */
  static SearchSpace space(Application app, SystemSpec sys, SearchOptions o, ModelVersion v) {
    if (!v.corrected()) {
      return new SearchSpace(app, sys, o);
    }
    return new SearchSpace(app, sys, o, true, calculon.config.LayerOptions.DEFAULTS,
        new SpaceAxes(SpaceAxes.ALL_ZERO_STAGES, List.of(), 2, 0, SpaceAxes.ALL_CP_COMM_TYPES, o.kind().isMoe()));
  }

  private static void assertSame(Search.Outcome got, Search.Outcome want) {
    assertThat(got.counts().total).isEqualTo(want.counts().total);
    assertThat(got.counts().good).isEqualTo(want.counts().good);
    assertThat(got.counts().bad).isEqualTo(want.counts().bad);
    assertThat(got.counts().refTotal).isEqualTo(want.counts().refTotal);
    assertThat(got.counts().refGood).isEqualTo(want.counts().refGood);
    assertThat(SearchMachineryTest.executions(got.best()))
        .isEqualTo(SearchMachineryTest.executions(want.best()));
    assertThat(values(got.best())).isEqualTo(values(want.best()));
  }

  /** Every stats value of every result, as bits (NaN-safe, -0.0 distinct). */
  private static List<List<Long>> values(List<SearchResult> rs) {
    List<List<Long>> out = new ArrayList<>();
    for (SearchResult r : rs) {
      List<Long> v = new ArrayList<>();
      v.add(Double.doubleToRawLongBits(r.sampleRate()));
      for (StatField f : StatField.all()) {
        v.add(r.stats().isNull(f) ? 1L : Double.doubleToRawLongBits(r.stats().get(f)));
      }
      out.add(v);
    }
    return out;
  }
}
