package calculon.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The optional price and power keys of a system file, per processor (GPU): what one processor
 * with its memories and network ports costs to buy, and what it draws. Neither changes the model's
 * numbers; sweeps turn them into cost and energy (see {@code calculon.sweep.Metrics} and
 * docs/reference.md, "System keys"). Every key is optional and defaults to 0.
 *
 * <pre>
 * "price": {"gpu_usd": 20000, "mem1_usd_per_GiB": 0, "mem2_usd_per_GiB": 0,
 *           "network_usd_per_port": [0, 0]}          // one entry per network tier
 * "power": {"gpu_load_watts": 700, "gpu_idle_watts": 100, "mem1_watts_per_GiB": 0,
 *           "mem2_watts_per_GiB": 0, "network_watts_per_port": [0, 0]}
 * </pre>
 *
 * SC23 (Isaev et al., "Calculon", Table 3) prices a design as processor + HBM GiB x $/GiB + DDR
 * GiB x $/GiB; {@code price} expresses exactly that with {@code mem1} = HBM and {@code mem2} = DDR.
 *
 * @param price null when the file has no {@code price}
 * @param power null when the file has no {@code power}
 */
public record SystemEconomics(Price price, Power power) {

  /** Purchase price of one processor, its memory and its network ports, US dollars. */
  public record Price(double gpuUsd, double mem1UsdPerGiB, double mem2UsdPerGiB, double[] networkUsdPerPort) {
    /** gpu + mem1 GiB x $/GiB + mem2 GiB x $/GiB + one port on each network tier. */
    public double perProcessorUsd(SystemSpec sys) {
      double usd = gpuUsd + sys.mem1().gib() * mem1UsdPerGiB + sys.mem2().gib() * mem2UsdPerGiB;
      for (double p : networkUsdPerPort) {
        usd += p;
      }
      return usd;
    }
  }

  /** Power draw of one processor, its memory and its network ports, watts. */
  public record Power(double gpuLoadWatts, double gpuIdleWatts, double mem1WattsPerGiB,
                      double mem2WattsPerGiB, double[] networkWattsPerPort) {
    /** What draws for the whole step regardless of load: memories and network ports, watts. */
    public double staticWatts(SystemSpec sys) {
      double w = sys.mem1().gib() * mem1WattsPerGiB + sys.mem2().gib() * mem2WattsPerGiB;
      for (double p : networkWattsPerPort) {
        w += p;
      }
      return w;
    }
  }

  /** Top-level keys of a system file these records read. */
  public static final List<String> KEYS = List.of("price", "power");

  private static final List<String> PRICE_KEYS =
      List.of("gpu_usd", "mem1_usd_per_GiB", "mem2_usd_per_GiB", "network_usd_per_port");
  private static final List<String> POWER_KEYS = List.of("gpu_load_watts", "gpu_idle_watts",
      "mem1_watts_per_GiB", "mem2_watts_per_GiB", "network_watts_per_port");

  /** No price, no power. */
  public static final SystemEconomics NONE = new SystemEconomics(null, null);

  /** The price and power of a parsed system file (its {@link SystemSpec#raw()}). */
  public static SystemEconomics of(SystemSpec sys) {
    try {
      return read(new JsonFields(sys.name()), (JsonNode) sys.raw(), sys.networks().size());
    } catch (ConfigError | ClassCastException e) {
      // readSystem checked them already; a SystemSpec built in code has none
      return NONE;
    }
  }

  /**
   * Reads and checks {@code price} and {@code power}: objects of the keys above, each a finite
   * number &gt;= 0, the per-port lists one entry per network tier.
   */
  static SystemEconomics read(JsonFields j, JsonNode node, int networks) throws ConfigError {
    if (node == null || !node.isObject()) {
      return NONE;
    }
    Price price = null;
    Power power = null;
    JsonNode p = node.get("price");
    if (p != null) {
      j.object(p, "price", "US dollars per processor: " + String.join(", ", PRICE_KEYS));
      j.noUnknownKeys(p, "price", new LinkedHashSet<>(PRICE_KEYS), "price has " + String.join(", ", PRICE_KEYS));
      price = new Price(amount(j, p, "price", "gpu_usd"), amount(j, p, "price", "mem1_usd_per_GiB"),
          amount(j, p, "price", "mem2_usd_per_GiB"), perTier(j, p, "price", "network_usd_per_port", networks));
    }
    JsonNode w = node.get("power");
    if (w != null) {
      j.object(w, "power", "watts per processor: " + String.join(", ", POWER_KEYS));
      j.noUnknownKeys(w, "power", new LinkedHashSet<>(POWER_KEYS), "power has " + String.join(", ", POWER_KEYS));
      double load = amount(j, w, "power", "gpu_load_watts");
      double idle = amount(j, w, "power", "gpu_idle_watts");
      if (idle > load) {
        throw j.error("power.gpu_idle_watts", "must not exceed gpu_load_watts (" + load + "), got " + idle);
      }
      power = new Power(load, idle, amount(j, w, "power", "mem1_watts_per_GiB"),
          amount(j, w, "power", "mem2_watts_per_GiB"), perTier(j, w, "power", "network_watts_per_port", networks));
    }
    return new SystemEconomics(price, power);
  }

  private static double amount(JsonFields j, JsonNode obj, String path, String key) throws ConfigError {
    JsonNode v = obj.get(key);
    if (v == null) {
      return 0;
    }
    return nonNegative(j, v, JsonFields.join(path, key));
  }

  private static double nonNegative(JsonFields j, JsonNode v, String path) throws ConfigError {
    if (!v.isNumber() || !Double.isFinite(v.doubleValue()) || v.doubleValue() < 0) {
      throw j.error(path, "must be 0 or more, got " + JsonFields.describe(v));
    }
    return v.doubleValue();
  }

  private static double[] perTier(JsonFields j, JsonNode obj, String path, String key, int networks)
      throws ConfigError {
    JsonNode v = obj.get(key);
    if (v == null) {
      return new double[networks];
    }
    String at = JsonFields.join(path, key);
    j.array(v, at);
    if (v.size() != networks) {
      throw j.error(at, "must have one entry per network tier (" + networks + "), got " + v.size());
    }
    double[] out = new double[networks];
    for (int i = 0; i < networks; i++) {
      out[i] = nonNegative(j, v.get(i), JsonFields.index(at, i));
    }
    return out;
  }

  /** Whether {@code key} is one of the optional top-level keys read here. */
  static boolean isKey(String key) {
    return KEYS.contains(key);
  }

  static Set<String> keys() { return new LinkedHashSet<>(KEYS); }
}
