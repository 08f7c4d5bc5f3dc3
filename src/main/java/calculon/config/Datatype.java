package calculon.config;

/** Numeric formats a processor may run and the bytes one element takes (reference system.py:25-31). */
public enum Datatype {
  FLOAT4("float4", 0.5),
  FLOAT8("float8", 1),
  FLOAT16("float16", 2),
  BFLOAT16("bfloat16", 2),
  FLOAT32("float32", 4);

  public final String jsonName;
  public final double bytesPerElement;

  Datatype(String jsonName, double bytesPerElement) {
    this.jsonName = jsonName;
    this.bytesPerElement = bytesPerElement;
  }

  private static final java.util.List<String> JSON_NAMES =
      java.util.Arrays.stream(values()).map(d -> d.jsonName).toList();

  /** The JSON names in declaration order (float4, float8, float16, bfloat16, float32): the candidates of a misspelt datatype's "did you mean". */
  public static java.util.List<String> jsonNames() { return JSON_NAMES; }

  /** @return the datatype with this JSON name, or null when there is none */
  public static Datatype fromJson(String name) {
    for (Datatype d : values()) {
      if (d.jsonName.equals(name)) {
        return d;
      }
    }
    return null;
  }
}
