package calculon.hardware;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.Datatype;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.config.SystemSpec.ComputeRate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Hopper datasheet files' matrix efficiency curves below 128 GFLOP are the medians of OpenXLA's
 * measured sm_90 bf16 matmul table (systems/measurements/xla_sm90_bf16_matmul.csv; provenance in
 * systems/SOURCES.md, "Matrix efficiency curves"), binned by operation size; the top pair stays
 * the MAMF measurement 0.803. Float8 keeps each file's own measured top and takes the bf16
 * curve's ratios to its top (an assumption, no FP8 table).
 */
class HopperGemmCurveTest {
  static final Path TABLE = Path.of("systems/measurements/xla_sm90_bf16_matmul.csv");
  static final List<String> HOPPER_FILES =
      List.of("H100_SXM_80g_dense", "H100_SXM_96g_hbm2e_dense", "H200_SXM_141g_dense");
  /** H100 SXM dense BF16 peak (TFLOP/s x 1e12): the table's FLOP/s are fractions of it. */
  static final double H100_SXM_BF16_PEAK_FLOPS = 989.4e12;
  /** Curve thresholds in GFLOP, high to low; the first (128) is MAMF's, not the table's. */
  static final double[] THRESHOLDS_GFLOP = {128, 64, 32, 16, 8, 4, 2, 1, 0.25, 0};
  /** S. Bekman's brute-force MAMF on H100 SXM (systems/SOURCES.md). */
  static final double MAMF_TOP = 0.803;

  static double round3(double x) {
    return Math.round(x * 1000) / 1000.0;
  }

  static double median(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  /** Per threshold below the top, the table's median efficiency over [threshold, next higher threshold). */
  static double[] tableMedians() throws Exception {
    List<List<Double>> bins = new ArrayList<>();
    for (int i = 0; i < THRESHOLDS_GFLOP.length; i++) {
      bins.add(new ArrayList<>());
    }
    List<String> lines = Files.readAllLines(TABLE);
    assertThat(lines.get(0)).isEqualTo("b,m,n,k,bf16_flops_per_second");
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",");
      double gflop = 2.0 * Long.parseLong(f[0]) * Long.parseLong(f[1]) * Long.parseLong(f[2])
          * Long.parseLong(f[3]) / 1e9;
      double efficiency = Double.parseDouble(f[4]) / H100_SXM_BF16_PEAK_FLOPS;
      for (int i = 0; i < THRESHOLDS_GFLOP.length; i++) {
        if (gflop >= THRESHOLDS_GFLOP[i]) {
          bins.get(i).add(efficiency);
          break;
        }
      }
    }
    assertThat(bins.stream().mapToInt(List::size).sum()).as("sm_90 entries").isEqualTo(375);
    double[] medians = new double[THRESHOLDS_GFLOP.length];
    for (int i = 0; i < medians.length; i++) {
      medians[i] = median(bins.get(i));
    }
    return medians;
  }

  /** The curve the files must carry for bfloat16, float16 and float32 (TF32). */
  static double[] expected16BitCurve() throws Exception {
    double[] medians = tableMedians();
    double[] curve = new double[medians.length];
    curve[0] = MAMF_TOP;
    for (int i = 1; i < curve.length; i++) {
      curve[i] = round3(medians[i]);
    }
    return curve;
  }

  /**
   * By hand, the smallest bin [0, 0.25) GFLOP: 15 shapes (1x256x256x256 is 0.034 GFLOP, the 4
   * shapes of 0.067 and the 10 of 0.134 GFLOP); sorted by FLOP/s the 8th is b=1, 512x512x256 at
   * 21.620 TFLOP/s, 21.620e12 / 989.4e12 = 0.02185, 0.022. The largest bin (15 shapes of 137 to
   * 550 GFLOP) has median 0.7875, below MAMF's brute-force 0.803, which the top keeps.
   */
  @Test
  void tableMediansPerBin() throws Exception {
    double[] medians = tableMedians();
    assertThat(medians[9]).isEqualTo(21620123711340.0 / H100_SXM_BF16_PEAK_FLOPS);
    assertThat(Arrays.stream(medians).map(HopperGemmCurveTest::round3).toArray())
        .containsExactly(0.787, 0.738, 0.72, 0.605, 0.467, 0.339, 0.219, 0.14, 0.072, 0.022);
  }

  @Test
  void sixteenBitAndTf32CurvesAreTheTableMediansUnderTheMamfTop() throws Exception {
    double[] expected = expected16BitCurve();
    for (String name : HOPPER_FILES) {
      SystemSpec spec = SystemReader.read(Path.of("systems", name + ".json"));
      for (Datatype dt : List.of(Datatype.BFLOAT16, Datatype.FLOAT16, Datatype.FLOAT32)) {
        ComputeRate rate = spec.matrix().get(dt);
        assertThat(rate.gflopsThresholds()).as("%s %s thresholds", name, dt).containsExactly(THRESHOLDS_GFLOP);
        assertThat(rate.efficiencies()).as("%s %s efficiencies", name, dt).containsExactly(expected);
      }
    }
  }

  /**
   * Float8 keeps each file's measured top and scales the 16-bit curve (its 3-decimal values) by
   * top / 0.803. The H100's 4 GFLOP pair: 0.339 / 0.803 x 0.709 = 0.2993, 0.299. The rounded value
   * is what is scaled: the H200's 64 GFLOP pair is 0.738 / 0.803 x 0.734 = 0.6746, 0.675 (the
   * unrounded median 0.7379 would give 0.674).
   */
  @Test
  void float8CurvesScaleThe16BitCurveToTheirOwnTop() throws Exception {
    double[] bf16 = expected16BitCurve();
    for (String name : HOPPER_FILES) {
      ComputeRate fp8 = SystemReader.read(Path.of("systems", name + ".json")).matrix().get(Datatype.FLOAT8);
      assertThat(fp8.gflopsThresholds()).as("%s float8 thresholds", name).containsExactly(THRESHOLDS_GFLOP);
      double top = fp8.efficiencies()[0];
      double[] expected = Arrays.stream(bf16).map(e -> round3(e / MAMF_TOP * top)).toArray();
      assertThat(fp8.efficiencies()).as("%s float8 efficiencies", name).containsExactly(expected);
    }
    assertThat(SystemReader.read(Path.of("systems/H100_SXM_80g_dense.json")).matrix().get(Datatype.FLOAT8)
        .efficiencies()[5]).isEqualTo(0.299);
  }

  /** The curve is a step: a 5 GFLOP matmul on the H100 gets the [4, 8) median, 0.339 of 989.4 TFLOP/s. */
  @Test
  void fiveGflopMatmulRunsAtTheFourGflopStep() throws Exception {
    Processor bf16 = new Processor(SystemReader.read(Path.of("systems/H100_SXM_80g_dense.json"))
        .matrix().get(Datatype.BFLOAT16));
    assertThat(bf16.efficiency(5e9)).isEqualTo(0.339);
    assertThat(bf16.efficiency(4e9)).isEqualTo(0.339);
    assertThat(bf16.efficiency(3.999e9)).isEqualTo(0.219);
  }
}
