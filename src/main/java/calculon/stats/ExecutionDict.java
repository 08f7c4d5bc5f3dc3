package calculon.stats;

import calculon.config.Datatype;
import calculon.config.Execution;
import calculon.config.Precision;
import java.util.LinkedHashMap;
import java.util.Map;

/** An execution as the reference's dict of it, for the text summary and the JSON outputs. */
public final class ExecutionDict {
  private ExecutionDict() {}

  /**
   * Calculon-MoE's {@code Execution.get_json()} (llm.py:208-219): the 33 fields of
   * {@link Execution#FIELDS}, in that order, ints as Integer, flags as Boolean, modes as their JSON
   * names. It reports what the model ran, so {@code tensor_par_comm_type} is
   * {@link Execution#effectiveTpCommType()} (rs_ag for MoE with TP &gt; 1).
   */
  public static Map<String, Object> of(Execution e) {
    Object[] values = {
        e.numProcs(), e.tensorPar(), e.pipelinePar(), e.dataPar(), e.tensorParNet(),
        e.pipelineParNet(), e.dataParNet(), e.batchSize(), e.microbatchSize(), e.numExperts(),
        e.topKExperts(), e.expertPar(), e.expertSlice(), e.dataParExp(), e.dataParExpNet(),
        e.expertParNet(), e.expertSliceNet(), e.datatype().jsonName, e.fusedActivation(),
        e.attentionType().jsonName, e.activationRecompute().jsonName, e.pipelineInterleaving(),
        e.optimizerSharding(), e.effectiveTpCommType().jsonName, e.tensorParOverlap().jsonName,
        e.seqParAgRedo(), e.dataParOverlap(), e.weightOffload(), e.activationsOffload(),
        e.optimizerOffload(), e.training(), e.modelMoE(), e.activationFunction().jsonName};
    if (values.length != Execution.FIELDS.length) {
      throw new AssertionError("execution dict out of step with Execution.FIELDS");
    }
    Map<String, Object> m = new LinkedHashMap<>(values.length * 2);
    for (int i = 0; i < values.length; i++) {
      m.put(Execution.FIELDS[i], values[i]);
    }
    m.putAll(optionalKeys(e));
    return m;
  }

  /**
   * The optional execution keys {@code e} says (layer, parallel and schedule options), with their
   * JSON values, so that a dict or a search result runs again as it ran.
   */
  public static Map<String, Object> optionalKeys(Execution e) {
    Map<String, Object> m = new LinkedHashMap<>();
    if (e.layerOptions().flashAttention() != null) {
      m.put("flash_attention", e.layerOptions().flashAttention());
    }
    if (!e.layerOptions().recomputeModules().isEmpty()) {
      m.put("recompute_modules", e.layerOptions().recomputeModules().stream().map(x -> x.jsonName).toList());
    }
    if (e.layerOptions().attentionKernel() != null) {
      m.put("attention_kernel", e.layerOptions().attentionKernel());
    }
    if (e.layerOptions().repeatKv()) {
      m.put("repeat_kv", true);
    }
    Precision p = e.precision();
    Datatype[] storage = {p.weights(), p.activations(), p.gradients(), p.masterWeights(), p.optimizerState()};
    for (int i = 0; i < storage.length; i++) {
      if (storage[i] != null) {
        m.put(Precision.KEYS[i], storage[i].jsonName);
      }
    }
    if (p.fp8Recipe() != null) {
      m.put(Precision.FP8_RECIPE_KEY, p.fp8Recipe().jsonName);
    }
    m.putAll(e.parallel().givenKeys());
    m.putAll(e.scheduleOptions().givenKeys());
    return m;
  }
}
