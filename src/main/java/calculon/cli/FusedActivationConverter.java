package calculon.cli;

import java.util.List;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** The reference's {@code arg_true_false_all}: t/true/T/True/1, f/false/F/False/0, or both/all/*. */
final class FusedActivationConverter implements ITypeConverter<List<Boolean>> {
  @Override
  public List<Boolean> convert(String v) {
    return switch (v) {
      case "t", "true", "T", "True", "1" -> List.of(true);
      case "f", "false", "F", "False", "0" -> List.of(false);
      case "both", "all", "*" -> List.of(false, true);
      default -> throw new TypeConversionException("Invalid true/false/all: " + v);
    };
  }
}
