package calculon.search;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Datatype;
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
    // a Ctrl-C as the search hands over partition `last`: one thread takes no further partition
    Search search = new Search(space, new FakeModel(a100));
    Search.Outcome cut = search.run(1, (p, results, partial) -> {
      if (p.index() == last) {
        search.cancel();
      }
    }, null);
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
}
