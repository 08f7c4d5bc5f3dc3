package calculon.model;

import calculon.config.Datatype;
import calculon.config.Execution;
import calculon.config.Precision;

/**
 * Bytes per element of each kind of stored tensor. The compute datatype sets what the matrix unit
 * runs at; storage follows the execution's optional {@code *_datatype} keys, else the model
 * version's defaults: weights, activations and gradients in the compute type (Calculon-MoE), or in
 * bf16 when the compute type is narrower (corrected: FP8 training keeps bf16 copies, as Transformer
 * Engine and Megatron do); master weights and Adam moments in fp32 (Calculon's layers.py:264-278).
 *
 * @param weights     stored weights (and their memory traffic)
 * @param activations activations, their gradients and everything communicated
 * @param gradients   weight gradients as kept between accumulation and the optimizer step
 * @param master      the master copy of the weights the optimizer updates (none when the
 *                    weights themselves are at least this wide)
 * @param optimizer   each of Adam's two moments
 */
public record StorageBytes(double weights, double activations, double gradients, double master, double optimizer) {
  static final double FP32_BYTES = 4;
  /** Bytes of a stored bf16 value: FP8 training keeps its weights, activations and gradients in bf16. */
  static final double BF16_BYTES = 2;

  public static StorageBytes of(Execution exe, ModelVersion version) {
    Precision p = exe.precision();
    // Calculon-MoE stores everything in the compute type, which makes FP8 runs 30-45% too fast
    double compute = exe.datatype().bytesPerElement;
    double base = version.corrected() && compute < BF16_BYTES ? BF16_BYTES : compute;
    return new StorageBytes(or(p.weights(), base), or(p.activations(), base), or(p.gradients(), base),
        or(p.masterWeights(), FP32_BYTES), or(p.optimizerState(), FP32_BYTES));
  }

  private static double or(Datatype d, double fallback) {
    return d == null ? fallback : d.bytesPerElement;
  }
}
