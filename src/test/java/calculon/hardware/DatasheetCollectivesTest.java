package calculon.hardware;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The datasheet system files charge NCCL's ring collectives, and their tier efficiencies are
 * published nccl-tests bus bandwidths over the link (systems/SOURCES.md, "Network collectives and
 * tier efficiencies"). A ring all-gather or reduce-scatter of B bytes among n ranks puts
 * B (n-1)/n on each rank's link, an all-reduce 2 B (n-1)/n: the factors by which nccl-tests turns
 * algorithm bandwidth into bus bandwidth (NVIDIA/nccl-tests, doc/PERFORMANCE.md).
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
   * By hand, TP 2 all-gather of a 1 GB activation on the H100 file's NVLink tier (450 GB/s per
   * direction, efficiency 0.805, latency 10 us): each rank sends its half and receives the other,
   * 0.5 GB on its link, 10 us + 0.5e9 / (450e9 x 0.805) = 1.390262 ms. The fork's [1.0, 0]
   * charged the whole 1 GB (2.788 ms at 0.8), twice the ring's bytes.
   */
  @Test
  void tp2AllGatherOnH100NvlinkMovesHalfTheBuffer() throws Exception {
    Network nvlink = tier("H100_SXM_80g_dense", 0);
    assertThat(nvlink.wireBytes(Network.Op.ALL_GATHER, 1 * GB, 2)).isCloseTo(0.5 * GB, within(1e-3));
    assertThat(nvlink.wireBytes(Network.Op.REDUCE_SCATTER, 1 * GB, 2)).isCloseTo(0.5 * GB, within(1e-3));
    assertThat(nvlink.time(Network.Op.ALL_GATHER, 1 * GB, 2))
        .isCloseTo(1e-5 + 0.5e9 / (450e9 * 0.805), within(1e-12))
        .isCloseTo(1.390262e-3, within(1e-9));
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
   * Every tier of every datasheet file charges the ring's bytes at every group size the tier
   * holds (up to 64 checked), so the time of a large collective is bytes x busbw factor / (link x
   * efficiency): what a measured busbw of link x efficiency gives.
   */
  @Test
  void everyDatasheetTierChargesTheRingAtEveryGroupSize() throws Exception {
    for (String name : DATASHEET_FILES) {
      SystemSpec spec = read(name);
      for (int t = 0; t < spec.networks().size(); t++) {
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
   * The tier efficiencies are the published busbw over the link (systems/SOURCES.md): NVLink 4,
   * the mean of 8 H200s' all-gather 361.4 and reduce-scatter 362.9 GB/s of 450; HGX B200 NVLink 5,
   * 700 of 900 (8 GPUs); GB200 NVL72, 680 of 900 (32 GPUs); 400 Gb/s InfiniBand, 48 of 50; each
   * rounded to 3 digits. GB300 takes GB200's NVLink value (no published measurement).
   */
  @Test
  void tierEfficienciesArePublishedBusBandwidthOverTheLink() throws Exception {
    double nvlink4 = round3((361.4 + 362.9) / 2 / 450);
    double[][] expected = {
        {nvlink4, 48.0 / 50}, {nvlink4, 48.0 / 50}, {nvlink4, 48.0 / 50},
        {round3(700.0 / 900), 48.0 / 50}, {round3(680.0 / 900), 48.0 / 50}, {round3(680.0 / 900), 48.0 / 50}};
    for (int i = 0; i < DATASHEET_FILES.size(); i++) {
      SystemSpec spec = read(DATASHEET_FILES.get(i));
      assertThat(spec.networks()).hasSize(2);
      for (int t = 0; t < 2; t++) {
        assertThat(spec.networks().get(t).efficiency()).as("%s tier %d", DATASHEET_FILES.get(i), t)
            .isCloseTo(expected[i][t], within(1e-12));
      }
    }
    assertThat(nvlink4).isEqualTo(0.805);
  }

  static double round3(double x) {
    return Math.round(x * 1000) / 1000.0;
  }
}
