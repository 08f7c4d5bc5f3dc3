package calculon.hardware;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The 500 W HBM2e H100 (systems/H100_SXM_96g_hbm2e_dense.json, the part of TorchTitan's published
 * benchmarks) runs compute-bound kernels at the H100 SXM's rates times the ratio one labelled
 * measurement gives (systems/SOURCES.md, "Achieved rates at the 500 W power limit"): FBGEMM pull
 * request #2546, "H100 500W": BF16 8192^3 at 585.23 TFLOP/s, FP8 row-wise at 1,125.51, against the
 * 700 W part's measured maxima (the SXM file's curve tops, MAMF). Every point of the file's matrix
 * and attention curves follows from the SXM file and those two figures; memory and element-wise
 * rates are the SXM file's peak-rate rule, unchanged by the cap.
 */
class PowerLimitedH100Test {
  /** FBGEMM #2546, "H100 500W", shape (8192, 8192, 8192), bf16 (torch matmul). */
  static final double BF16_TFLOPS_AT_500_W = 585.23;
  /** FBGEMM #2546, "H100 500W", shape (8192, 8192, 8192), "fp8 row gemm only". */
  static final double FP8_TFLOPS_AT_500_W = 1125.51;

  private static JsonNode sxm;
  private static JsonNode capped;

  @BeforeAll
  static void read() throws Exception {
    ObjectMapper json = new ObjectMapper();
    sxm = json.readTree(Path.of("systems/H100_SXM_80g_dense.json").toFile());
    capped = json.readTree(Path.of("systems/H100_SXM_96g_hbm2e_dense.json").toFile());
  }

  private static double tflops(JsonNode sys, String dtype) {
    return sys.get("matrix").get(dtype).get("tflops").asDouble();
  }

  private static double topRate(JsonNode sys, String dtype) {
    return tflops(sys, dtype) * sys.get("matrix").get(dtype).get("gflops_efficiency").get(0).get(1).asDouble();
  }

  private static double round3(double x) {
    return BigDecimal.valueOf(x).setScale(3, RoundingMode.HALF_UP).doubleValue();
  }

  /** The 700 W part's measured tops: 0.803 x 989.4 = 794.5 (BF16), 0.709 x 1,978.9 = 1,403.0 (FP8). */
  @Test
  void theRatiosAreTheMeasurementsOverThe700WMaxima() {
    assertThat(topRate(sxm, "bfloat16")).isCloseTo(794.5, within(0.1));
    assertThat(topRate(sxm, "float8")).isCloseTo(1403.0, within(0.1));
    assertThat(BF16_TFLOPS_AT_500_W / topRate(sxm, "bfloat16")).isCloseTo(0.7366, within(1e-4));
    assertThat(FP8_TFLOPS_AT_500_W / topRate(sxm, "float8")).isCloseTo(0.8022, within(1e-4));
  }

  /** The largest operations run at the measured rates (to the curves' 3 decimals). */
  @Test
  void theLargestOperationsRunAtTheMeasuredRates() {
    assertThat(topRate(capped, "bfloat16")).isCloseTo(BF16_TFLOPS_AT_500_W, within(0.5));
    assertThat(topRate(capped, "float16")).isCloseTo(BF16_TFLOPS_AT_500_W, within(0.5));
    assertThat(topRate(capped, "float8")).isCloseTo(FP8_TFLOPS_AT_500_W, within(1.0));
  }

  /**
   * Each matrix curve point: the SXM point x SXM peak / this peak x the datatype's ratio
   * (BF16's for bfloat16, float16 and TF32, FP8's for float8); thresholds the SXM file's.
   */
  @ParameterizedTest
  @CsvSource({"bfloat16, bfloat16", "float16, bfloat16", "float32, bfloat16", "float8, float8"})
  void everyMatrixPointIsTheSxmPointTimesTheRatio(String dtype, String ratioOf) {
    double measured = ratioOf.equals("float8") ? FP8_TFLOPS_AT_500_W : BF16_TFLOPS_AT_500_W;
    double ratio = measured / topRate(sxm, ratioOf);
    double scale = tflops(sxm, dtype) / tflops(capped, dtype) * ratio;
    JsonNode s = sxm.get("matrix").get(dtype).get("gflops_efficiency");
    JsonNode c = capped.get("matrix").get(dtype).get("gflops_efficiency");
    assertThat(c.size()).isEqualTo(s.size());
    for (int i = 0; i < s.size(); i++) {
      assertThat(c.get(i).get(0).asDouble()).as(dtype + " threshold " + i).isEqualTo(s.get(i).get(0).asDouble());
      assertThat(c.get(i).get(1).asDouble()).as(dtype + " point " + i)
          .isEqualTo(round3(s.get(i).get(1).asDouble() * scale));
    }
  }

  /** Attention kernels: tensor-core bound, BF16's ratio at the same capped clock (an assumption). */
  @Test
  void attentionCurvesTakeTheBf16Ratio() {
    double scale = tflops(sxm, "bfloat16") / tflops(capped, "bfloat16")
        * (BF16_TFLOPS_AT_500_W / topRate(sxm, "bfloat16"));
    JsonNode s = sxm.get("attention_kernels").get("kernels");
    JsonNode c = capped.get("attention_kernels").get("kernels");
    assertThat(c.size()).isEqualTo(s.size());
    for (Iterator<Map.Entry<String, JsonNode>> it = s.fields(); it.hasNext();) {
      Map.Entry<String, JsonNode> k = it.next();
      for (String curve : new String[] {"fw_efficiency", "bw_efficiency"}) {
        JsonNode sc = k.getValue().get(curve);
        JsonNode cc = c.get(k.getKey()).get(curve);
        assertThat(cc.size()).isEqualTo(sc.size());
        for (int i = 0; i < sc.size(); i++) {
          assertThat(cc.get(i).get(0).asDouble()).isEqualTo(sc.get(i).get(0).asDouble());
          assertThat(cc.get(i).get(1).asDouble()).as(k.getKey() + " " + curve + " " + i)
              .isEqualTo(round3(sc.get(i).get(1).asDouble() * scale));
        }
      }
    }
    // hand check: cuDNN's forward at 16k tokens, 0.601 x 989.4 / 912.5 x 0.7366 = 0.480
    assertThat(c.get("cudnn").get("fw_efficiency").get(0).get(1).asDouble()).isEqualTo(0.48);
  }

  /** The cap lowers the SMs' clock: memory, element-wise rates and the network are not scaled. */
  @Test
  void memoryVectorAndNetworkAreNotScaled() {
    assertThat(capped.get("mem1").get("GBps").asDouble()).isEqualTo(2400);
    assertThat(capped.get("mem1").get("MB_efficiency")).isEqualTo(sxm.get("mem1").get("MB_efficiency"));
    assertThat(capped.get("vector").get("bfloat16").get("tflops").asDouble()).isEqualTo(126.9);
    assertThat(capped.get("vector").get("bfloat16").get("gflops_efficiency"))
        .isEqualTo(sxm.get("vector").get("bfloat16").get("gflops_efficiency"));
    assertThat(capped.get("networks")).isEqualTo(sxm.get("networks"));
  }
}
