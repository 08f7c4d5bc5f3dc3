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
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * How the offload streams share the tier-2 link ({@link Offload}): the link is full duplex and
 * {@code mem2}'s rate is one direction's (systems/SOURCES.md), so the forward pass's weights
 * (read in) and activations (written out) each need the link's rate on their own, not their sum;
 * the backward pass reads weights, activations and optimizer state in and needs their sum. Under
 * ZeRO stage 3 (FSDP2 {@code CPUOffloadPolicy}) a block's weight stream is this rank's shard.
 *
 * <p>The case is the best execution of the user search {@code llm-optimal-execution
 * models/llama3-70B.json 256 512 bfloat16 systems/H100_SXM_80g_dense.json} (TP 1, PP 1, DP 256,
 * microbatch 2, no recompute, flash attention, every offload on, ZeRO 3), with both memory tiers
 * enlarged to 1 TiB so that the variants that keep whole weights fit (capacities only: no rate
 * changes).
 */
class OffloadStreamsTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path MODEL = Path.of("models/llama3-70B.json"), SYSTEM = Path.of("systems/H100_SXM_80g_dense.json");
  static final int DP = 256;
  /** mem2's efficiency for transfers of 100 MB and more (the system file's MB_efficiency curve). */
  static final double MEM2_LARGE_EFFICIENCY = 0.95;
  static final String EXECUTION = """
      {"num_procs": 256, "tensor_par": 1, "pipeline_par": 1, "data_par": 256, "tensor_par_net": 0,
       "pipeline_par_net": 0, "data_par_net": 1, "batch_size": 512, "microbatch_size": 2,
       "num_experts": 1, "top_k_experts": 1, "expert_par": 1, "expert_slice": 1, "data_par_exp": 1,
       "data_par_exp_net": 1, "expert_par_net": 1, "expert_slice_net": 1, "datatype": "bfloat16",
       "fused_activation": true, "attention_type": "multihead", "activation_recompute": "none",
       "pipeline_interleaving": 1, "optimizer_sharding": true, "tensor_par_comm_type": "rs_ag",
       "tensor_par_overlap": "none", "seq_par_ag_redo": true, "data_par_overlap": true,
       "weight_offload": true, "activations_offload": true, "optimizer_offload": true,
       "training": true, "model_MoE": false, "zero_stage": 3, "context_par": 1,
       "context_par_net": 0, "context_par_comm_type": "p2p", "pipeline_schedule": "1f1b",
       "flash_attention": true}
      """;

  static Stats run(ModelVersion version, double mem2GBps, Consumer<ObjectNode> edit) throws Exception {
    Application app = ApplicationReader.read(JSON.readTree(MODEL.toFile()), MODEL.toString());
    ObjectNode node = (ObjectNode) JSON.readTree(EXECUTION);
    edit.accept(node);
    Execution exe = ExecutionReader.read(node, "offload-streams");
    ObjectNode sysNode = (ObjectNode) JSON.readTree(SYSTEM.toFile());
    ObjectNode mem2 = (ObjectNode) sysNode.get("mem2");
    mem2.put("GiB", 1024);
    mem2.put("GBps", mem2GBps);
    ((ObjectNode) sysNode.get("mem1")).put("GiB", 1024);
    SystemSpec sys = SystemReader.read(sysNode, SYSTEM.toString());
    return Evaluator.evaluate(app, exe, new Hardware(sys, exe.datatype()), version, false);
  }

  /** The seconds the forward pass leaves an offload stream, from the activation stream's rate. */
  static double forwardWindow(Stats s) {
    return s.get(StatField.BLOCK_ACT_STORAGE_SPACE) / s.get(StatField.ACT_OFFLOAD_BW_REQ);
  }

  /** The seconds the backward pass leaves an offload stream, from the optimizer stream's rate. */
  static double backwardWindow(Stats s) {
    return (s.get(StatField.BLOCK_WEIGHT_GRAD_SPACE) + s.get(StatField.BLOCK_OPTIMIZER_SPACE))
        / s.get(StatField.OPTIM_OFFLOAD_BW_REQ);
  }

  @Test
  void weightsInAndActivationsOutUseTheLinksTwoDirectionsSoEachFitsOnItsOwn() throws Exception {
    // ZeRO 2: the whole block's weights stream in (1.76 GB), its stored activations out (2.14 GB)
    Stats s = run(ModelVersion.CORRECTED, 64, e -> e.put("zero_stage", 2));
    double linkBytesPerSecond = 64e9 * MEM2_LARGE_EFFICIENCY;
    double weights = s.get(StatField.BLOCK_WEIGHT_SPACE), acts = s.get(StatField.BLOCK_ACT_STORAGE_SPACE);
    double fwWindow = forwardWindow(s);
    // hand derivation: each stream over the forward window; the weights 49.0 GB/s, the
    // activations 59.6 GB/s, each below the link's 60.8 GB/s, together 108.6 GB/s above it
    assertThat(s.get(StatField.WEIGHT_OFFLOAD_BW_REQ)).isCloseTo(weights / fwWindow, within(1.0));
    assertThat(s.get(StatField.WEIGHT_OFFLOAD_BW_REQ)).isCloseTo(49.013e9, within(0.001e9));
    assertThat(s.get(StatField.ACT_OFFLOAD_BW_REQ)).isCloseTo(59.572e9, within(0.001e9));
    assertThat(weights / fwWindow).isLessThan(linkBytesPerSecond);
    assertThat(acts / fwWindow).isLessThan(linkBytesPerSecond);
    assertThat((weights + acts) / fwWindow).isGreaterThan(linkBytesPerSecond);
    // opposite directions: neither pass pays an overhead
    assertThat(s.get(StatField.FW_OFFLOAD_EXPOSED_TIME)).isZero();
    assertThat(s.get(StatField.BW_OFFLOAD_EXPOSED_TIME)).isZero();
    // the total is the busier direction of the busier pass: the forward's activations (59.6 GB/s)
    // over the backward's weights + activations + optimizer state in (54.8 GB/s)
    double backward = (weights + acts + s.get(StatField.BLOCK_OPTIMIZER_SPACE)) / backwardWindow(s);
    assertThat(backward).isCloseTo(54.8e9, within(0.1e9));
    assertThat(s.get(StatField.OFFLOAD_MEM_BW_REQ))
        .isCloseTo(Math.max(acts / fwWindow, backward), within(1.0))
        .isCloseTo(s.get(StatField.ACT_OFFLOAD_BW_REQ), within(1e-6));
  }

  @Test
  void aSlowLinkChargesTheBusierDirectionNotTheSum() throws Exception {
    // at 32 GB/s the activations alone exceed the forward window; adding the weight stream, which
    // runs the other way, charges nothing more: per block, the activations' seconds over the link
    // plus the block's HBM seconds beyond its forward time (reference llm.py), 80 blocks, 1
    // microbatch per step (512 / 256 / 2)
    Stats acts = run(ModelVersion.CORRECTED, 32, e -> {
      e.put("zero_stage", 2);
      e.put("weight_offload", false);
    });
    Stats both = run(ModelVersion.CORRECTED, 32, e -> e.put("zero_stage", 2));
    double perBlock = acts.get(StatField.BLOCK_ACT_STORAGE_SPACE) / (32e9 * MEM2_LARGE_EFFICIENCY)
        + acts.get(StatField.BLOCK_FW_MEM_TIME) - acts.get(StatField.BLOCK_FW_TIME);
    assertThat(perBlock).isPositive();
    assertThat(acts.get(StatField.FW_OFFLOAD_EXPOSED_TIME)).isCloseTo(80 * perBlock, within(1e-9));
    assertThat(both.get(StatField.FW_OFFLOAD_EXPOSED_TIME)).isCloseTo(80 * perBlock, within(1e-9));
  }

  @Test
  void underZero3TheWeightStreamIsTheRanksShard() throws Exception {
    // FSDP2 CPUOffloadPolicy copies the sharded parameters host-to-device before the all-gather:
    // a dense block at TP 1 shards its weights over DP x CP = 256
    Stats z3 = run(ModelVersion.CORRECTED, 64, e -> { });
    double shard = z3.get(StatField.BLOCK_WEIGHT_SPACE) / DP;
    assertThat(z3.get(StatField.WEIGHT_OFFLOAD_BW_REQ)).isCloseTo(shard / forwardWindow(z3), within(1.0));
    // 6.9 MB per block over the 36 ms window: 191 MB/s, not the gathered block's 49.0 GB/s
    assertThat(z3.get(StatField.WEIGHT_OFFLOAD_BW_REQ)).isCloseTo(0.19146e9, within(0.0001e9));
    assertThat(z3.get(StatField.FW_OFFLOAD_EXPOSED_TIME)).isZero();
    assertThat(z3.get(StatField.OFFLOAD_MEM_BW_REQ)).isCloseTo(z3.get(StatField.ACT_OFFLOAD_BW_REQ), within(1e-6));
    // the backward reads the shard, the activations and the optimizer state in
    double backward = (shard + z3.get(StatField.BLOCK_ACT_STORAGE_SPACE) + z3.get(StatField.BLOCK_OPTIMIZER_SPACE))
        / backwardWindow(z3);
    assertThat(backward).isLessThan(z3.get(StatField.OFFLOAD_MEM_BW_REQ));
  }

  @Test
  void calculonMoeStreamsTheGatheredBlock() throws Exception {
    // the reference has no ZeRO stage 3: its weight stream is the block's whole weights
    Stats ref = run(ModelVersion.CALCULON_MOE, 64, e -> { });
    assertThat(ref.get(StatField.WEIGHT_OFFLOAD_BW_REQ))
        .isCloseTo(ref.get(StatField.BLOCK_WEIGHT_SPACE) / forwardWindow(ref), within(1.0));
  }
}
