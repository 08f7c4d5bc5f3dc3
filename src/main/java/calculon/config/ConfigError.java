package calculon.config;

/**
 * A configuration the user must fix: names the file, the field (a JSON path such as
 * {@code networks[1].ops.p2p}) and the rule it breaks. The CLI prints {@link #getMessage()} as one
 * line and exits with code 2.
 */
public final class ConfigError extends Exception {
  private static final long serialVersionUID = 1L;

  private final String file;
  private final String field;
  private final String rule;

  public ConfigError(String file, String field, String rule) {
    this(file, field, rule, file + ": " + (field == null || field.isEmpty() ? "" : field + ": ") + rule);
  }

  private ConfigError(String file, String field, String rule, String message) {
    super(message, null, false, false);
    this.file = file;
    this.field = field;
    this.rule = rule;
  }

  /**
   * An error whose message is {@code sentence} alone, for a sentence that names {@code file} itself
   * ({@code the stats output x.json is the model file given as MODEL; ...}).
   */
  public static ConfigError sentence(String file, String sentence) {
    return new ConfigError(file, "", sentence, sentence);
  }

  public String file() { return file; }

  public String field() { return field; }

  public String rule() { return rule; }
}
