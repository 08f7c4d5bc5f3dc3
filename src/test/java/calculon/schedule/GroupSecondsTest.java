package calculon.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.model.CommGroup;
import calculon.stats.StatField;
import calculon.stats.Stats;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;

/**
 * Each communication group's seconds land on that group's own stats keys (the reference's
 * tp_/ep_/es_ keys, llm.py:625-753, and the corrected model's cp_ ones), and the step's sums add
 * the groups in {@link CommGroup} order.
 */
class GroupSecondsTest {
  @Test
  void everyGroupWritesItsOwnKeysAndNoOther() {
    List<StatField> seen = new ArrayList<>();
    for (CommGroup g : GroupSeconds.GROUPS) {
      Stats stats = new Stats(null, null, null);
      new GroupSeconds(1.5, 0.25, 0.125, 0.0625).write(stats, g);
      StatField[] f = GroupSeconds.fields(g);
      assertThat(stats.get(f[0])).isEqualTo(1.5);
      assertThat(stats.get(f[1])).isEqualTo(0.25);
      assertThat(f[0].name()).startsWith(g.name() + "_COMM_LINK");
      assertThat(f[1].name()).startsWith(g.name() + "_COMM_EXPOSED");
      if (g == CommGroup.CP) {
        // the reference has no cp_recomm keys: CP's re-communication counts only in the totals
        assertThat(f[2]).isNull();
        assertThat(f[3]).isNull();
      } else {
        assertThat(stats.get(f[2])).isEqualTo(0.125);
        assertThat(stats.get(f[3])).isEqualTo(0.0625);
        assertThat(f[2].name()).startsWith(g.name() + "_RECOMM_LINK");
        assertThat(f[3].name()).startsWith(g.name() + "_RECOMM_EXPOSED");
      }
      // nothing else is written
      long written = Arrays.stream(StatField.values()).filter(x -> stats.get(x) != 0).count();
      assertThat(written).isEqualTo(Arrays.stream(f).filter(Objects::nonNull).count());
      Arrays.stream(f).filter(Objects::nonNull).forEach(seen::add);
    }
    assertThat(seen).doesNotHaveDuplicates().hasSize(14);
  }

  @Test
  void sumsAddTheGroupsInOrder() {
    // TP, EP, ES, CP: recompute link 1, 2, 4, 8 s; exposed 16, 32, 64, 128 s
    GroupSeconds[] groups = {
        new GroupSeconds(0, 16, 1, 0.5), new GroupSeconds(0, 32, 2, 0.25),
        new GroupSeconds(0, 64, 4, 0), new GroupSeconds(0, 128, 8, 1)};
    assertThat(GroupSeconds.recommLinkSum(groups)).isEqualTo(15);
    assertThat(GroupSeconds.recommExposedSum(groups)).isEqualTo(1.75);
    assertThat(GroupSeconds.addExposed(3, groups)).isEqualTo(243);
    // left to right, as the step adds them: 2^53 + 1 + 1 loses both ones (each a tie to even), 2^53 + (1 + 1) does not
    GroupSeconds[] order = {
        new GroupSeconds(0, 0, 0x1p53, 0), new GroupSeconds(0, 0, 1, 0),
        new GroupSeconds(0, 0, 1, 0), new GroupSeconds(0, 0, 0, 0)};
    assertThat(GroupSeconds.recommLinkSum(order)).isEqualTo(0x1p53);
  }

  @Test
  void setExposedKeepsTheLinkSeconds() {
    GroupSeconds g = new GroupSeconds(3, 2, 1, 0.5);
    g.setExposed(0.75, 0.125);
    assertThat(new double[] {g.link, g.exposed, g.recommLink, g.recommExposed})
        .containsExactly(3, 0.75, 1, 0.125);
    assertThat(g.allExposed()).isEqualTo(0.875);
  }
}
