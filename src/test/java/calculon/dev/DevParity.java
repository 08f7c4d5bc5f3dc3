package calculon.dev;

import calculon.config.*;
import calculon.hardware.Hardware;
import calculon.model.Infeasible;
import calculon.schedule.Evaluator;
import calculon.stats.StatField;
import calculon.stats.Stats;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.util.*;

/** Throwaway dev harness: runs golden cases with a minimal parser. */
public class DevParity {
  static double[][] curve(JsonNode arr) {
    double[] a = new double[arr.size()], b = new double[arr.size()];
    for (int i = 0; i < arr.size(); i++) { a[i] = arr.get(i).get(0).asDouble(); b[i] = arr.get(i).get(1).asDouble(); }
    return new double[][] {a, b};
  }

  public static Application app(JsonNode m) {
    return new Application("m", m.get("hidden").asLong(), m.get("feedforward").asLong(), m.get("seq_size").asLong(),
        m.get("attn_heads").asLong(), m.get("attn_size").asLong(), m.get("num_blocks").asLong());
  }

  static int i(JsonNode e, String k, int d) { return e.has(k) ? e.get(k).asInt() : d; }

  public static Execution exe(JsonNode e) {
    return new Execution(i(e,"num_procs",0), i(e,"tensor_par",0), i(e,"pipeline_par",0), i(e,"data_par",0),
        i(e,"tensor_par_net",0), i(e,"pipeline_par_net",0), i(e,"data_par_net",0), i(e,"batch_size",0),
        i(e,"microbatch_size",0), i(e,"num_experts",1), i(e,"top_k_experts",1), i(e,"expert_par",1),
        i(e,"expert_slice",1), i(e,"data_par_exp",1), i(e,"data_par_exp_net",0), i(e,"expert_par_net",0),
        i(e,"expert_slice_net",0), Datatype.fromJson(e.get("datatype").asText()), e.get("fused_activation").asBoolean(),
        AttentionType.fromJson(e.get("attention_type").asText()), Recompute.fromJson(e.get("activation_recompute").asText()),
        i(e,"pipeline_interleaving",1), e.get("optimizer_sharding").asBoolean(),
        TpCommType.fromJson(e.get("tensor_par_comm_type").asText()), TpOverlap.fromJson(e.get("tensor_par_overlap").asText()),
        e.get("seq_par_ag_redo").asBoolean(), e.get("data_par_overlap").asBoolean(), e.get("weight_offload").asBoolean(),
        e.get("activations_offload").asBoolean(), e.get("optimizer_offload").asBoolean(), e.get("training").asBoolean(),
        e.has("model_MoE") && e.get("model_MoE").asBoolean(),
        e.has("activation_function") && !e.get("activation_function").isNull() && e.get("activation_function").asText().equals("silu") ? ActivationFunction.SILU : ActivationFunction.GELU);
  }

  static Map<Datatype, SystemSpec.ComputeRate> proc(JsonNode p) {
    Map<Datatype, SystemSpec.ComputeRate> m = new EnumMap<>(Datatype.class);
    p.fields().forEachRemaining(en -> { double[][] c = curve(en.getValue().get("gflops_efficiency"));
      m.put(Datatype.fromJson(en.getKey()), new SystemSpec.ComputeRate(en.getValue().get("tflops").asDouble(), c[0], c[1])); });
    return m;
  }

  static SystemSpec.MemorySpec mem(JsonNode p) {
    double[][] c = curve(p.get("MB_efficiency"));
    return new SystemSpec.MemorySpec(p.get("GiB").asDouble(), p.get("GBps").asDouble(), c[0], c[1]);
  }

