package calculon.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.ModelVersion;
import calculon.stats.LayerField;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The weight-gradient pass under ZeRO stages 0 and 1 adds into Megatron's persistent gradient
 * buffer (gradient-accumulation fusion: a GEMM with beta = 1 on the fp32 {@code main_grad}), so
 * it reads and writes the buffer every microbatch; under stages 2 and 3 it writes a fresh
 * gradient. On faults/distributed-optimizer (Llama-2-7B-like, DP 8, fp32 gradients, bf16
 * weights): each layer's weight-gradient traffic differs by one read of its fp32 gradient,
 * 4 bytes per parameter = twice its bf16 weight bytes; nothing else moves. The embedding
 * lookup's scatter-add is modelled apart and does not change.
 */
class WeightGradientAccumulationTest {
  static final Path DIR = FaultCases.ROOT.resolve("distributed-optimizer");

  static Stats run(int zeroStage, ModelVersion version) throws Exception {
    Application app = ApplicationReader.read(DIR.resolve("model-llama2-7b-like.json"));
    ObjectNode node = (ObjectNode) FaultCases.JSON.readTree(DIR.resolve("exe-dp8_shard_fp32grad.json").toFile());
    node.put("zero_stage", zeroStage);
    Execution exe = ExecutionReader.read(node, "exe.json");
    SystemSpec sys = SystemReader.read(DIR.resolve("system-h100-bigmem.json"));
    return Evaluator.evaluate(app, exe, new Hardware(sys, exe.datatype()), version, true);
  }

  @Test
  void stagesZeroAndOneReadTheGradientBufferTheyAddInto() throws Exception {
    List<Stats.LayerStats> accumulating = run(1, ModelVersion.CORRECTED).layers();
    List<Stats.LayerStats> fresh = run(2, ModelVersion.CORRECTED).layers();
    assertThat(accumulating).hasSameSizeAs(fresh);
    int withWeights = 0;
    for (int i = 0; i < fresh.size(); i++) {
      if (fresh.get(i).name().startsWith("Embedding")) {
        // the lookup's gradient is a scatter-add into the rows it touched (Layers.Embedding), the
        // same in every stage
        assertThat(accumulating.get(i).get(LayerField.WGRAD_MEM_ACCESSED)).isEqualTo(fresh.get(i).get(LayerField.WGRAD_MEM_ACCESSED));
        continue;
      }
      double weightBytes = fresh.get(i).get(LayerField.WEIGHT);
      double extra = accumulating.get(i).get(LayerField.WGRAD_MEM_ACCESSED) - fresh.get(i).get(LayerField.WGRAD_MEM_ACCESSED);
      // fp32 gradient read: 4 B per parameter, the bf16 weight is 2 B per parameter
      assertThat(extra).as(fresh.get(i).name()).isCloseTo(2 * weightBytes, within(1e-6 * Math.max(1, weightBytes)));
      withWeights += weightBytes > 0 ? 1 : 0;
    }
    assertThat(withWeights).as("layers with weights").isGreaterThanOrEqualTo(4);
  }

  @Test
  void theExtraReadMakesTheStepSlowerAndCalculonMoeIsUnchanged() throws Exception {
    assertThat(run(1, ModelVersion.CORRECTED).get(StatField.TOTAL_TIME))
        .isGreaterThan(run(2, ModelVersion.CORRECTED).get(StatField.TOTAL_TIME));
    // the fork writes the gradient once whatever optimizer_sharding means to it
    Stats fork = run(1, ModelVersion.CALCULON_MOE);
    double forkWgrad = fork.layers().stream().mapToDouble(l -> l.get(LayerField.WGRAD_MEM_ACCESSED)).sum();
    double forkWeights = fork.layers().stream().mapToDouble(l -> l.get(LayerField.WEIGHT)).sum();
    Stats fresh = run(2, ModelVersion.CORRECTED);
    double freshWgrad = fresh.layers().stream().mapToDouble(l -> l.get(LayerField.WGRAD_MEM_ACCESSED)).sum();
    assertThat(forkWgrad).isLessThan(freshWgrad + forkWeights);
  }
}
