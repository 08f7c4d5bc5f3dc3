package calculon.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Datatype;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Enumeration only: the {@code -d} counts of every fork search golden and of the README searches. */
class SearchSpaceCountTest {

  static Stream<GoldenSearch> forkGoldensWithDebugCount() throws Exception {
    return GoldenSearch.all().filter(g -> g.fromFork() && g.debugCount() != null
        && !g.command().equals("llm-all-executions"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("forkGoldensWithDebugCount")
  void debugCountMatchesReference(GoldenSearch g) {
    SearchSpace space = new SearchSpace(g.app(), g.system(), g.options());
    Counts c = space.count();
    assertThat(c.refTotal).as("reference -d count").isEqualTo(g.debugCount());
    if (g.json().has("param_combinations")) {
      assertThat(space.referenceTaskCount()).isEqualTo(g.json().get("param_combinations").asLong());
    }
    if (!g.options().mbsBreak()) {
      // without -m the reference count is its full space: distinct + repeated last mbs (+ comm copies)
      assertThat(c.total).isLessThanOrEqualTo(c.refTotal).isEqualTo(space.size());
      assertThat(g.debugCount()).isEqualTo(g.json().get("total_executions").asLong());
    }
  }

  @Test
  void legacyMoeNeedsProcsDivisibleByExperts() throws Exception {
    GoldenSearch g = GoldenSearch.load(GoldenSearch.DIR.resolve("loemoe-nemo-6-E8-crash.json"));
    assertThatThrownBy(() -> new SearchSpace(g.app(), g.system(), g.options()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be divisible by num_experts=8");
  }

  private static Counts readme(String model, int n, int b, String system, SearchKind kind,
                               boolean mbsBreak, int experts, long tasks) throws Exception {
    Application app = ApplicationReader.read(Path.of("models", model));
    SystemSpec sys = SystemReader.read(Path.of("systems", system));
    SearchOptions o = SearchOptions.defaults(kind, n, b, Datatype.FLOAT16, experts).withMbsBreak(mbsBreak);
    SearchSpace space = new SearchSpace(app, sys, o);
    if (tasks > 0) {
      assertThat(space.referenceTaskCount()).isEqualTo(tasks);
    }
    return space.count();
  }

  @Test
  void readmeDense() throws Exception {
    assertThat(readme("megatron-1T.json", 5128, 2520, "a100_80g.json", SearchKind.DENSE, true, 0, 594).refTotal)
        .isEqualTo(166_592);
    assertThat(readme("megatron-1T.json", 5128, 2520, "a100_80g.json", SearchKind.DENSE, false, 0, 594).refTotal)
        .isEqualTo(437_760);
  }

  @Test
  void readmeMoe() throws Exception {
    Counts c = readme("gpt-1.8T_2.json", 4096, 2048, "H100_80g_sxm.json", SearchKind.MOE, false, 16, 2682);
    assertThat(c.refTotal).isEqualTo(4_681_728);
  }

  @Test
  void readmeMoeFlexible() throws Exception {
    Counts c = readme("gpt-1.8T_2.json", 4096, 2048, "H100_80g_sxm.json", SearchKind.MOE_FLEX, false, 16, 40_206);
    assertThat(c.refTotal).isEqualTo(57_290_880);
  }
}
