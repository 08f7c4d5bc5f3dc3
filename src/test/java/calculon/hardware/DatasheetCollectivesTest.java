package calculon.hardware;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The datasheet system files' scale-out tier (tier 1, one 400 Gb/s InfiniBand NDR port per GPU, or
 * GB300's 800 Gb/s) charges NCCL's ring collectives at the published bus bandwidth
 * (systems/SOURCES.md, "Network collectives and tier efficiencies"). A ring all-gather or
 * reduce-scatter of B bytes among n ranks puts B (n-1)/n on each rank's link, an all-reduce
 * 2 B (n-1)/n: the factors by which nccl-tests turns algorithm bandwidth into bus bandwidth
 * (NVIDIA/nccl-tests, doc/PERFORMANCE.md). The NVLink tier (tier 0) still carries the fork's op
 * values and 0.8; SOURCES.md says why it was not changed with it.
 */
class DatasheetCollectivesTest {
  static final double GB = 1e9;

  static final List<String> DATASHEET_FILES = List.of("H100_SXM_80g_dense", "H100_SXM_96g_hbm2e_dense",
      "H200_SXM_141g_dense", "B200_HGX_180g_dense", "GB200_NVL72_186g_dense", "GB300_NVL72_288g_dense");

  static SystemSpec read(String name) throws Exception {
    return SystemReader.read(Path.of("systems", name + ".json"));
  }

  static Network tier(String name, int index) throws Exception {
    return new Network(index, read(name).networks().get(index));
  }

  /**
   * By hand, a DP 64 all-reduce of 2 GB of gradients over the H100 file's InfiniBand tier (50 GB/s,
   * efficiency 0.96, 20 us): the ring's reduce-scatter and all-gather each put 63/64 of the buffer
   * on the port, 2 x 2 x 63/64 = 3.9375 GB, 20 us + 3.9375e9 / (50e9 x 0.96) = 82.051 ms. The
   * fork's [1.0, 0] charged 2 GB, about half.
   */
  @Test
  void dp64AllReduceOnH100InfiniBandMovesTwiceTheRingShare() throws Exception {
    Network ib = tier("H100_SXM_80g_dense", 1);
    assertThat(ib.wireBytes(Network.Op.ALL_REDUCE, 2 * GB, 64)).isCloseTo(3.9375 * GB, within(1e-3));
    assertThat(ib.time(Network.Op.ALL_REDUCE, 2 * GB, 64)).isCloseTo(2e-5 + 3.9375e9 / 48e9, within(1e-12))
        .isCloseTo(82.05125e-3, within(1e-12));
  }

  /**
   * The scale-out tier of every datasheet file charges the ring's bytes at every group size (up to
   * 64 checked), so the time of a large collective is bytes x busbw factor / (link x efficiency):
   * what a measured busbw of link x efficiency gives.
   */
  @Test
  void everyDatasheetScaleOutTierChargesTheRingAtEveryGroupSize() throws Exception {
    for (String name : DATASHEET_FILES) {
      SystemSpec spec = read(name);
      for (int t = 1; t < spec.networks().size(); t++) {
        Network net = new Network(t, spec.networks().get(t));
        for (int n = 2; n <= Math.min(64, net.size()); n++) {
          double ring = (n - 1.0) / n;
          assertThat(net.wireBytes(Network.Op.ALL_GATHER, GB, n)).as("%s tier %d AG n=%d", name, t, n)
              .isCloseTo(ring * GB, within(1e-3));
          assertThat(net.wireBytes(Network.Op.REDUCE_SCATTER, GB, n)).as("%s tier %d RS n=%d", name, t, n)
              .isCloseTo(ring * GB, within(1e-3));
          assertThat(net.wireBytes(Network.Op.ALL_REDUCE, GB, n)).as("%s tier %d AR n=%d", name, t, n)
              .isCloseTo(2 * ring * GB, within(1e-3));
        }
      }
    }
  }

  /**
   * The scale-out tier's efficiency is the published busbw over the link (systems/SOURCES.md):
   * 400 Gb/s InfiniBand, 48 of 50 GB/s (NVIDIA GTC24 S62129); GB300's 800 Gb/s ConnectX-8 takes
   * the same fraction (no published measurement). The NVLink tier keeps the fork's 0.8.
   */
  @Test
  void scaleOutEfficiencyIsPublishedBusBandwidthOverTheLink() throws Exception {
    for (String name : DATASHEET_FILES) {
      SystemSpec spec = read(name);
      assertThat(spec.networks()).hasSize(2);
      assertThat(spec.networks().get(1).efficiency()).as(name).isCloseTo(48.0 / 50, within(1e-12));
      assertThat(spec.networks().get(0).efficiency()).as(name).isEqualTo(0.8);
    }
  }

}
