package calculon.schedule;

import calculon.model.Layer;
import calculon.model.Stage;
import calculon.stats.LayerField;
import calculon.stats.Stats;
import java.util.ArrayList;
import java.util.List;

/**
 * The per-layer stats of a run ({@code llm -l}): each layer's sizes, per-pass flops, bytes,
 * arithmetic intensity and time, its tensor-parallel communication (tile, bytes, link and exposed
 * time, base and edge block) and its memory, by {@link LayerField}, as Calculon's
 * {@code layers} list gives them.
 */
final class LayerStatsWriter {
  private LayerStatsWriter() {}

  /** Per-layer stats in the reference's key order; the order of calls reproduces its overlap-exposure state. */
  static List<Stats.LayerStats> of(List<Layer> layers) {
    List<Stats.LayerStats> out = new ArrayList<>(layers.size());
    for (Layer l : layers) {
      double[] v = new double[LayerField.all().length];
      v[LayerField.INPUTS_SIZE.ordinal()] = l.inputsSize();
      v[LayerField.OUTPUTS_SIZE.ordinal()] = l.outputSize();
      passStats(l, Stage.FW, v, LayerField.FW_FLOPS, LayerField.FW_MEM_ACCESSED,
          LayerField.FW_ARITHMETIC_INTENSITY, LayerField.FW_PROCESSING_TIME);
      commStats(l, Stage.FW, v, LayerField.BASEBLOCK_FW_TP_COMM_TILE);
      passStats(l, Stage.AGRAD, v, LayerField.AGRAD_FLOPS, LayerField.AGRAD_MEM_ACCESSED,
          LayerField.AGRAD_ARITHMETIC_INTENSITY, LayerField.AGRAD_PROCESSING_TIME);
      commStats(l, Stage.AGRAD, v, LayerField.BASEBLOCK_BW_TP_COMM_TILE);
      passStats(l, Stage.WGRAD, v, LayerField.WGRAD_FLOPS, LayerField.WGRAD_MEM_ACCESSED,
          LayerField.WGRAD_ARITHMETIC_INTENSITY, LayerField.WGRAD_PROCESSING_TIME);
      commStats(l, Stage.WGRAD, v, LayerField.BASEBLOCK_RECOMM_TILE);
      passStats(l, Stage.OPTIM, v, LayerField.OPTIM_FLOPS, LayerField.OPTIM_MEM_ACCESSED,
          LayerField.OPTIM_ARITHMETIC_INTENSITY, LayerField.OPTIM_PROCESSING_TIME);
      v[LayerField.WEIGHT.ordinal()] = l.weight();
      v[LayerField.ACTIVATION.ordinal()] = l.activation();
      v[LayerField.WEIGHT_GRAD.ordinal()] = l.weightGrad(true);
      v[LayerField.ACTIVATION_GRAD.ordinal()] = l.activationGrad();
      v[LayerField.OPTIMIZER.ordinal()] = l.optimizer();
      out.add(new Stats.LayerStats(l.name(), v));
    }
    return out;
  }

  private static void passStats(Layer l, Stage s, double[] v, LayerField flops, LayerField mem,
                                LayerField intensity, LayerField time) {
    v[flops.ordinal()] = l.flops(s);
    v[mem.ordinal()] = l.memAccessed(s);
    v[intensity.ordinal()] = l.arithmeticIntensity(s);
    v[time.ordinal()] = l.processingTime(s);
  }

  /** Eight consecutive fields starting at {@code first}: tile, size, time and exposed time, base then edge. */
  private static void commStats(Layer l, Stage s, double[] v, LayerField first) {
    int i = first.ordinal();
    v[i] = l.commTile(s, true);
    v[i + 1] = l.commTile(s, false);
    v[i + 2] = l.commBytes(s, true);
    v[i + 3] = l.commBytes(s, false);
    v[i + 4] = l.netTime(s, true);
    v[i + 5] = l.netTime(s, false);
    v[i + 6] = l.exposedNetTime(s, true);
    v[i + 7] = l.exposedNetTime(s, false);
  }
}