  public static SystemSpec sys(JsonNode s) {
    List<SystemSpec.NetworkSpec> nets = new ArrayList<>();
    for (JsonNode n : s.get("networks")) {
      Map<String, SystemSpec.OpSpec> ops = new HashMap<>();
      n.get("ops").fields().forEachRemaining(en -> { JsonNode a = en.getValue();
        ops.put(en.getKey(), new SystemSpec.OpSpec(a.get(0).asDouble(), a.get(1).isNull() ? null : a.get(1).asDouble(), a.size() > 2 ? a.get(2).asDouble() : null)); });
      nets.add(new SystemSpec.NetworkSpec(n.get("bandwidth").asDouble(), n.get("efficiency").asDouble(), n.get("size").asLong(),
          n.get("latency").asDouble(), ops, n.get("must_be_filled").asBoolean(), n.get("processor_usage").asDouble()));
    }
    return new SystemSpec("s", proc(s.get("matrix")), proc(s.get("vector")), mem(s.get("mem1")), mem(s.get("mem2")),
        ProcessingMode.fromJson(s.get("processing_mode").asText()), nets, s);
  }

  public static void main(String[] args) throws Exception {
    ObjectMapper om = new ObjectMapper();
    File dir = new File(args[0]);
    int pass = 0, fail = 0, rej = 0, rejOk = 0;
    Map<String, Integer> fieldFails = new TreeMap<>();
    File[] files = dir.listFiles((d, n) -> n.endsWith(".moe.json"));
    Arrays.sort(files);
    for (File f : files) {
      JsonNode c = om.readTree(f);
      String status = c.get("expected").get("status").asText();
      try {
        Execution e = exe(c.get("execution"));
        SystemSpec s = sys(c.get("system"));
        Stats st = Evaluator.evaluate(app(c.get("model")), e, new Hardware(s, e.datatype()), true);
        JsonNode el = c.get("expected").get("layers");
        if (el != null && !el.isNull()) {
          int li = 0;
          for (JsonNode lj : el) {
            Stats.LayerStats ls = st.layers().get(li++);
            if (!ls.name().equals(lj.get("name").asText())) System.out.println("LAYER NAME " + f.getName() + " " + ls.name() + " vs " + lj.get("name"));
            for (calculon.stats.LayerField lf : calculon.stats.LayerField.all()) {
              if (lf == calculon.stats.LayerField.NAME) continue;
              JsonNode v = lj.get(lf.key); double w = v.isTextual() ? Double.parseDouble(v.asText()) : v.asDouble(); double g = ls.get(lf);
              if (v.isNull()) { System.out.println("NULL layer field " + lf.key); continue; }
              if (!(w == g || Math.abs(w - g) <= Math.max(1e-12, 1e-9 * Math.max(Math.abs(w), Math.abs(g))))) System.out.println("LAYERFAIL " + f.getName() + " " + ls.name() + " " + lf.key + " got " + g + " want " + w);
            }
          }
          if (li != st.layers().size()) System.out.println("LAYER COUNT " + f.getName());
        }
        if (!status.equals("ok")) { System.out.println("ACCEPTED-REJECTED " + f.getName()); rej++; continue; }
        JsonNode exp = c.get("expected").get("stats");
        List<String> bad = new ArrayList<>();
        for (StatField sf : StatField.all()) {
          JsonNode v = exp.get(sf.key);
          if (v.isNull()) { if (!st.isNull(sf)) bad.add(sf.key + " want null"); continue; }
          double w = v.asDouble(), g = st.get(sf);
          if (!(Math.abs(w - g) <= Math.max(1e-12, 1e-9 * Math.max(Math.abs(w), Math.abs(g))))) { bad.add(sf.key + " got " + g + " want " + w); fieldFails.merge(sf.key, 1, Integer::sum); }
        }
        if (bad.isEmpty()) pass++; else { fail++; if (fail <= 1000) System.out.println("FAIL " + f.getName() + " " + bad.size() + " " + bad.subList(0, Math.min(4, bad.size()))); }
      } catch (Infeasible ex) {
        if (status.equals("ok")) { fail++; System.out.println("FAIL-INFEASIBLE " + f.getName() + " " + ex.getMessage()); }
        else rejOk++;
      } catch (Throwable ex) {
        if (status.equals("ok")) { fail++; System.out.println("FAIL-EXC " + f.getName() + " " + ex); }
        else rejOk++;
      }
    }
    System.out.println("pass " + pass + " fail " + fail + " rejected-ok " + rejOk + " wrongly-accepted " + rej);
    System.out.println(fieldFails);
  }
}
