package calculon.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The memory rejection of a pipeline names the stage that needs the most, not the first that fails. */
class LargestStageMessageTest {
  private static final double GIB = 1024.0 * 1024 * 1024;

  @Test
  void namesTheLargestStageAndCountsThoseOverCapacity() {
    double[] need = {120.5 * GIB, 138.25 * GIB, 50 * GIB, 80 * GIB};
    assertThat(StageMemory.largestStageMessage(1, need, 80 * GIB)).isEqualTo("Mem tier1 needs 138.250 GiB but only "
        + "has 80.000 GiB on pipeline stage 1 of 0-3, the stage that needs the most (2 of the 4 stages do not fit)");
  }

  @Test
  void theFirstStageWhenItIsTheLargestAndTierTwo() {
    double[] need = {300 * GIB, 257 * GIB};
    assertThat(StageMemory.largestStageMessage(2, need, 256 * GIB)).isEqualTo("Mem tier2 needs 300.000 GiB but only "
        + "has 256.000 GiB on pipeline stage 0 of 0-1, the stage that needs the most (2 of the 2 stages do not fit)");
  }

  /** One stage over capacity of four: the count takes the singular verb. */
  @Test
  void oneStageOverSaysDoesNotFit() {
    double[] need = {90 * GIB, 70 * GIB, 60 * GIB, 50 * GIB};
    assertThat(StageMemory.largestStageMessage(1, need, 80 * GIB)).isEqualTo("Mem tier1 needs 90.000 GiB but only "
        + "has 80.000 GiB on pipeline stage 0 of 0-3, the stage that needs the most (1 of the 4 stages does not fit)");
  }

  /** The reference's message, which calculon-moe keeps (golden parity compares it). */
  @Test
  void overCapacityIsTheReferencesMessage() {
    assertThat(StageMemory.overCapacity(1, 119.885 * GIB, 80 * GIB))
        .isEqualTo("Mem tier1 needs 119.885 GiB but only has 80.000 GiB");
  }
}
