package calculon.cli;

import java.util.List;

/**
 * A command that knows why a user may give it an option it does not have, and says where that
 * option is: {@link Main#usageErrorLine} puts the hint in brackets in its one line, instead of
 * picocli's near-miss suggestions.
 */
interface UnknownOptionHint {
  /**
   * The hint for these unknown arguments (as picocli lists them: options and the values it did
   * not match), or null when there is none.
   */
  String hintFor(List<String> unmatched);
}
