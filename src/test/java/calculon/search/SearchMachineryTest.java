package calculon.search;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Datatype;
import calculon.config.Execution;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The search machinery against a literal emulation of the reference loops, with a fake model:
 * best lists equal the reference's lists without duplicates, reference-equivalent counts equal
 * the reference's counts, and the outcome does not depend on the thread count or on skipping
 * evaluations known to fail.
 */
class SearchMachineryTest {

  static Stream<GoldenSearch> cases() throws Exception {
    List<GoldenSearch> out = new ArrayList<>();
    GoldenSearch.all()
        .filter(g -> g.fromFork() && g.debugCount() != null && !g.command().equals("llm-all-executions"))
        .forEach(g -> {
          out.add(rename(g, g.options().withTopN(12), ""));
          if (g.options().kind() == SearchKind.DENSE) {
            out.add(rename(g, g.options().withTopN(7).withMbsBreak(!g.options().mbsBreak()),
                " -m toggled"));
          }
        });
    Application small = ApplicationReader.read(Path.of("models/megatron-126M.json"));
    SystemSpec a100 = SystemReader.read(Path.of("systems/a100_80g.json"));
    SystemSpec h100 = SystemReader.read(Path.of("systems/H100_80g_sxm.json"));
    for (boolean m : new boolean[] {false, true}) {
      SearchOptions o = SearchOptions.defaults(SearchKind.DENSE, 4, 4, Datatype.FLOAT16, 1)
          .withMbsBreak(m).withTopN(9).withFusedActivation(List.of(false, true));
      out.add(new GoldenSearch("dense-126M-4-a100" + (m ? " -m" : ""), null, "llm-optimal-execution",
          small, a100, o));
    }
    out.add(new GoldenSearch("moe-126M-8-E4-h100", null, "llm-optimal-execution-moe", small, h100,
        SearchOptions.defaults(SearchKind.MOE, 8, 32, Datatype.FLOAT16, 4).withTopN(20)));
    out.add(new GoldenSearch("moeflex-126M-4-E4-h100", null, "llm-optimal-execution-moe-flexible",
        small, h100, SearchOptions.defaults(SearchKind.MOE_FLEX, 4, 4, Datatype.FLOAT16, 4).withTopN(20)));
    return out.stream();
  }

  private static GoldenSearch rename(GoldenSearch g, SearchOptions o, String suffix) {
    return new GoldenSearch(g.name() + suffix, g.json(), g.command(), g.app(), g.system(), o);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesReferenceEmulation(GoldenSearch g) throws Exception {
    SearchSpace space = new SearchSpace(g.app(), g.system(), g.options());
    FakeModel model = new FakeModel(g.system());
    Search.Outcome one = new Search(space, model).run(1, null, null);
    long callsInferred = model.calls.getAndSet(0);

    ReferenceEmulation ref = new ReferenceEmulation(g, new FakeModel(g.system())).run();
    assertThat(ref.goodCount).as("fake model accepts some").isPositive();
    assertThat(one.counts().refUnevaluated).isZero();
    assertThat(one.counts().refTotal).as("reference total").isEqualTo(ref.total);
    assertThat(one.counts().refGood).as("reference good").isEqualTo(ref.goodCount);
    assertThat(one.counts().refBad).as("reference bad").isEqualTo(ref.badCount);
    assertThat(one.counts().good + one.counts().bad).isEqualTo(one.counts().total);
    assertThat(executions(one.best())).isEqualTo(ref.rankedDistinct(g.options().topN()));
    assertThat(one.interrupted()).isFalse();

    Search.Outcome three = new Search(space, model).run(3, null, null);
    assertThat(executions(three.best())).isEqualTo(executions(one.best()));
    assertThat(three.counts().toString()).isEqualTo(one.counts().toString());
    model.calls.set(0);

    Search.Outcome all = new Search(space, model).inferInfeasible(false).run(2, null, null);
    assertThat(executions(all.best())).isEqualTo(executions(one.best()));
    assertThat(all.counts().good).isEqualTo(one.counts().good);
    assertThat(all.counts().bad).isEqualTo(one.counts().bad);
    assertThat(all.counts().refTotal).isEqualTo(one.counts().refTotal);
    assertThat(model.calls.get()).isGreaterThanOrEqualTo(callsInferred);
  }

  static List<Execution> executions(List<SearchResult> rs) {
    return rs.stream().map(SearchResult::execution).toList();
  }
}
