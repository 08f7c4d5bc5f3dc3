package calculon.stats;

import calculon.config.Application;
import calculon.config.Execution;
import calculon.config.SystemSpec;
import java.util.List;

/**
 * The result of one evaluation: every stats value by {@link StatField}, the per-layer stats when
 * asked for, and the few extra figures the text summary prints.
 */
public final class Stats {
  private final double[] values = new double[StatField.values().length];
  /** Fields whose value is JSON null (the reference's act_checkpoint_size_with_offload for inference). */
  private final boolean[] nulls = new boolean[StatField.values().length];
  private List<LayerStats> layers;
  private final Application application;
  private final Execution execution;
  private final SystemSpec system;
  private int blocksPerProc;
  private double totalWeightParams;

  public Stats(Application application, Execution execution, SystemSpec system) {
    this.application = application;
    this.execution = execution;
    this.system = system;
  }

  public double get(StatField f) { return values[f.ordinal()]; }

  public boolean isNull(StatField f) { return nulls[f.ordinal()]; }

  public void set(StatField f, double v) {
    values[f.ordinal()] = v;
    nulls[f.ordinal()] = false;
  }

  public void setNull(StatField f) {
    values[f.ordinal()] = 0;
    nulls[f.ordinal()] = true;
  }

  public List<LayerStats> layers() { return layers; }

  public void setLayers(List<LayerStats> layers) { this.layers = layers; }

  public Application application() { return application; }

  public Execution execution() { return execution; }

  public SystemSpec system() { return system; }

  public int blocksPerProc() { return blocksPerProc; }

  public void setBlocksPerProc(int b) { this.blocksPerProc = b; }

  /** Parameters of the whole model as the fork's summary counts them (attention and MLP parts). */
  public double totalWeightParams() { return totalWeightParams; }

  public void setTotalWeightParams(double p) { this.totalWeightParams = p; }

  /** Stats of one layer: its name and its values by {@link LayerField} (the NAME slot is unused). */
  public record LayerStats(String name, double[] values) {
    public double get(LayerField f) { return values[f.ordinal()]; }
  }
}
