package calculon.search;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Datatype;
import calculon.config.LayerOptions;
import calculon.model.Infeasible;
import calculon.stats.Stats;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An interrupted search's counts are those of what it searched, the reference-equivalent ones as
 * much as the distinct ones: the "Reference-equivalent executions" line of an interrupted search
 * is not the planned space's count (that is {@code -d}'s), but the sum over the partitions it
 * searched, each as a search of that partition alone counts it (docs/search.md, "Interrupts and
 * progress").
 */
class InterruptedCountsTest {
  @Test
  void anInterruptedSearchCountsThePartitionsItSearchedOnly() throws Exception {
    Application small = ApplicationReader.read(Path.of("models/megatron-126M.json"));
    SystemSpec a100 = SystemReader.read(Path.of("systems/a100_80g.json"));
    SearchSpace space = new SearchSpace(small, a100,
        SearchOptions.defaults(SearchKind.DENSE, 4, 4, Datatype.FLOAT16, 1).withTopN(3));
    List<Partition> parts = space.partitions();
    assertThat(parts.size()).as("partitions to interrupt between").isGreaterThanOrEqualTo(4);
    int last = parts.size() / 2 - 1;
    Search.Outcome cut = interruptedAfter(space, a100, last);
    assertThat(cut.interrupted()).isTrue();
    assertThat(cut.partitionsDone()).isEqualTo(last + 1);

    Counts searched = new Counts();
    PartitionRunner alone = new PartitionRunner(space, new FakeModel(a100), true);
    for (int i = 0; i <= last; i++) {
      searched.add(alone.run(parts.get(i), false, null, () -> false).counts());
    }
    Counts full = new Search(space, new FakeModel(a100)).run(1, null, null).counts();
    Counts c = cut.counts();
    assertThat(c.refTotal).isPositive().isEqualTo(searched.refTotal).isLessThan(full.refTotal);
    assertThat(c.refGood).isEqualTo(searched.refGood);
    assertThat(c.refBad).isEqualTo(searched.refBad);
    assertThat(c.refUnevaluated).isEqualTo(searched.refUnevaluated);
    assertThat(c.refGood + c.refBad + c.refUnevaluated).isEqualTo(c.refTotal);
    assertThat(c.total).isPositive().isEqualTo(searched.total).isLessThan(full.total);
    assertThat(c.good).isEqualTo(searched.good);
    assertThat(c.bad).isEqualTo(searched.bad);
    assertThat(c.mergedNoOps).isEqualTo(searched.mergedNoOps);
  }

  /**
   * One thread searches {@code space} and is cancelled (a Ctrl-C) as it hands over partition
   * {@code last}, so it takes no further partition.
   */
  private static Search.Outcome interruptedAfter(SearchSpace space, SystemSpec sys, int last) throws Exception {
    Search search = new Search(space, new FakeModel(sys));
    return search.run(1, (p, results, partial) -> {
      if (p.index() == last) {
        search.cancel();
      }
    }, null);
  }

  /** megatron-126M on 4 A100s in the corrected model's space, where the TP-1 no-op duplicates are merged. */
  private static SearchSpace mergingSpace() throws Exception {
    Application small = ApplicationReader.read(Path.of("models/megatron-126M.json"));
    SystemSpec a100 = SystemReader.read(Path.of("systems/a100_80g.json"));
    return new SearchSpace(small, a100, SearchOptions.defaults(SearchKind.DENSE, 4, 4, Datatype.FLOAT16, 1)
        .withTopN(3), true, LayerOptions.DEFAULTS, SpaceAxes.correctedDefaults(false));
  }

  /**
   * The merged no-op duplicates of a search interrupted between partitions are those of the
   * partitions it searched, as the planned count ({@code -d}, {@link SearchSpace#countInto}) of
   * those partitions has them, not the whole space's: at TP 1 the three TP comm types run alike,
   * so each execution counted at ar's place stands for 2 merged ones (more merged than counted
   * can follow when the searched partitions are mostly TP 1, as the first ones are).
   */
  @Test
  void theMergedDuplicatesOfAnInterruptedSearchAreThoseOfThePartitionsItSearched() throws Exception {
    SearchSpace space = mergingSpace();
    SystemSpec a100 = space.system();
    List<Partition> parts = space.partitions();
    int last = parts.size() / 2 - 1;
    Search.Outcome cut = interruptedAfter(space, a100, last);
    assertThat(cut.partitionsDone()).isEqualTo(last + 1);
    assertThat(cut.partitionsCutShort()).isZero();

    Counts planned = new Counts();
    long mergingTotal = 0;  // executions of the TP-1 partitions that stand for their 2 twins
    for (int i = 0; i <= last; i++) {
      Counts one = new Counts();
      space.countInto(space.plan(parts.get(i)), one);
      planned.add(one);
      Partition p = parts.get(i);
      // TP 1 keeps ar's place for the 3 comm types (2 merged), and rs_ag's redo variants (0)
      assertThat(p.noOpCopies()).isEqualTo(p.tp() == 1 && p.commType() == calculon.config.TpCommType.AR ? 2 : 0);
      mergingTotal += p.noOpCopies() == 2 ? one.total : 0;
    }
    Counts full = space.count();
    Counts c = cut.counts();
    assertThat(c.total).isEqualTo(planned.total);
    assertThat(c.mergedNoOps).isPositive().isEqualTo(planned.mergedNoOps).isLessThan(full.mergedNoOps);
    assertThat(c.mergedRedoTwins).isEqualTo(planned.mergedRedoTwins).isZero();
    assertThat(c.mergedNoOps).isEqualTo(2 * mergingTotal);
  }

  /**
   * A search stopped inside a partition counts that partition's blocks done, merged duplicates
   * included, and says it searched it in part: here the first partition (TP 1, whose 3 TP comm
   * types are one execution and 2 merged) stopped after its first microbatch block.
   */
  @Test
  void aPartitionCutShortCountsItsMergedDuplicatesUpToTheStop() throws Exception {
    SearchSpace space = mergingSpace();
    Partition first = space.partitions().get(0);
    assertThat(first.tp()).isEqualTo(1);
    assertThat(first.noOpCopies()).isEqualTo(2);
    FakeModel model = new FakeModel(space.system());
    Search[] search = new Search[1];
    // a Ctrl-C during the first evaluation: the runner stops before the partition's next block
    search[0] = new Search(space, new ExecutionEvaluator() {
      @Override
      public Stats evaluate(calculon.config.Execution exe, boolean withLayers) throws Infeasible {
        search[0].cancel();
        return model.evaluate(exe, withLayers);
      }
    });
    Search.Outcome cut = search[0].run(1, null, null);
    assertThat(cut.interrupted()).isTrue();
    assertThat(cut.partitionsDone()).isZero();
    assertThat(cut.partitionsCutShort()).isEqualTo(1);
    Counts alone = new Counts();
    space.countInto(space.plan(first), alone);
    Counts c = cut.counts();
    assertThat(c.total).isPositive().isLessThan(alone.total);
    assertThat(c.mergedNoOps).isEqualTo(2 * c.total);
  }

  /**
   * The reference-equivalent counts come only from the partitions that stand for reference
   * executions, and an interrupted search says how many of those it reached. megatron-126M on 4
   * A100s, corrected axes (ZeRO stages 0 to 3; seq 2048 leaves no CP): 191 partitions. Where DP
   * &gt; 1 every (recompute, TP comm type) has one partition per ZeRO stage, and stages 2 and 3
   * stand for none: at TP 1 (DP 4, and DP 2 with PP 2 at interleavings 1, 2, 3, 6) 20 partitions
   * each, 10 of them reference ones (full recompute: ar at stages 0 to 3; attention-only and none:
   * ar and rs_ag's redo variant at each stage); TP 2 DP 2: 3 recomputes x 4 stages x 3 comm
   * types = 36, 18 reference; the DP-1 splits (TP 1 PP 4 at 2 interleavings, 5 each; TP 2 PP 2 at
   * 4, 9 each; TP 4, 9) have stage 0 only, all 55 reference: 5 x 10 + 18 + 55 = 123 of
   * 5 x 20 + 36 + 55 = 191. Stopped after the first 20 (TP 1 PP 1 DP 4), it reached 10.
   */
  @Test
  void anInterruptedSearchCountsTheReferencePartitionsItReached() throws Exception {
    SearchSpace space = mergingSpace();
    List<Partition> parts = space.partitions();
    assertThat(parts).hasSize(191);
    assertThat(parts.stream().filter(Partition::standsForReference).count()).isEqualTo(123);
    Search.Outcome cut = interruptedAfter(space, space.system(), 19);
    assertThat(cut.partitionsDone()).isEqualTo(20);
    assertThat(cut.partitionsTotal()).isEqualTo(191);
    assertThat(cut.referencePartitionsDone()).isEqualTo(10);
    assertThat(cut.referencePartitionsTotal()).isEqualTo(123);
    assertThat(cut.referencePartitionsCutShort()).isZero();
    // and those 10 are where the reference-equivalent count comes from: the other 10 add nothing
    PartitionRunner alone = new PartitionRunner(space, new FakeModel(space.system()), true);
    long fromReference = 0;
    for (int i = 0; i < 20; i++) {
      long ref = alone.run(parts.get(i), false, null, () -> false).counts().refTotal;
      if (parts.get(i).standsForReference()) {
        assertThat(ref).as("partition " + i).isPositive();
      } else {
        assertThat(ref).as("partition " + i + " (ZeRO " + parts.get(i).zeroStage() + ")").isZero();
      }
      fromReference += ref;
    }
    assertThat(cut.counts().refTotal).isEqualTo(fromReference);
  }
}
