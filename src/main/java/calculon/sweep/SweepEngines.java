package calculon.sweep;

import calculon.config.ConfigError;
import java.lang.reflect.InvocationTargetException;

/**
 * The engines by name. {@code local} is this module's; {@code spark} lives in the optional
 * {@code spark/} module (class {@value #SPARK_CLASS}) and is found on the classpath, so the main
 * jar needs no Spark.
 */
public final class SweepEngines {
  private SweepEngines() {}

  /** The Spark engine's class, in the calculon-spark module. */
  public static final String SPARK_CLASS = "calculon.spark.SparkSweepEngine";

  /**
   * @param name    local or spark
   * @param master  the Spark master URL (spark only; null: spark-submit's or local[*])
   * @param threads local worker threads
   * @throws ConfigError for an unknown engine or a Spark engine that is not on the classpath
   */
  public static SweepEngine create(String name, String master, int threads) throws ConfigError {
    switch (name) {
      case "local":
        return new LocalEngine(threads);
      case "spark":
        try {
          Class<?> c = Class.forName(SPARK_CLASS);
          return (SweepEngine) c.getConstructor(String.class).newInstance(master);
        } catch (ClassNotFoundException | NoClassDefFoundError e) {
          throw new ConfigError("--engine", "", "spark is not on the classpath: run ./bin/calculon (it adds "
              + "the spark module when --engine spark is given) or spark-submit the calculon-spark jar");
        } catch (InvocationTargetException e) {
          throw new ConfigError("--engine", "", "spark could not start: " + e.getCause());
        } catch (ReflectiveOperationException e) {
          throw new ConfigError("--engine", "", "spark could not start: " + e);
        }
      default:
        throw new ConfigError("--engine", "", "must be local or spark, got " + name);
    }
  }
}
