package calculon.cli;

import java.util.List;

/** The reference's {@code arg_true_false_all}: t/true/T/True/1, f/false/F/False/0, or both/all/*. */
final class FusedActivationConverter {
  private FusedActivationConverter() {}

  /** @return the values to try, in order, or null for an invalid argument */
  static List<Boolean> parse(String v) {
    return switch (v) {
      case "t", "true", "T", "True", "1" -> List.of(true);
      case "f", "false", "F", "False", "0" -> List.of(false);
      case "both", "all", "*" -> List.of(false, true);
      default -> null;
    };
  }
}
