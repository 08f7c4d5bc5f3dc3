package calculon.cli;

import calculon.model.ModelVersion;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code --model-version}, shared by every command that evaluates the model (a picocli mixin). */
public final class ModelVersionOption {
  @Option(names = "--model-version", paramLabel = "VERSION", converter = Converter.class,
      description = "Which model to evaluate: calculon-moe reproduces Calculon-MoE number for "
          + "number (bugs included); corrected fixes the bugs listed in docs/deviations.md. "
          + "Default: ${DEFAULT-VALUE}.")
  ModelVersion version = ModelVersion.DEFAULT;

  public ModelVersion version() { return version; }

  static final class Converter implements ITypeConverter<ModelVersion> {
    @Override public ModelVersion convert(String value) {
      ModelVersion v = ModelVersion.fromCli(value);
      if (v == null) {
        throw new TypeConversionException("'" + value + "' is not a model version: use calculon-moe or corrected");
      }
      return v;
    }
  }
}
