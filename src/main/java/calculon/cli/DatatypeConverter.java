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
      // the reference's argparse wording, plus the readers' hint for a near miss
      throw new TypeConversionException("invalid choice: '" + v
          + "' (choose from 'float4', 'float8', 'float16', 'bfloat16', 'float32')"
          + calculon.config.NearMiss.didYouMean(v, Datatype.jsonNames()));
    }
    return d;
  }
}
