package calculon.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.CpCommType;
import calculon.config.Datatype;
import calculon.config.Execution;
import calculon.config.LayerOptions;
import calculon.config.RunChecks;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.ModelVersion;
import calculon.schedule.Evaluator;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The corrected model's search axes beyond Calculon's space ({@link SpaceAxes}): ZeRO stages,
 * context parallelism (degree, tier, comm type). Every execution they add is one an execution file
 * could say (it passes the reader's rules), stages run only where DP x CP shards anything, CP
 * degrees follow the sequence and head rules, the reference-equivalent counts do not move, and
 * the executions the search evaluates are the model's own (evaluated directly, same rate).
 */
class SearchAxesTest {
  /** Every CP degree, every stage, both comm types, and the schedules. */
  static final SpaceAxes ALL = new SpaceAxes(SpaceAxes.ALL_ZERO_STAGES, List.of(), 0, 0,
      SpaceAxes.ALL_CP_COMM_TYPES, true);

  static SearchSpace space(String model, String system, SearchKind kind, int procs, int batch, int experts,
                           SpaceAxes axes) throws Exception {
    Application app = ApplicationReader.read(Path.of("models", model));
    SystemSpec sys = SystemReader.read(Path.of("systems", system));
    return new SearchSpace(app, sys, SearchOptions.defaults(kind, procs, batch, Datatype.FLOAT16, experts),
        true, LayerOptions.DEFAULTS, axes);
  }

  @ParameterizedTest(name = "{0} {2} on {1}, {3} procs")
  @CsvSource({
      "llama3-8B.json,      H100_80g_sxm.json,       DENSE,    16, 32, 1",
      "megatron-126M.json,  a100_80g_calculon.json,  DENSE,    8,  16, 1",
      "mixtral-8x7B.json,   H100_80g_sxm.json,       MOE,      64, 64, 8",
      "megatron-22B.json,   H100_80g_sxm.json,       MOE_FLEX, 16, 16, 4",
  })
  void everyAddedExecutionPassesTheReaderRules(String model, String system, SearchKind kind, int procs,
                                               int batch, int experts) throws Exception {
    SearchSpace s = space(model, system, kind, procs, batch, experts, ALL);
    long checked = 0;
    for (Partition p : s.partitions()) {
      if ((p.zeroStage() <= 1 && p.cp() == 1) || p.schedule() != null) {
        // Calculon's own knobs: the golden search tests hold those; a schedule that cannot run a
        // point's microbatches is the model's rejection (PipelineScheduleSearchTest)
        continue;
      }
      // the products the reader checks
      assertThat((long) p.tp() * p.cp() * p.pp() * p.dp()).as("TP x CP x PP x DP of %s", p).isEqualTo(procs);
      assertThat(p.referenceTasks()).as("a partition beyond Calculon's knobs stands for no reference task").isZero();
      checked += passReaderRules(s, p);
    }
    assertThat(checked).as("executions beyond Calculon's knobs").isPositive();
  }

  /**
   * Checks that every execution of partition {@code p} at its first microbatch size, on each
   * tier-valid assignment, passes the reader's cross-file rules ({@code RunChecks.check});
   * returns how many it checked.
   */
  static long passReaderRules(SearchSpace s, Partition p) {
    Application app = s.application();
    SystemSpec sys = s.system();
    PartitionPlan plan = s.plan(p);
    long checked = 0;
    for (Prefix x : plan.prefixes()) {
      for (int ti = 0; ti < plan.tiers().length; ti++) {
        if (plan.tierError()[ti] != null || plan.mbs().length == 0) {
          continue;
        }
        Execution e = s.execution(p, x, plan.mbs()[0], plan.tiers()[ti]);
        assertThatCode(() -> RunChecks.check(app, e, sys, "model", "execution", "system"))
            .as("%s", e).doesNotThrowAnyException();
        checked++;
      }
    }
    return checked;
  }

  @Test
  void stagesRunOnlyWhereDpTimesCpShards() throws Exception {
    SearchSpace s = space("llama3-8B.json", "H100_80g_sxm.json", SearchKind.DENSE, 16, 32, 1, ALL);
    for (Partition p : s.partitions()) {
      if ((long) p.dp() * p.cp() == 1) {
        assertThat(p.zeroStage()).as("%s: stages are no-ops without a DP x CP group", p).isZero();
      }
    }
    // the split TP 2, CP 2, PP 2, DP 2 (under Calculon's schedule) runs each stage once per
    // recompute, interleaving and comm type, in the order 1, 0, 2, 3
    List<Integer> stages = s.partitions().stream()
        .filter(p -> p.tp() == 2 && p.cp() == 2 && p.pp() == 2 && p.dp() == 2 && p.ppint() == 1
            && p.schedule() == null && p.cpComm() == CpCommType.P2P
            && p.recompute() == calculon.config.Recompute.FULL && p.commType() == calculon.config.TpCommType.AR)
        .map(Partition::zeroStage).toList();
    assertThat(stages).containsExactly(1, 0, 2, 3);
  }

  @Test
  void cpDegreesFollowTheSequenceAndTheDefaultShare() throws Exception {
    // Llama 3 8B: seq 8192, 32 heads, 16 H100s. Every divisor of 16 splits 8192 into 2 CP chunks.
    SearchSpace all = space("llama3-8B.json", "H100_80g_sxm.json", SearchKind.DENSE, 16, 32, 1, ALL);
    assertThat(cps(all)).containsExactly(1, 2, 4, 8, 16);
    for (Partition p : all.partitions()) {
      long seq = all.application().seqSize();
      if (p.cp() > 1) {
        assertThat(seq % (p.cpComm() == CpCommType.P2P ? 2L * p.cp() : p.cp())).isZero();
        assertThat((seq / p.cp()) % p.tp()).isZero();
        if (p.cpComm() == CpCommType.A2A) {
          assertThat(all.application().attnHeads() % ((long) p.tp() * p.cp())).isZero();
        }
      } else {
        assertThat(p.cpComm()).as("the comm type is a no-op at CP 1: p2p only").isEqualTo(CpCommType.P2P);
      }
    }
    // the default keeps 4096 tokens per rank or more: CP 1 and 2 at 8192 tokens
    SearchSpace def = space("llama3-8B.json", "H100_80g_sxm.json", SearchKind.DENSE, 16, 32, 1,
        SpaceAxes.correctedDefaults(false));
    assertThat(cps(def)).containsExactly(1, 2);
    // megatron-126M has 2048 tokens: no CP by default, CP up to 4 when asked for degrees up to 4
    assertThat(cps(space("megatron-126M.json", "a100_80g.json", SearchKind.DENSE, 8, 16, 1,
        SpaceAxes.correctedDefaults(false)))).containsExactly(1);
    assertThat(cps(space("megatron-126M.json", "a100_80g.json", SearchKind.DENSE, 8, 16, 1,
        new SpaceAxes(SpaceAxes.ALL_ZERO_STAGES, List.of(), 4, 0, SpaceAxes.ALL_CP_COMM_TYPES, false))))
        .containsExactly(1, 2, 4);
    // an explicit list
    assertThat(cps(space("megatron-126M.json", "a100_80g.json", SearchKind.DENSE, 8, 16, 1,
        new SpaceAxes(List.of(1), List.of(1, 8), 0, 0, List.of(CpCommType.A2A), false))))
        .containsExactly(1, 8);
    // exactly the listed degrees: CP 1 only when listed
    SearchSpace two = space("megatron-126M.json", "a100_80g.json", SearchKind.DENSE, 8, 16, 1,
        new SpaceAxes(SpaceAxes.ALL_ZERO_STAGES, List.of(2), 0, 0, SpaceAxes.ALL_CP_COMM_TYPES, false));
    assertThat(cps(two)).containsExactly(2);
    assertThat(two.contextParsNoneCanRun()).isNull();
    // none of the listed degrees can run: no partition, and the rule the commands report
    SearchSpace none = space("megatron-126M.json", "a100_80g.json", SearchKind.DENSE, 8, 16, 1,
        new SpaceAxes(SpaceAxes.ALL_ZERO_STAGES, List.of(3), 0, 0, SpaceAxes.ALL_CP_COMM_TYPES, false));
    assertThat(none.partitions()).isEmpty();
    assertThat(none.contextParsNoneCanRun())
        .isEqualTo("none of the listed degrees can run here: 3 (it does not divide num_procs 8)");
    // the default and all never make that rule
    assertThat(def.contextParsNoneCanRun()).isNull();
    assertThat(all.contextParsNoneCanRun()).isNull();
  }

  @Test
  void ulyssesOnlyOnTiersWithAllToAll() throws Exception {
    // a100_80g_calculon.json has no all_to_all op on either tier: only ring attention is searched
    SearchSpace s = space("megatron-126M.json", "a100_80g_calculon.json", SearchKind.DENSE, 8, 16, 1, ALL);
    for (Partition p : s.partitions()) {
      if (p.cpComm() == CpCommType.A2A) {
        assertThat(s.plan(p).tiers()).as("tiers of %s", p).isEmpty();
      }
    }
    // every CP tier of a ring partition is tried (two tiers here)
    Partition ring = s.partitions().stream().filter(p -> p.cp() == 2 && p.cpComm() == CpCommType.P2P)
        .findFirst().orElseThrow();
    Set<Integer> tiers = new TreeSet<>();
    for (int[] t : s.plan(ring).tiers()) {
      tiers.add(t[6]);
    }
    assertThat(tiers).containsExactly(0, 1);
  }

  @Test
  void referenceCountsDoNotMove() throws Exception {
    SearchSpace calculon = space("llama3-8B.json", "H100_80g_sxm.json", SearchKind.DENSE, 16, 32, 1,
        SpaceAxes.CALCULON);
    SearchSpace all = space("llama3-8B.json", "H100_80g_sxm.json", SearchKind.DENSE, 16, 32, 1, ALL);
    assertThat(all.count().refTotal).isEqualTo(calculon.count().refTotal);
    assertThat(all.referenceTaskCount()).isEqualTo(calculon.referenceTaskCount());
    assertThat(all.size()).isGreaterThan(calculon.size());
    // Calculon's partitions appear in the larger space in the same relative order
    List<String> want = calculon.partitions().stream().map(SearchAxesTest::knobs).toList();
    List<String> got = all.partitions().stream()
        .filter(p -> p.zeroStage() <= 1 && p.cp() == 1 && p.schedule() == null).map(SearchAxesTest::knobs).toList();
    assertThat(got).isEqualTo(want);
  }

  @Test
  void searchedRatesAreTheModelsOwn() throws Exception {
    // the best of a search with every axis, run again through the model directly
    SearchSpace s = space("megatron-126M.json", "a100_80g.json", SearchKind.DENSE, 8, 16, 1, ALL);
    Hardware hw = new Hardware(s.system(), Datatype.FLOAT16);
    Search.Outcome o = new Search(new SearchSpace(s.application(), s.system(), s.options().withTopN(20), true,
        LayerOptions.DEFAULTS, ALL), ExecutionEvaluator.model(s.application(), hw, ModelVersion.CORRECTED))
        .run(2, null, null);
    assertThat(o.best()).hasSize(20);
    boolean beyond = false;
    for (SearchResult r : o.best()) {
      double direct = Evaluator.evaluate(s.application(), r.execution(), hw, ModelVersion.CORRECTED, false)
          .get(calculon.stats.StatField.SAMPLE_RATE);
      assertThat(direct).isEqualTo(r.sampleRate());
      beyond |= r.execution().contextPar() > 1 || r.execution().zeroStage() > 1;
    }
    assertThat(beyond).as("the top 20 holds an execution beyond Calculon's knobs").isTrue();
  }

  private static List<Integer> cps(SearchSpace s) {
    return s.partitions().stream().map(Partition::cp).collect(Collectors.toCollection(TreeSet::new))
        .stream().toList();
  }

  private static String knobs(Partition p) {
    return List.of(p.ep(), p.es(), p.tp(), p.pp(), p.dp(), p.dpe(), p.ppint(), p.batch(), p.recompute(),
        p.sharding(), p.commType()).toString();
  }
}
