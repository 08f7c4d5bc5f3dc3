package calculon.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.config.Datatype;
import calculon.config.MoeDispatcher;
import calculon.config.SystemSpec;
import calculon.hardware.Network;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The corrected model's expert exchange across tiers, by hand: two tiers with no latency, unit
 * efficiency and plain ops, so each transfer takes bytes / bandwidth.
 */
class ExpertDispatchTest {
  static final double GB = 1e9;

  static Network tier(int index, double gbps) {
    SystemSpec.OpSpec plain = new SystemSpec.OpSpec(1.0, null, null);
    SystemSpec.OpSpec collective = new SystemSpec.OpSpec(1.0, 0.0, null);
    return new Network(index, new SystemSpec.NetworkSpec(gbps, 1.0, 1024, 0.0,
        Map.of("p2p", plain, "all_to_all", plain, "reduce_scatter", collective, "all_gather", collective,
            "all_reduce", collective), false, 0.0));
  }

  static final Network NVLINK = tier(0, 400), IB = tier(1, 50);

  static double[] run(ExpertDispatch d, double bytes, boolean dispatch, boolean forward) {
    double[] t = new double[2];
    d.seconds(bytes, 2, dispatch, forward, t);
    return t;
  }

  @Test
  void trafficToPeersInTheSendersDomainCrossesTierZero() {
    // EP 8, 4 per domain, top-2, 8 GB per rank: 3/8 of it (3 GB) to the 3 domain peers over
    // tier 0, 4/8 (4 GB) to the 4 others over tier 1, at the same time
    ExpertDispatch d = new ExpertDispatch(NVLINK, IB, 8, 4, 2, 0, MoeDispatcher.ALLTOALL, null);
    double[] t = run(d, 8 * GB, true, true);
    assertThat(t[0]).isCloseTo(3 * GB / (400 * GB), within(1e-12));
    assertThat(t[1]).isCloseTo(4 * GB / (50 * GB), within(1e-12));
  }

  @Test
  void nodeLimitedRoutingSendsATokenOnceToEachRemoteDomainAndFansItOutThere() {
    // top-8, EP 8 in 2 domains of 4: 4 of a token's 8 copies are remote; at most 1 remote domain
    // (M = 1): 1 copy crosses tier 1, the other 3 fan out over tier 0 on the far side, beside the
    // 3 local copies: 6 copies of 1 GB over 3 tier-0 transfers, 1 GB over 4 tier-1 transfers
    ExpertDispatch d = new ExpertDispatch(NVLINK, IB, 8, 4, 8, 1, MoeDispatcher.ALLTOALL, null);
    double[] t = run(d, 8 * GB, true, true);
    assertThat(t[0]).isCloseTo(6 * GB / (400 * GB), within(1e-12));
    assertThat(t[1]).isCloseTo(1 * GB / (50 * GB), within(1e-12));
    // a limit above the domains there are changes nothing
    ExpertDispatch loose = new ExpertDispatch(NVLINK, IB, 8, 4, 2, 4, MoeDispatcher.ALLTOALL, null);
    assertThat(run(loose, 8 * GB, true, true)).containsExactly(
        run(new ExpertDispatch(NVLINK, IB, 8, 4, 2, 0, MoeDispatcher.ALLTOALL, null), 8 * GB, true, true));
  }

  @Test
  void anFp8DispatchHalvesTheForwardDispatchOnlyOfABf16Run() {
    ExpertDispatch fp8 = new ExpertDispatch(NVLINK, IB, 8, 4, 2, 0, MoeDispatcher.ALLTOALL, Datatype.FLOAT8);
    ExpertDispatch bf16 = new ExpertDispatch(NVLINK, IB, 8, 4, 2, 0, MoeDispatcher.ALLTOALL, null);
    assertThat(run(fp8, 8 * GB, true, true)[1]).isCloseTo(run(bf16, 8 * GB, true, true)[1] / 2, within(1e-12));
    assertThat(run(fp8, 8 * GB, false, true)).containsExactly(run(bf16, 8 * GB, false, true));
    assertThat(run(fp8, 8 * GB, true, false)).containsExactly(run(bf16, 8 * GB, true, false));
  }

  @Test
  void aGroupInsideOneDomainStaysOnTierZero() {
    ExpertDispatch d = new ExpertDispatch(NVLINK, IB, 8, 8, 2, 0, MoeDispatcher.ALLTOALL, null);
    double[] t = run(d, 8 * GB, true, true);
    // the reference's pairwise form: 7 chunks of 1 GB
    assertThat(t[0]).isCloseTo(7 * GB / (400 * GB), within(1e-12));
    assertThat(t[1]).isZero();
  }

  @Test
  void theAllGatherDispatcherGathersTheGroupsTokensOnTheEpTier() {
    // 8 GB of top-2 copies = 4 GB of tokens per rank, 32 GB gathered; an all-gather without
    // offset moves the whole 32 GB at the tier's bandwidth in this network model
    ExpertDispatch d = new ExpertDispatch(NVLINK, IB, 8, 4, 2, 0, MoeDispatcher.ALLGATHER, null);
    double[] t = run(d, 8 * GB, true, true);
    assertThat(t[0]).isZero();
    assertThat(t[1]).isCloseTo(IB.time(Network.Op.ALL_GATHER, 32 * GB, 8), within(1e-12));
    assertThat(run(d, 8 * GB, false, true)[1]).isCloseTo(IB.time(Network.Op.REDUCE_SCATTER, 32 * GB, 8), within(1e-12));
  }

  @Test
  void theFlexDispatcherSendsATokenOnceToEachRemoteDomainItUses() {
    // EP 8 in 2 domains of 4, 8 experts (4 per domain), top-2: the remote domain holds none of a
    // token's 2 experts with probability C(4,2)/C(8,2) = 3/14, so 11/14 sends per token cross
    // tier 1 instead of 2 x 4/8 = 1 copy; the 3/14 copy saved is forwarded over tier 0 there,
    // beside the 2 x 3/8 local copies. 8 GB of copies = 4 GB per copy per token.
    ExpertDispatch d = new ExpertDispatch(NVLINK, IB, 8, 4, 2, 0, MoeDispatcher.FLEX, null, 8);
    double[] t = run(d, 8 * GB, true, true);
    assertThat(t[1]).isCloseTo(4 * GB * 11 / 14 / (50 * GB), within(1e-12));
    assertThat(t[0]).isCloseTo(4 * GB * (0.75 + 3.0 / 14) / (400 * GB), within(1e-12));
    // Qwen3-235B over EP 32 on 4 nodes: 128 experts, 32 per node, top-8: 3 (1 - prod_{i<8}
    // (96 - i)/(128 - i)) = 2.7218 remote nodes per token instead of 8 x 24/32 = 6 copies
    assertThat(ExpertDispatch.expectedRemoteDomains(128, 8, 32, 8)).isCloseTo(2.7217582, within(1e-6));
    // inside one domain nothing changes
    assertThat(run(new ExpertDispatch(NVLINK, IB, 8, 8, 2, 0, MoeDispatcher.FLEX, null, 8), 8 * GB, true, true))
        .containsExactly(run(new ExpertDispatch(NVLINK, IB, 8, 8, 2, 0, MoeDispatcher.ALLTOALL, null), 8 * GB, true, true));
  }
}
