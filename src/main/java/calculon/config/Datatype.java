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
