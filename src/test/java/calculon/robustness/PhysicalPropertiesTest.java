package calculon.robustness;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Architecture;
import calculon.config.ConfigError;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.RunChecks;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.Infeasible;
import calculon.model.ModelVersion;
import calculon.schedule.Evaluator;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The model's physics on random valid executions of the shipped models on the shipped systems:
 * better hardware is never slower, and more memory never rejects a configuration that fit.
 *
 * <ul>
 *   <li>more network bandwidth on one tier, more matrix and/or vector flops, more memory
 *       bandwidth, or a lower network latency never makes {@code total_time} larger (relative
 *       slack 1e-9);
 *   <li>more memory capacity (mem1 or mem2 GiB) never turns a feasible execution infeasible and
 *       leaves {@code total_time} exactly as it was.
 * </ul>
 * The properties must hold for {@link ModelVersion#CORRECTED}, with no exclusion; for
 * {@link ModelVersion#CALCULON_MOE} the violations are counted and printed (findings about the
 * reference), not failed.
 *
 * <p>Findings (in Calculon-MoE; the corrected model fixes them, see docs/deviations.md):
 * <ul>
 *   <li><b>Data-parallel overlap exposure is not monotone</b> (labelled "known" in the counts,
 *       see {@link #dpOverlapQuirk}). With {@code data_par_overlap}, the last chunk's exposed gradient
 *       time is {@code linfl = ls*blk_dp_time + blk_dp_comp*pu - last_win} when positive, else
 *       {@code ls*blk_dp_time*pu} (spec 3.7; reference llm.py). It jumps up from ~0 to
 *       {@code ls*blk_dp_time*pu} when faster communication makes it fit the window: megatron-5B MoE
 *       (TP1 PP1 DP2 DPE2, full recompute, sharding) on Fullflat, tier 1 bandwidth x2:
 *       dp_comm_exposed_time 0.01010 -> 0.01170 s, total_time 1.67286 -> 1.67446 s. And
 *       {@code last_win} counts the optimizer step's compute twice (once per block in
 *       {@code chunk_dp_ov}, once more when not sharding), so faster flops shrink the window by
 *       (bpc + 1) optimizer steps while saving bpp: megatron-22B (TP1 PP4 DP32, attn_only, weight and
 *       activation offload) on TwoTiered_HBD128_SW_COLLECTIVE, vector tflops x2: optim_step_time -0.157 ms,
 *       dp_comm_exposed_time +0.170 ms, total_time 0.647287 -> 0.647300 s. The window of
 *       {@code pp} microbatches' backward passes also holds {@code pp} optimizer steps where one
 *       runs. The corrected model takes the larger of the two exposures and counts the optimizer
 *       step once in each window: its violations went from 22 to 0 in 15,000 executions (seed 99),
 *       and it has none in 40,000 (seed 7).
 *   <li><b>Calculon-MoE only: a lower latency can be slower</b> (spec quirk 24): with PP = 1 the
 *       pipeline p2p latency still sits in the edge block's time, where it hides offload traffic,
 *       but is never charged to total_time; lowering it exposes more offload. megatron-40B TP4 PP1
 *       DP1 inference with activation offload on H100_80g_sxm, tier 0 latency x0.5:
 *       fw_offload_exposed_time +3.88 ms, tp_comm_exposed_time -3.84 ms, total +0.04 ms.
 *       The corrected model drops the PP latency when PP = 1 and holds.
 * </ul>
 */
class PhysicalPropertiesTest {
  static final long SEED = Long.getLong("calculon.properties.seed", 0xCA1C_0002L);
  static final int EXECUTIONS = Integer.getInteger("calculon.properties.executions", 3000);
  static final double SLACK = 1e-9;

  static final String[] DENSE_MODELS = {"megatron-126M", "megatron-5B", "megatron-22B", "gpt3-13B",
      "megatron-40B", "chinchilla", "anthropic-52B", "gpt3-175B", "lamda", "turing-530B",
      "llama3-8B", "llama3-70B"};
  /** Calculon models run as MoE with drawn experts, and modern MoE models with their own (GQA, MLA, shared experts, vocabularies). */
  static final String[] MOE_MODELS = {"nemo-mixtral-8x3b-moe", "gpt-1.8T", "megatron-5B", "gpt3-13B",
      "mixtral-8x7B", "qwen3-30B-A3B", "deepseek-v3", "gpt-oss-120b"};
  static final int[] POW2 = {1, 2, 4, 8, 16, 32, 64};

  /** A change to the system that must not make a run slower (or, for capacity, infeasible). */
  record Upgrade(String name, boolean capacity, java.util.function.Consumer<ObjectNode> apply) {}

  /** A random execution of {@code model} on {@code sys}, as a Calculon-MoE execution file; it may still be rejected. */
  static ObjectNode randomExecution(SplittableRandom r, Application app, boolean moe, SystemSpec sys) {
    ObjectNode e = Seeds.JSON.createObjectNode();
    int procs = POW2[r.nextInt(POW2.length)] * POW2[r.nextInt(4)];
    int tp = Math.min(procs, POW2[r.nextInt(5)]);
    int pp = Math.min(procs / tp, POW2[r.nextInt(5)]);
    int dp = procs / tp / pp;
    int mbs = POW2[r.nextInt(3)];
    int nm = POW2[r.nextInt(6)] * (r.nextInt(4) == 0 ? 3 : 1);
    int nets = sys.networks().size();
    boolean training = r.nextInt(8) != 0;
    String recompute = training ? new String[] {"none", "attn_only", "full"}[r.nextInt(3)] : "none";
    String comm = new String[] {"ar", "p2p_rs_ag", "rs_ag"}[r.nextInt(3)];
    List<String> datatypes = new ArrayList<>();
    sys.matrix().forEach((dt, rate) -> {
      if (rate.tflops() > 0 && sys.vector().containsKey(dt) && sys.vector().get(dt).tflops() > 0) {
        datatypes.add(dt.jsonName);
      }
    });
    e.put("num_procs", procs);
    e.put("tensor_par", tp);
    e.put("pipeline_par", pp);
    e.put("data_par", dp);
    e.put("tensor_par_net", 0);
    e.put("pipeline_par_net", r.nextInt(nets));
    e.put("data_par_net", r.nextInt(nets));
    e.put("batch_size", dp * mbs * nm);
    e.put("microbatch_size", mbs);
    int experts = 1, ep = 1, es = 1, dpe = 1;
    Architecture.Moe declared = app.architecture().moe();
    if (moe) {
      experts = declared != null ? declared.numExperts() : POW2[2 + r.nextInt(3)];
      ep = Math.min(experts, POW2[r.nextInt(5)]);
      es = r.nextBoolean() ? 1 : tp;
      int rest = procs / pp;
      if (rest % (ep * es) != 0) {
        ep = 1;
        es = 1;
      }
      dpe = rest / (ep * es);
    }
    e.put("num_experts", experts);
    e.put("top_k_experts", declared != null ? declared.topK() : moe ? 1 + r.nextInt(Math.min(2, experts)) : 1);
    e.put("expert_par", ep);
    e.put("expert_slice", es);
    e.put("data_par_exp", dpe);
    e.put("data_par_exp_net", r.nextInt(nets));
    e.put("expert_par_net", r.nextInt(nets));
    e.put("expert_slice_net", r.nextInt(nets));
    e.put("datatype", datatypes.isEmpty() ? "float16" : datatypes.get(r.nextInt(datatypes.size())));
    e.put("fused_activation", r.nextBoolean());
    e.put("attention_type", r.nextInt(4) == 0 ? "multiquery" : "multihead");
    e.put("activation_recompute", recompute);
    e.put("pipeline_interleaving", pp > 1 ? POW2[r.nextInt(3)] : 1);
    e.put("optimizer_sharding", dp > 1 && r.nextBoolean());
    e.put("tensor_par_comm_type", comm);
    e.put("tensor_par_overlap", tp > 1 ? new String[] {"none", "ring", "pipe"}[r.nextInt(3)] : "none");
    e.put("seq_par_ag_redo", (comm.equals("rs_ag") || moe && tp > 1) && !recompute.equals("full") && r.nextBoolean());
    e.put("data_par_overlap", training && dp > 1 && r.nextBoolean());
    e.put("weight_offload", r.nextInt(5) == 0);
    e.put("activations_offload", r.nextInt(5) == 0);
    e.put("optimizer_offload", training && r.nextInt(5) == 0);
    e.put("training", training);
    e.put("model_MoE", moe);
    e.put("activation_function", r.nextBoolean() ? "gelu" : "silu");
    return e;
  }

  /** The upgrades tried on each feasible run, for a system with {@code tiers} networks. */
  static List<Upgrade> upgrades(SplittableRandom r, int tiers, String datatype) {
    double f = new double[] {1.01, 1.5, 2, 10}[r.nextInt(4)];
    List<Upgrade> out = new ArrayList<>();
    for (int t = 0; t < tiers; t++) {
      int tier = t;
      out.add(new Upgrade("networks[" + t + "].bandwidth x" + f, false,
          s -> scale((ObjectNode) s.get("networks").get(tier), "bandwidth", f)));
      out.add(new Upgrade("networks[" + t + "].latency x" + 1 / f, false,
          s -> scale((ObjectNode) s.get("networks").get(tier), "latency", 1 / f)));
      out.add(new Upgrade("networks[" + t + "].latency = 0", false,
          s -> ((ObjectNode) s.get("networks").get(tier)).put("latency", 0.0)));
    }
    out.add(new Upgrade("matrix." + datatype + ".tflops x" + f, false,
        s -> scale((ObjectNode) s.get("matrix").get(datatype), "tflops", f)));
    out.add(new Upgrade("vector." + datatype + ".tflops x" + f, false,
        s -> scale((ObjectNode) s.get("vector").get(datatype), "tflops", f)));
    out.add(new Upgrade("matrix and vector " + datatype + ".tflops x" + f, false, s -> {
      scale((ObjectNode) s.get("matrix").get(datatype), "tflops", f);
      scale((ObjectNode) s.get("vector").get(datatype), "tflops", f);
    }));
    out.add(new Upgrade("mem1.GBps x" + f, false, s -> scale((ObjectNode) s.get("mem1"), "GBps", f)));
    out.add(new Upgrade("mem2.GBps x" + f, false, s -> scale((ObjectNode) s.get("mem2"), "GBps", f)));
    out.add(new Upgrade("mem1.GiB x" + f, true, s -> scale((ObjectNode) s.get("mem1"), "GiB", f)));
    out.add(new Upgrade("mem2.GiB x" + f, true, s -> scale((ObjectNode) s.get("mem2"), "GiB", f)));
    return out;
  }

  static void scale(ObjectNode o, String key, double f) {
    o.put(key, o.get(key).doubleValue() * f);
  }

  /**
   * The narrow exclusion: a run with data-parallel overlap whose whole slowdown is the growth of
   * dp_comm_exposed_time (the overlap exposure's switch and the last window's double-counted
   * optimizer step, see the class comment). Any other part of total_time growing still fails.
   */
  static boolean dpOverlapQuirk(Execution exe, Stats before, Stats after) {
    double slowdown = after.get(StatField.TOTAL_TIME) - before.get(StatField.TOTAL_TIME);
    double dpGrowth = after.get(StatField.DP_COMM_EXPOSED_TIME) - before.get(StatField.DP_COMM_EXPOSED_TIME);
    return exe.dataParOverlap() && dpGrowth > 0
        && slowdown <= dpGrowth + SLACK * before.get(StatField.TOTAL_TIME);
  }

  @Test
  void betterHardwareIsNeverSlowerAndMoreMemoryNeverRejects() throws Exception {
    Seeds seeds = Seeds.get();
    SplittableRandom master = new SplittableRandom(SEED);
    List<String> systemNames = new ArrayList<>(seeds.shippedSystems.keySet());
    Map<String, SystemSpec> systems = new LinkedHashMap<>();
    for (String s : systemNames) {
      systems.put(s, SystemReader.read(seeds.shippedSystems.get(s), s + ".json"));
    }
    int generated = 0, rejected = 0;
    Map<ModelVersion, int[]> counts = new EnumMap<>(ModelVersion.class); // feasible, infeasible, checks
    Map<ModelVersion, Map<String, Integer>> violationsByProperty = new EnumMap<>(ModelVersion.class);
    Map<ModelVersion, Map<String, String>> firstExample = new EnumMap<>(ModelVersion.class);
    for (ModelVersion v : ModelVersion.values()) {
      counts.put(v, new int[3]);
      violationsByProperty.put(v, new TreeMap<>());
      firstExample.put(v, new TreeMap<>());
    }
    long start = System.nanoTime();
    for (int i = 0; i < EXECUTIONS; i++) {
      SplittableRandom r = master.split();
      boolean moe = r.nextInt(3) == 0;
      String modelName = moe ? MOE_MODELS[r.nextInt(MOE_MODELS.length)] : DENSE_MODELS[r.nextInt(DENSE_MODELS.length)];
      String sysName = systemNames.get(r.nextInt(systemNames.size()));
      ObjectNode sysJson = seeds.shippedSystems.get(sysName);
      SystemSpec sys = systems.get(sysName);
      Application app = ApplicationReader.read(seeds.shippedModels.get(modelName), modelName + ".json");
      ObjectNode exeJson = randomExecution(r, app, moe, sys);
      generated++;
      Execution exe;
      try {
        exe = ExecutionReader.read(exeJson, "execution.json");
        RunChecks.check(app, exe, sys, modelName + ".json", "execution.json", sysName + ".json");
      } catch (ConfigError e) {
        rejected++;
        continue;
      }
      List<Upgrade> ups = upgrades(r, sys.networks().size(), exe.datatype().jsonName);
      for (ModelVersion v : ModelVersion.values()) {
        int[] c = counts.get(v);
        Stats baseStats;
        try {
          baseStats = Evaluator.evaluate(app, exe, new Hardware(sys, exe.datatype()), v, false);
          c[0]++;
        } catch (Infeasible e) {
          c[1]++;
          continue;
        }
        for (Upgrade u : ups) {
          ObjectNode upgraded = sysJson.deepCopy();
          u.apply().accept(upgraded);
          SystemSpec betterSys = SystemReader.read(upgraded, sysName + "-upgraded.json");
          c[2]++;
          String problem = null;
          String kind = "";
          try {
            Stats better = Evaluator.evaluate(app, exe, new Hardware(betterSys, exe.datatype()), v, false);
            double base = baseStats.get(StatField.TOTAL_TIME);
            double t = better.get(StatField.TOTAL_TIME);
            if (u.capacity() ? t != base : t > base * (1 + SLACK)) {
              problem = "total_time " + base + " -> " + t + " (" + String.format("%+.3g%%", (t / base - 1) * 100)
                  + "), dp_comm_exposed_time " + baseStats.get(StatField.DP_COMM_EXPOSED_TIME) + " -> "
                  + better.get(StatField.DP_COMM_EXPOSED_TIME);
              if (!u.capacity() && dpOverlapQuirk(exe, baseStats, better)) {
                kind = "known, dp overlap exposure: ";
              }
            }
          } catch (Infeasible e) {
            problem = "became infeasible: " + e.getMessage();
          }
          if (problem != null) {
            String property = kind + u.name().replaceAll("\\[\\d+\\]", "[t]").replaceAll(" x[0-9.E-]+| = 0", "");
            violationsByProperty.get(v).merge(property, 1, Integer::sum);
            firstExample.get(v).putIfAbsent(property, u.name() + ": " + problem + "\n    model " + modelName
                + ", system " + sysName + "\n    execution " + exeJson);
          }
        }
      }
    }
    System.out.printf("PhysicalPropertiesTest: seed %d, %d random executions in %.1f s: %d rejected by ConfigError%n",
        SEED, generated, (System.nanoTime() - start) / 1e9, rejected);
    for (ModelVersion v : ModelVersion.values()) {
      int[] c = counts.get(v);
      System.out.printf("  %s: %d feasible, %d infeasible, %d upgrades checked, violations %s%n",
          v.cliName, c[0], c[1], c[2], violationsByProperty.get(v));
      firstExample.get(v).forEach((p, ex) -> System.out.println("    first " + p + ": " + ex));
    }
    assertThat(counts.get(ModelVersion.CORRECTED)[0]).as("feasible executions").isGreaterThan(EXECUTIONS / 10);
    // no exclusion for the corrected model: the data-parallel overlap quirks are Calculon-MoE's only
    assertThat(violationsByProperty.get(ModelVersion.CORRECTED))
        .as("corrected model: %s", firstExample.get(ModelVersion.CORRECTED)).isEmpty();
  }
}
