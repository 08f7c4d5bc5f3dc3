package calculon.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/**
 * Megatron-Core's paired all-to-all overlap ({@link EpA2aOverlap}), derived by hand: one layer of
 * a forward-backward pair is four pieces, each an all-to-all beside one compute node of the other
 * microbatch ({@code TransformerLayerSchedulePlan.run}).
 */
class EpA2aOverlapTest {
  static final int F = BlockStats.FWD, B = BlockStats.BWD;

  /** [pass][ATTN, MLP] compute seconds and [pass][DISPATCH, COMBINE] all-to-all seconds. */
  static double[][] sides(double fwAttn, double fwMlp, double bwAttn, double bwMlp) {
    return new double[][] {{fwAttn, fwMlp}, {bwAttn, bwMlp}};
  }

  @Test
  void aPieceEndsWithTheLongerOfItsTransferAndItsSlowedCompute() {
    // 1.0 s of compute beside 1.5 s of transfer taking a tenth of the SMs: 0.9 s of compute done
    // by the transfer's end would need 1.0 / 0.9 = 1.11 s, so the transfer decides
    assertThat(EpA2aOverlap.piece(1.0, 1.5, 0.1)).isEqualTo(1.5);
    // 2.0 s beside 1.0 s: the first second does 0.9 s of compute, 1.1 s remains: 2.1 s
    assertThat(EpA2aOverlap.piece(2.0, 1.0, 0.1)).isCloseTo(2.1, within(1e-12));
    // no transfer: the compute alone
    assertThat(EpA2aOverlap.piece(2.0, 0, 0.1)).isEqualTo(2.0);
  }

  @Test
  void eachAllToAllHidesBehindItsOwnComputeNodeOnly() {
    // attention forward 0.9, expert forward 1.1, attention backward 2.0, expert backward 2.2;
    // every all-to-all 1.5 s, transfers taking no SMs:
    // combine_bwd | attn_fwd 0.9 -> 1.5; dispatch_fwd | mlp_bwd 2.2 -> 2.2;
    // dispatch_bwd | mlp_fwd 1.1 -> 1.5; combine_fwd | attn_bwd 2.0 -> 2.0: 7.2 s against 6.2 s
    double[][] a2a = {{1.5, 1.5}, {1.5, 1.5}};
    assertThat(EpA2aOverlap.pairExtraSeconds(sides(0.9, 1.1, 2.0, 2.2), a2a, 0)).isCloseTo(1.0, within(1e-12));
    // pooled over the layer, 6 s of transfers would hide behind 6.2 s of compute: no longer
    // assumed; with 20 of 132 SMs taken, the two long nodes grow by 1.5 * 20/132 each
    double share = 20.0 / 132;
    assertThat(EpA2aOverlap.pairExtraSeconds(sides(0.9, 1.1, 2.0, 2.2), a2a, share))
        .isCloseTo(1.0 + 2 * 1.5 * share, within(1e-12));
  }

  @Test
  void aBlockWithoutExpertsAddsNothingAndTransfersNeverCostMoreThanThemselves() {
    double[][] none = {{0, 0}, {0, 0}};
    assertThat(EpA2aOverlap.pairExtraSeconds(sides(1, 2, 3, 4), none, 0.2)).isZero();
    // compute that is all zero: the pair is its four transfers end to end
    double[][] a2a = {{0.5, 0.7}, {0.6, 0.8}};
    assertThat(EpA2aOverlap.pairExtraSeconds(sides(0, 0, 0, 0), a2a, 0.2)).isCloseTo(2.6, within(1e-12));
  }
}
