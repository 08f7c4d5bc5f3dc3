package calculon.search;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.Application;
import calculon.config.ConfigReader;
import calculon.config.Datatype;
import calculon.config.PipelineScheduleKind;
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
    Application app = ConfigReader.readApplication(Path.of("models/megatron-1T.json"));
    SystemSpec sys = ConfigReader.readSystem(Path.of("systems/a100_80g.json"));
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
    // the first pipelined split with one chunk per stage, under 1F1B and under ZB-H1
    Partition oneF = s.partitions().stream().filter(p -> p.pp() > 1 && p.ppint() == 1 && p.schedule() == null)
        .findFirst().orElseThrow();
    Partition zb = s.partitions().stream().filter(p -> p.schedule() == PipelineScheduleKind.ZB_H1
        && p.pp() == oneF.pp() && p.tp() == oneF.tp() && p.recompute() == oneF.recompute()
        && p.sharding() == oneF.sharding() && p.commType() == oneF.commType()).findFirst().orElseThrow();
    PartitionPlan plan = s.plan(oneF);
    int[] tiers = plan.tiers()[0];
    for (int ti = 0; ti < plan.tiers().length; ti++) {
      if (plan.tierError()[ti] == null) {
        tiers = plan.tiers()[ti];
        break;
      }
    }
    var a = Evaluator.evaluate(app, s.execution(oneF, plan.prefixes()[0], 1, tiers), hw, ModelVersion.CORRECTED, false);
    var b = Evaluator.evaluate(app, s.execution(zb, plan.prefixes()[0], 1, tiers), hw, ModelVersion.CORRECTED, false);
    assertThat(b.get(StatField.BUBBLE_TIME)).isLessThan(a.get(StatField.BUBBLE_TIME));
    assertThat(b.get(StatField.PROC_MEM_TIER1_CAP_REQ)).isEqualTo(a.get(StatField.PROC_MEM_TIER1_CAP_REQ));
  }
}
