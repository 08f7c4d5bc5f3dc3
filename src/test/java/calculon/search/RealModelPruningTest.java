package calculon.search;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Datatype;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.ModelVersion;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Skipping the other tier assignments of a (prefix, microbatch) block after a model rejection
 * relies on the model's rejections not depending on the network tiers. This holds the real model,
 * in both versions, to that: the pruned search and the exhaustive one agree, on searches where
 * memory rejects a good share of the executions.
 */
class RealModelPruningTest {

  @ParameterizedTest(name = "{0} {1} {2} procs, batch {3}, E={4}")
  @CsvSource({
      "corrected,    DENSE,    models/gpt3-175B.json,      8,   8, 1",
      "calculon-moe, DENSE,    models/gpt3-175B.json,      8,   8, 1",
      "corrected,    MOE,      models/mixtral-8x7B.json,  64, 128, 8",
      "calculon-moe, MOE,      models/mixtral-8x7B.json,  64, 128, 8",
      "corrected,    MOE_FLEX, models/megatron-22B.json,  32,  32, 8",
  })
  void prunedSearchEqualsExhaustiveSearch(String version, SearchKind kind, String model, int procs,
                                          int maxBatch, int experts) throws Exception {
    Application app = ApplicationReader.read(Path.of(model));
    SystemSpec sys = SystemReader.read(Path.of("systems/H100_80g_sxm.json"));
    SearchOptions o = SearchOptions.defaults(kind, procs, maxBatch, Datatype.FLOAT16, experts).withTopN(10);
    SearchSpace space = new SearchSpace(app, sys, o);
    ExecutionEvaluator real = ExecutionEvaluator.model(app, new Hardware(sys, Datatype.FLOAT16),
        ModelVersion.fromCli(version));

    Search.Outcome pruned = new Search(space, real).run(2, null, null);
    Search.Outcome all = new Search(space, real).inferInfeasible(false).run(2, null, null);

    assertThat(pruned.counts().inferredInfeasible).as("memory rejections were inferred").isPositive();
    assertThat(pruned.counts().good).as("some executions fit").isPositive();
    assertThat(all.counts().inferredInfeasible).isZero();
    assertThat(pruned.counts().good).isEqualTo(all.counts().good);
    assertThat(pruned.counts().bad).isEqualTo(all.counts().bad);
    assertThat(SearchMachineryTest.executions(pruned.best())).isEqualTo(SearchMachineryTest.executions(all.best()));
    assertThat(pruned.best().get(0).sampleRate()).isEqualTo(all.best().get(0).sampleRate());
  }
}
