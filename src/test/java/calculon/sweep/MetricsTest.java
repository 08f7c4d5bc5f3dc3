package calculon.sweep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.JsonFiles;
import calculon.config.SystemEconomics;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.ModelVersion;
import calculon.schedule.Evaluator;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** MFU, cost and energy, derived by hand. */
class MetricsTest {
  @Test
  void modelFlopsPerTokenOfMegatron126MIsKorthikantisPlusBiasesAndNorms() throws Exception {
    Application app = ApplicationReader.read(Path.of("models/megatron-126M.json"));
    Execution exe = ExecutionReader.read(Path.of("examples/megatron_1T_training_4096_original.json"));
    // l = 12, h = 768, s = 2048, V = 51,200 (Calculon's tied table), ff = 4h.
    // Korthikanti et al. 2022: 72 l h^2 + 12 l h s + 6 V h = 509,607,936 + 226,492,416 + 235,929,600
    long korthikanti = 72L * 12 * 768 * 768 + 12L * 12 * 768 * 2048 + 6L * 51200 * 768;
    assertThat(korthikanti).isEqualTo(972_029_952L);
    // plus 6 x (biases 4h + ff + h and two LayerNorms 4h = 13h per block): 6 x 12 x 13 x 768
    assertThat(Metrics.modelFlopsPerToken(app, exe)).isEqualTo(korthikanti + 6.0 * 12 * 13 * 768);
  }

  @Test
  void mfuCostAndEnergyOfTheReadmeRun() throws Exception {
    Application app = ApplicationReader.read(Path.of("models/megatron-1T.json"));
    Execution exe = ExecutionReader.read(Path.of("examples/megatron_1T_training_4096_original.json"));
    ObjectNode sysJson = (ObjectNode) JsonFiles.read(Path.of("systems/a100_80g.json"));
    ObjectMapper m = new ObjectMapper();
    // SC23 Table 3's form: processor + HBM $/GiB + DDR $/GiB (round test numbers)
    sysJson.set("price", m.readTree("{\"gpu_usd\": 20000, \"mem1_usd_per_GiB\": 10, \"mem2_usd_per_GiB\": 2}"));
    sysJson.set("power", m.readTree("{\"gpu_load_watts\": 400, \"gpu_idle_watts\": 100, \"network_watts_per_port\": [10, 20]}"));
    SystemSpec sys = SystemReader.read(sysJson, "a100_priced.json");
    Stats s = Evaluator.evaluate(app, exe, new Hardware(sys, exe.datatype()), ModelVersion.CALCULON_MOE, false);
    SweepSpec.Economics econ = new SweepSpec.Economics(4, 0.1, null, 8);
    double[] v = Metrics.of(s, app, exe, sys, econ);
    double step = s.get(StatField.TOTAL_TIME);
    double tokens = (double) exe.batchSize() * 2048;  // batch x sequence
    assertThat(v[0]).isEqualTo(s.get(StatField.SAMPLE_RATE) * 2048);
    // MFU: flops/token x tokens/s over 4096 x 312 TFLOP/s
    assertThat(v[2]).isCloseTo(Metrics.modelFlopsPerToken(app, exe) * v[0] / (4096 * 312e12), within(1e-15));
    // the model's own flop count over the same peak is close (different flop accounting, not far)
    assertThat(v[2]).isCloseTo(s.get(StatField.TOTAL_EFFICIENCY), within(0.01));
    // capex: 4096 x (20,000 + 80 x 10 + 512 x 2) = 4096 x 21,824
    assertThat(v[3]).isEqualTo(4096.0 * 21824);
    assertThat(v[4]).isEqualTo(s.get(StatField.SAMPLE_RATE) / (4096.0 * 21824 / 1e6));
    // energy: load while computing, idle for the rest, the network ports (30 W) all step
    double busy = s.get(StatField.FW_TIME) + s.get(StatField.BW_TIME) + s.get(StatField.OPTIM_STEP_TIME)
        + s.get(StatField.RECOMPUTE_TIME);
    double joules = 4096 * (400 * busy + 100 * (step - busy) + 30 * step);
    assertThat(v[6]).isCloseTo(joules, within(joules * 1e-12));
    assertThat(v[5]).isCloseTo(joules / step, within(1e-6));
    assertThat(v[7]).isCloseTo(joules / tokens, within(1e-12));
    double usd = 4096.0 * 21824 / (4 * 365.25 * 86400) * step + joules / 3.6e6 * 0.1;
    assertThat(v[8]).isCloseTo(usd / tokens, within(1e-18));
    // a system without the keys has no cost or energy
    SystemSpec plain = SystemReader.read(Path.of("systems/a100_80g.json"));
    assertThat(SystemEconomics.of(plain)).isEqualTo(SystemEconomics.NONE);
    assertThat(Metrics.of(s, app, exe, plain, econ)[3]).isNaN();
  }
}
