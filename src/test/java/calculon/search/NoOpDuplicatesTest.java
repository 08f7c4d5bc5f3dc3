package calculon.search;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Datatype;
import calculon.config.Execution;
import calculon.config.LayerOptions;
import calculon.config.Recompute;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.config.TpCommType;
import calculon.config.TpOverlap;
import calculon.hardware.Hardware;
import calculon.model.Infeasible;
import calculon.model.ModelVersion;
import calculon.schedule.Evaluator;
import calculon.search.output.ResultFormat;
import calculon.stats.StatsJson;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 13, item 6: in the corrected model, executions that differ only in a knob with no effect
 * ({@link NoOpKnobs}) are one entry. seq_par_ag_redo at TP 1 is not such a knob (it changes
 * stored activations): {@link #redoAtTp1IsNotADuplicate} shows it, and it stays. Checked in the real model: every merged execution is
 * evaluated and gives stats identical (every key, per-layer stats included) to its kept twin, or
 * the same rejection; the merged search's ranking is the reference enumeration's with the
 * duplicates removed; the reference-equivalent counts do not change.
 */
class NoOpDuplicatesTest {
  static Stream<Arguments> spaces() {
    return Stream.of(
        Arguments.of("models/megatron-126M.json", "systems/a100_80g.json", SearchKind.DENSE, 8, 16, 1, Datatype.FLOAT16, false),
        Arguments.of("models/megatron-5B.json", "systems/H100_80g_sxm.json", SearchKind.DENSE, 8, 8, 1, Datatype.FLOAT16, true),
        Arguments.of("models/llama3-8B.json", "systems/H100_SXM_80g_dense.json", SearchKind.DENSE, 4, 4, 1, Datatype.BFLOAT16, false),
        Arguments.of("models/megatron-126M.json", "systems/H100_80g_sxm.json", SearchKind.MOE_FLEX, 8, 8, 4, Datatype.FLOAT16, false));
  }

  @ParameterizedTest(name = "{0} {2} on {3}, -m {7}")
  @MethodSource("spaces")
  void mergedExecutionsHaveIdenticalStatsAndTheSearchOnlyLosesDuplicates(String model, String system,
      SearchKind kind, int procs, int batch, int experts, Datatype dt, boolean mbsBreak) throws Exception {
    Application app = ApplicationReader.read(Path.of(model));
    SystemSpec sys = SystemReader.read(Path.of(system));
    SearchOptions opts = SearchOptions.defaults(kind, procs, batch, dt, experts)
        .withFusedActivation(List.of(true, false)).withMbsBreak(mbsBreak);
    Hardware hw = new Hardware(sys, dt);
    SearchSpace plain = new SearchSpace(app, sys, opts, false);
    SearchSpace merged = new SearchSpace(app, sys, opts, true);

    // 1. every execution a merged partition drops evaluates exactly like its kept twin
    long compared = 0;
    for (Partition kept : merged.partitions()) {
      if (kept.noOpCopies() == 0) {
        continue;
      }
      PartitionPlan keptPlan = merged.plan(kept);
      for (Partition twin : plain.partitions()) {
        if (!sameExceptCommType(kept, twin)) {
          continue;
        }
        PartitionPlan twinPlan = plain.plan(twin);
        for (Prefix x : twinPlan.prefixes()) {
          if (x.seqParAgRedo()) {
            // not a duplicate (see NoOpKnobs): the merged space keeps it in its own partition
            continue;
          }
          Prefix base = new Prefix(false, x.dataParOverlap(), x.tensorParOverlap(), x.weightOffload(),
              x.activationsOffload(), x.optimizerOffload(), x.fusedActivation());
          assertThat(keptPlan.prefixes()).contains(base);
          // every prefix; the smallest and largest microbatch, the first and last valid tiers
          int[] allMbs = twinPlan.mbs();
          int[] mbsSample = allMbs.length == 0 ? allMbs : new int[] {allMbs[0], allMbs[allMbs.length - 1]};
          for (int mbs : mbsSample) {
            for (int t : firstAndLastValid(twinPlan.tierError())) {
              Execution a = merged.execution(kept, base, mbs, twinPlan.tiers()[t]);
              Execution b = plain.execution(twin, x, mbs, twinPlan.tiers()[t]);
              Object ob = outcome(app, b, hw);
              Object oa = outcome(app, a, hw);
              assertThat(ob).as("%s\nvs kept %s\ndiffering: %s", b, a, differences(oa, ob)).isEqualTo(oa);
              compared++;
            }
          }
        }
      }
    }
    assertThat(compared).as("merged executions compared").isPositive();

    // 2. the search loses only duplicates; reference-equivalent counts stay
    int n = 5;
    Search.Outcome p = new Search(new SearchSpace(app, sys, opts.withTopN(4 * n), false),
        ExecutionEvaluator.model(app, hw, ModelVersion.CORRECTED)).run(2, null, null);
    Search.Outcome m = new Search(new SearchSpace(app, sys, opts.withTopN(n), true),
        ExecutionEvaluator.model(app, hw, ModelVersion.CORRECTED)).run(2, null, null);
    assertThat(m.counts().refTotal).isEqualTo(p.counts().refTotal);
    assertThat(m.counts().refGood).isEqualTo(p.counts().refGood);
    assertThat(m.counts().refBad).isEqualTo(p.counts().refBad);
    assertThat(m.counts().total + m.counts().mergedNoOps).isEqualTo(p.counts().total);
    assertThat(m.counts().mergedNoOps).isPositive();
    if (!mbsBreak) {
      // (with -m, -d stops every microbatch loop after its first size: other counts by design)
      assertThat(merged.count().mergedNoOps).as("-d counts the same").isEqualTo(m.counts().mergedNoOps);
    }
    assertThat(merged.referenceTaskCount()).isEqualTo(plain.referenceTaskCount());

    List<Map<String, Object>> expected = distinct(p.best());
    List<Map<String, Object>> got = distinct(m.best());
    assertThat(got).as("the merged top N has no duplicates").hasSize(m.best().size());
    assertThat(got).hasSize(Math.min(n, expected.size()));
    assertThat(got).isEqualTo(expected.subList(0, got.size()));
  }

  /**
   * tensor_par_overlap backward and userbuffers re-gather the sequence-parallel input whatever
   * seq_par_ag_redo says (BlockBuilder.redoesSequenceParallelGather): at TP &gt; 1 the merged
   * space enumerates only seq_par_ag_redo true with them, each such execution evaluates exactly
   * like its false twin, names that twin among its equivalents, and the counts account for every
   * twin (what was evaluated plus what was merged is the plain space's total; -d counts the same).
   */
  @Test
  void backwardAndUserbuffersRunSeqParAgRedoFalseAsItsTrueTwin() throws Exception {
    Application app = ApplicationReader.read(Path.of("models/llama3-8B.json"));
    SystemSpec sys = SystemReader.read(Path.of("systems/H100_SXM_80g_dense.json"));
    SpaceAxes axes = new SpaceAxes(List.of(1, 0), List.of(1), 0, 0, SpaceAxes.ALL_CP_COMM_TYPES,
        List.of(TpOverlap.NONE, TpOverlap.BACKWARD, TpOverlap.USERBUFFERS), false);
    SearchOptions opts = SearchOptions.defaults(SearchKind.DENSE, 8, 8, Datatype.BFLOAT16, 1).withTopN(5);
    Hardware hw = new Hardware(sys, Datatype.BFLOAT16);
    SearchSpace plain = new SearchSpace(app, sys, opts, false, LayerOptions.DEFAULTS, axes);
    SearchSpace merged = new SearchSpace(app, sys, opts, true, LayerOptions.DEFAULTS, axes);

    long compared = 0;
    for (Partition part : merged.partitions()) {
      PartitionPlan plan = merged.plan(part);
      for (Prefix x : plan.prefixes()) {
        boolean twin = part.tp() > 1 && part.commType() == TpCommType.RS_AG && part.recompute() != Recompute.FULL
            && x.tensorParOverlap().alwaysRegathersSequenceParallelInput();
        assertThat(twin && !x.seqParAgRedo()).as("%s %s", part, x).isFalse();
        assertThat(plan.hasRedoTwin(x)).as("%s %s", part, x).isEqualTo(twin);
        if (!twin || plan.mbs().length == 0 || plan.validTiers() == 0) {
          continue;
        }
        Prefix off = new Prefix(false, x.dataParOverlap(), x.tensorParOverlap(), x.weightOffload(),
            x.activationsOffload(), x.optimizerOffload(), x.fusedActivation());
        int t = firstAndLastValid(plan.tierError())[0];
        Execution kept = merged.execution(part, x, plan.mbs()[0], plan.tiers()[t]);
        Execution dropped = plain.execution(part, off, plan.mbs()[0], plan.tiers()[t]);
        assertThat(dropped.seqParAgRedo()).isFalse();
        assertThat(outcome(app, dropped, hw)).as("%s vs %s", dropped, kept).isEqualTo(outcome(app, kept, hw));
        assertThat(merged.equivalents(kept)).containsExactly(Map.of("seq_par_ag_redo", false));
        compared++;
      }
    }
    assertThat(compared).as("twins compared").isPositive();

    Search.Outcome p = new Search(plain, ExecutionEvaluator.model(app, hw, ModelVersion.CORRECTED)).run(2, null, null);
    Search.Outcome m = new Search(merged, ExecutionEvaluator.model(app, hw, ModelVersion.CORRECTED)).run(2, null, null);
    assertThat(m.counts().mergedNoOps).isPositive();
    assertThat(m.counts().total + m.counts().mergedNoOps).isEqualTo(p.counts().total);
    assertThat(merged.count().mergedNoOps).as("-d counts the same").isEqualTo(m.counts().mergedNoOps);
    assertThat(m.counts().mergedRedoTwins).isPositive().isLessThanOrEqualTo(m.counts().mergedNoOps)
        .isEqualTo(merged.count().mergedRedoTwins);
    assertThat(m.counts().refTotal).isEqualTo(p.counts().refTotal);
    assertThat(m.best().get(0).sampleRate()).isEqualTo(p.best().get(0).sampleRate());
  }

  private static int[] firstAndLastValid(String[] tierErrors) {
    int first = -1;
    int last = -1;
    for (int t = 0; t < tierErrors.length; t++) {
      if (tierErrors[t] == null) {
        first = first < 0 ? t : first;
        last = t;
      }
    }
    return first < 0 ? new int[0] : first == last ? new int[] {first} : new int[] {first, last};
  }

  private static String differences(Object a, Object b) {
    if (!(a instanceof Map<?, ?> ma) || !(b instanceof Map<?, ?> mb)) {
      return a + " / " + b;
    }
    StringBuilder sb = new StringBuilder();
    for (Object k : ma.keySet()) {
      if (!Objects.equals(ma.get(k), mb.get(k)) && !"layers".equals(k)) {
        sb.append(k).append(": ").append(ma.get(k)).append(" vs ").append(mb.get(k)).append("; ");
      }
    }
    if (!Objects.equals(ma.get("layers"), mb.get("layers"))) {
      sb.append("layers differ");
    }
    return sb.toString();
  }

  private static boolean sameExceptCommType(Partition a, Partition b) {
    return a.ep() == b.ep() && a.es() == b.es() && a.tp() == b.tp() && a.pp() == b.pp() && a.dp() == b.dp()
        && a.dpe() == b.dpe() && a.ppint() == b.ppint() && a.batch() == b.batch()
        && a.recompute() == b.recompute() && a.sharding() == b.sharding() && a.commType() != b.commType();
  }

  /** The stats as written (every key, layers included), or the rejection. */
  private static Object outcome(Application app, Execution e, Hardware hw) {
    try {
      return StatsJson.toMap(Evaluator.evaluate(app, e, hw, ModelVersion.CORRECTED, true), true);
    } catch (Infeasible x) {
      return "rejected: " + x.rule() + ": " + x.getMessage();
    }
  }

  /**
   * The ranked executions, each with its sample rate, with no-op duplicates (TP comm type and
   * seq_par_ag_redo at TP 1) reduced to their first occurrence.
   */
  private static List<Map<String, Object>> distinct(List<SearchResult> ranked) {
    List<Map<String, Object>> out = new ArrayList<>();
    Set<Map<String, Object>> seen = new HashSet<>();
    for (SearchResult r : ranked) {
      Map<String, Object> key = new LinkedHashMap<>(ResultFormat.executionJson(r.execution()));
      if (NoOpKnobs.tpCommTypeHasNoEffect(r.execution().tensorPar()) && !r.execution().seqParAgRedo()) {
        key.put("tensor_par_comm_type", TpCommType.AR.jsonName);
      }
      key.put("sample_rate", r.sampleRate());
      if (seen.add(key)) {
        out.add(key);
      }
    }
    return out;
  }


  /**
   * seq_par_ag_redo at TP 1 changes the stats in the model (less stored activation, nothing to
   * re-gather), so it is no no-op duplicate and the merged space keeps it. If the model ever stops
   * storing less at TP 1, this fails and NoOpKnobs can merge it too.
   */
  @org.junit.jupiter.api.Test
  void redoAtTp1IsNotADuplicate() throws Exception {
    Application app = ApplicationReader.read(Path.of("models/megatron-126M.json"));
    SystemSpec sys = SystemReader.read(Path.of("systems/a100_80g.json"));
    SearchSpace merged = new SearchSpace(app, sys,
        SearchOptions.defaults(SearchKind.DENSE, 8, 16, Datatype.FLOAT16, 1), true);
    Hardware hw = new Hardware(sys, Datatype.FLOAT16);
    for (Partition p : merged.partitions()) {
      if (p.tp() == 1 && p.commType() == TpCommType.RS_AG) {
        PartitionPlan plan = merged.plan(p);
        assertThat(plan.prefixes()).allMatch(Prefix::seqParAgRedo);
        Prefix redo = plan.prefixes()[0];
        Prefix none = new Prefix(false, redo.dataParOverlap(), redo.tensorParOverlap(), redo.weightOffload(),
            redo.activationsOffload(), redo.optimizerOffload(), redo.fusedActivation());
        int tier = 0;
        while (plan.tierError()[tier] != null) {
          tier++;
        }
        Map<String, Object> with = StatsJson.toMap(Evaluator.evaluate(app,
            merged.execution(p, redo, plan.mbs()[0], plan.tiers()[tier]), hw, ModelVersion.CORRECTED, false), false);
        Map<String, Object> without = StatsJson.toMap(Evaluator.evaluate(app,
            merged.execution(p, none, plan.mbs()[0], plan.tiers()[tier]), hw, ModelVersion.CORRECTED, false), false);
        assertThat((Double) with.get("block_act_storage_space")).isLessThan((Double) without.get("block_act_storage_space"));
        assertThat(merged.equivalents(merged.execution(p, redo, plan.mbs()[0], plan.tiers()[tier]))).isEmpty();
        return;
      }
    }
    throw new AssertionError("no TP-1 rs_ag partition in the merged space");
  }
}
