package calculon.search;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Datatype;
import calculon.config.PipelineScheduleKind;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.ModelVersion;
import calculon.schedule.Evaluator;
import calculon.stats.StatField;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The searches' pipeline-schedule axis ({@code --pipeline-schedules}): the corrected model's
 * schedules beside each pipelined split's Calculon schedule, the reference's space untouched.
 */
class PipelineScheduleSearchTest {

  static SearchSpace space(boolean schedules) throws Exception {
    Application app = ApplicationReader.read(Path.of("models/megatron-1T.json"));
    SystemSpec sys = SystemReader.read(Path.of("systems/a100_80g.json"));
    SearchOptions o = SearchOptions.defaults(SearchKind.DENSE, 5128, 2520, Datatype.FLOAT16, 0).withMbsBreak(true);
    return new SearchSpace(app, sys, o, true, schedules);
  }

  @Test
  void theScheduleAxisAddsPartitionsThatStandForNoReferenceTask() throws Exception {
    SearchSpace plain = space(false), withSchedules = space(true);
    assertThat(withSchedules.referenceTaskCount()).isEqualTo(plain.referenceTaskCount()).isEqualTo(594);
    assertThat(withSchedules.count().refTotal).isEqualTo(plain.count().refTotal);
    Set<PipelineScheduleKind> seen = EnumSet.noneOf(PipelineScheduleKind.class);
    for (Partition p : withSchedules.partitions()) {
      if (p.schedule() != null) {
        seen.add(p.schedule());
        assertThat(p.pp()).isGreaterThan(1);
        assertThat(p.referenceTasks()).isZero();
        assertThat(p.schedule().violation(p.ppint(), p.pp(), 2 * p.pp())).isNull();
      }
    }
    assertThat(seen).containsExactlyInAnyOrder(PipelineScheduleKind.ZB_H1, PipelineScheduleKind.ZB_V,
        PipelineScheduleKind.DUALPIPE, PipelineScheduleKind.DUALPIPE_V);
    assertThat(plain.partitions()).allMatch(p -> p.schedule() == null);
  }

  @Test
  void aZbH1ExecutionOfTheSpaceBeatsItsOneFOneBTwin() throws Exception {
    SearchSpace s = space(true);
    Application app = s.application();
    Hardware hw = new Hardware(s.system(), Datatype.FLOAT16);
    // the first pipelined split with one chunk per stage that fits in memory (first tier
    // assignment and offload/overlap prefix that do), under 1F1B and under ZB-H1
    calculon.stats.Stats a = null, b = null;
    for (Partition oneF : s.partitions()) {
      if (a != null) {
        break;
      }
      if (!(oneF.pp() > 1 && oneF.ppint() == 1 && oneF.schedule() == null)) {
        continue;
      }
      Partition zb = s.partitions().stream().filter(p -> p.schedule() == PipelineScheduleKind.ZB_H1
          && p.pp() == oneF.pp() && p.tp() == oneF.tp() && p.recompute() == oneF.recompute()
          && p.sharding() == oneF.sharding() && p.commType() == oneF.commType()).findFirst().orElse(null);
      if (zb == null) {
        continue;
      }
      PartitionPlan plan = s.plan(oneF);
      int[] tiers = null;
      for (int ti = 0; ti < plan.tiers().length; ti++) {
        if (plan.tierError()[ti] == null) {
          tiers = plan.tiers()[ti];
          break;
        }
      }
      if (tiers == null) {
        continue;
      }
      for (var prefix : plan.prefixes()) {
        try {
          a = Evaluator.evaluate(app, s.execution(oneF, prefix, 1, tiers), hw, ModelVersion.CORRECTED, false);
        } catch (calculon.model.Infeasible e) {
          continue;
        }
        b = Evaluator.evaluate(app, s.execution(zb, prefix, 1, tiers), hw, ModelVersion.CORRECTED, false);
        break;
      }
    }
    assertThat(a).as("a feasible pipelined split").isNotNull();
    assertThat(b.get(StatField.BUBBLE_TIME)).isLessThan(a.get(StatField.BUBBLE_TIME));
    assertThat(b.get(StatField.PROC_MEM_TIER1_CAP_REQ)).isEqualTo(a.get(StatField.PROC_MEM_TIER1_CAP_REQ));
  }
}
