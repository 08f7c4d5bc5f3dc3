package calculon.cli;

import calculon.config.Datatype;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** A datatype by its JSON name (float4, float8, float16, bfloat16, float32). */
final class DatatypeConverter implements ITypeConverter<Datatype> {
  @Override
  public Datatype convert(String v) {
    Datatype d = Datatype.fromJson(v);
    if (d == null) {
      throw new TypeConversionException("invalid choice: '" + v
          + "' (choose from 'float4', 'float8', 'float16', 'bfloat16', 'float32')");
    }
    return d;
  }
}
