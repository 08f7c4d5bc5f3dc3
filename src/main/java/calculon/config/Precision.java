package calculon.config;

/**
 * Storage datatypes apart from the compute datatype (the execution's {@code datatype}, what the
 * matrix unit runs at). Optional execution keys {@code weight_datatype},
 * {@code activation_datatype}, {@code gradient_datatype}, {@code master_weight_datatype} and
 * {@code optimizer_datatype}; a null field means the model version's default (see
 * {@code calculon.model.StorageBytes}). {@code fp8_recipe} ({@link Fp8Recipe}) says how a float8 run
 * casts its matmul operands; null: Transformer Engine's delayed scaling.
 */
public record Precision(Datatype weights, Datatype activations, Datatype gradients, Datatype masterWeights,
                        Datatype optimizerState, Fp8Recipe fp8Recipe) {

  /** Storage types with the default FP8 recipe. */
  public Precision(Datatype weights, Datatype activations, Datatype gradients, Datatype masterWeights,
                   Datatype optimizerState) {
    this(weights, activations, gradients, masterWeights, optimizerState, null);
  }

  /** Every storage type left to the model version's defaults. */
  public static final Precision DEFAULTS = new Precision(null, null, null, null, null);

  /** The execution key of {@link #fp8Recipe()}: null when absent (Transformer Engine's delayed scaling). */
  public static final String FP8_RECIPE_KEY = "fp8_recipe";

  /** A copy without {@code fp8_recipe} (what a run or search that is not float8 keeps of it: nothing). */
  public Precision withoutFp8Recipe() {
    return fp8Recipe == null ? this : new Precision(weights, activations, gradients, masterWeights, optimizerState, null);
  }

  /** The FP8 recipe a float8 run uses: the file's, else {@link Fp8Recipe#DELAYED}. */
  public Fp8Recipe fp8RecipeOrDefault() {
    return fp8Recipe == null ? Fp8Recipe.DELAYED : fp8Recipe;
  }

  /** The optional execution keys, in the order of the fields. */
  public static final String[] KEYS = {
      "weight_datatype", "activation_datatype", "gradient_datatype", "master_weight_datatype", "optimizer_datatype"};
}
