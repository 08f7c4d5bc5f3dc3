package calculon.config;

/**
 * Storage datatypes apart from the compute datatype (the execution's {@code datatype}, what the
 * matrix unit runs at). Optional execution keys {@code weight_datatype},
 * {@code activation_datatype}, {@code gradient_datatype}, {@code master_weight_datatype} and
 * {@code optimizer_datatype}; a null field means the model version's default (see
 * {@code calculon.model.StorageBytes}).
 */
public record Precision(Datatype weights, Datatype activations, Datatype gradients, Datatype masterWeights,
                        Datatype optimizerState) {

  /** Every storage type left to the model version's defaults. */
  public static final Precision DEFAULTS = new Precision(null, null, null, null, null);

  /** The optional execution keys, in the order of the fields. */
  public static final String[] KEYS = {
      "weight_datatype", "activation_datatype", "gradient_datatype", "master_weight_datatype", "optimizer_datatype"};
}
