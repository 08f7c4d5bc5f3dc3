package calculon.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PyFormatTest {

  /** Expected strings printed by Python 3.11 for the double with the given bits (hex literal). */
  @ParameterizedTest
  @CsvSource({
      "0x0.0000000000001p-1022, 5e-324",
      "0x1.52d02c7e14af6p+76, 1e+23",
      "0x1.52d02c7e14af6p+77, 2e+23",
      "0x1.c7e83209e90b2p+72, 8.41e+21",
      "0x1.0p+63, 9.223372036854776e+18",
      "0x1.3333333333334p-2, 0.30000000000000004",
      "0x1.1c37937e08000p+53, 1e+16",
      "0x1.1c37937e07fffp+53, 9999999999999998.0",
      "0x1.4f8b588e368f1p-17, 1e-05",
      "0x1.a36e2eb1c432dp-14, 0.0001",
      "0x1.02e4b6ce5dc68p-13, 0.00012345",
      "0x1.b69b4ba630f35p+56, 1.2345678901234568e+17",
      "0x1.fffffffffffffp+1023, 1.7976931348623157e+308",
      "0x1.0p-1022, 2.2250738585072014e-308",
      "0x1.c7805cb1b1be5p-15, 5.43e-05",
      "0x1.1e5aa40e00000p+41, 2459762695168.0",
      "0x1.0p+0, 1.0",
      "-0x0.0p+0, -0.0",
      "0x1.9p+6, 100.0",
      "0x1.c6bf526340000p+49, 1000000000000000.0",
      "0x1.edd2f1a9fbe77p+6, 123.456",
      "-0x1.0c6f7a0b5ed8dp-22, -2.5e-07",
      "0x1.0p-44, 5.684341886080802e-14",
      "0x1.0p+60, 1.152921504606847e+18",
      "0x1.5555555555555p-2, 0.3333333333333333",
      "0x1.5555555555555p-1, 0.6666666666666666",
      "0x0.0000000000003p-1022, 1.5e-323",
  })
  void reprIsPythonsShortestRoundTrip(String hex, String python) {
    assertThat(PyFormat.repr(Double.parseDouble(hex))).isEqualTo(python);
  }

  @Test
  void reprOfNonFiniteValuesIsPythons() {
    assertThat(PyFormat.repr(Double.POSITIVE_INFINITY)).isEqualTo("inf");
    assertThat(PyFormat.repr(Double.NEGATIVE_INFINITY)).isEqualTo("-inf");
    assertThat(PyFormat.repr(Double.NaN)).isEqualTo("nan");
  }

  /** Every float token Python wrote into the golden case files reads back and prints the same. */
  @Test
  void reprReproducesEveryFloatOfTheGoldenCases() throws IOException, URISyntaxException {
    Set<String> literals = new HashSet<>();
    JsonFactory factory = new JsonFactory();
    try (Stream<Path> files = Files.list(goldenCases())) {
      for (Path f : (Iterable<Path>) files::iterator) {
        try (JsonParser p = factory.createParser(f.toFile())) {
          for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
            if (t == JsonToken.VALUE_NUMBER_FLOAT) {
              literals.add(p.getText());
            }
          }
        }
      }
    }
    assertThat(literals).hasSizeGreaterThan(10_000);
    List<String> wrong = new ArrayList<>();
    for (String literal : literals) {
      String ours = PyFormat.repr(Double.parseDouble(literal));
      if (!ours.equals(literal)) {
        wrong.add(literal + " -> " + ours);
      }
    }
    assertThat(wrong).isEmpty();
  }

  /** 7,000 doubles (every power of two, random bit patterns, random decimals) as Python 3.11 prints them. */
  @Test
  void reprAndFixedMatchPythonOnAWideSample() throws IOException {
    List<String> wrong = new ArrayList<>();
    int checked = 0;
    try (var in = PyFormatTest.class.getResourceAsStream("/pyformat/repr-python311.txt")) {
      for (String line : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
        if (line.startsWith("#") || line.isEmpty()) {
          continue;
        }
        String[] cols = line.split("\t", -1);
        double x = Double.parseDouble(cols[0]);
        if (!PyFormat.repr(x).equals(cols[1])) {
          wrong.add("repr " + cols[0] + ": " + PyFormat.repr(x) + " != " + cols[1]);
        }
        if (!cols[2].isEmpty() && !PyFormat.fixed(x, 4).equals(cols[2])) {
          wrong.add("fixed " + cols[0] + ": " + PyFormat.fixed(x, 4) + " != " + cols[2]);
        }
        checked++;
      }
    }
    assertThat(checked).isGreaterThan(7000);
    assertThat(wrong).isEmpty();
  }

  /** Python f"{x:.Nf}": half-even on the exact binary value; the sign of a value that rounds to 0 stays. */
  @ParameterizedTest
  @CsvSource({
      "0.125, 2, 0.12",
      "2.675, 2, 2.67",
      "-0.00001, 4, -0.0000",
      "1.5, 0, 2",
      "2.5, 0, 2",
      "0.00005, 4, 0.0001",
      "0.00015, 4, 0.0001",
      "27.1234567, 2, 27.12",
      "-0.0, 4, -0.0000",
      "1e20, 4, 100000000000000000000.0000",
      "48.4249999, 2, 48.42",
  })
  void fixedRoundsLikePython(double x, int decimals, String python) {
    assertThat(PyFormat.fixed(x, decimals)).isEqualTo(python);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "0|bytes|0.000 iB",
      "-0.0|bytes|0.000 iB",
      "1023|bytes|1023.000 iB",
      "1024|bytes|1.000 kiB",
      "10417655808.0|bytes|9.702 GiB",
      "24566000000.0|bandwidth|24.566 GB/s",
      "-2048|base2|-2.000 k",
      "999.9999|base10|'1000.000 '",
      "999999.9999|base10|1000.000 k",
      "1.5e18|flops|1.500 EOps",
  })
  void humanFormatMatchesCalculonsUtil(double value, String type, String python) {
    assertThat(PyFormat.humanFormat(value, type)).isEqualTo(python);
  }

  /**
   * What calculon prints itself: below 1 KiB whole bytes, and the kibibyte symbol KiB (IEC
   * 80000-13) where human_format writes kiB; 0.0001 GiB = 107374.1824 B = 104.858 KiB.
   */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "0|0 B",
      "1023|1023 B",
      "1024|1.000 KiB",
      "107374.1824|104.858 KiB",
      "-2048|-2.000 KiB",
      "1048575|1023.999 KiB",
      "1048576|1.000 MiB",
      "10417655808.0|9.702 GiB",
  })
  void bytesUsesWholeBytesAndTheKibibyteSymbol(double value, String text) {
    assertThat(PyFormat.bytes(value)).isEqualTo(text);
  }

  @Test
  void humanFormatRejectsAnUnknownType() {
    assertThatThrownBy(() -> PyFormat.humanFormat(1, "furlongs")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void reprValueOfJavaValuesIsPythonsDictRepr() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("a", "it's");
    m.put("b", "say \"hi\"");
    m.put("c", "both ' \"");
    m.put("d", "tab\there");
    m.put("e", null);
    m.put("f", Arrays.asList(1.0, 1e-05));
    m.put("g", 42);
    m.put("h", true);
    assertThat(PyFormat.reprValue(m)).isEqualTo(
        "{'a': \"it's\", 'b': 'say \"hi\"', 'c': 'both \\' \"', 'd': 'tab\\there', 'e': None, "
            + "'f': [1.0, 1e-05], 'g': 42, 'h': True}");
  }

  @Test
  void reprValueOfParsedJsonKeepsIntsAndFloatsApart() throws IOException {
    JsonNode n = new ObjectMapper().readTree(
        "{\"bandwidth\": 900, \"latency\": 1e-05, \"ops\": {\"p2p\": [1.0, null]}, \"f\": false}");
    assertThat(PyFormat.reprValue(n))
        .isEqualTo("{'bandwidth': 900, 'latency': 1e-05, 'ops': {'p2p': [1.0, None]}, 'f': False}");
  }

  /**
   * The Schubfach path of {@link PyFormat#repr} against the exact {@link java.math.BigDecimal} path
   * it replaced, on 200,000 doubles by default ({@code -Dcalculon.pyformat.samples=N} for more; it
   * passed with 2,000,000 and 10,000,000 when the fast path was introduced): random bit patterns (every exponent, subnormals, both signs),
   * integers, short decimals at every exponent (one- and two-digit answers, where Java's and
   * Python's shortest rules differ), the neighbours of powers of two and ten, and the extremes.
   */
  @Test
  void schubfachReprEqualsTheExactPathOnRandomDoubles() {
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(20261204L);
    List<Double> special = new ArrayList<>(List.of(Double.MIN_VALUE, -Double.MIN_VALUE,
        Double.MAX_VALUE, Double.MIN_NORMAL, Math.nextDown(Double.MIN_NORMAL), -0.0, 0.0, 1.0, 0.1,
        5e-324, 1e23, 9007199254740993.0, 1e16, 1e-5, 1e-4, 123456789012345680.0));
    for (int k = -1074; k <= 1023; k++) {
      double p2 = Math.scalb(1.0, k);
      special.add(p2);
      special.add(Math.nextUp(p2));
      special.add(Math.nextDown(p2));
    }
    for (int k = -323; k <= 308; k++) {
      double p10 = Double.parseDouble("1e" + k);
      special.add(p10);
      special.add(Math.nextUp(p10));
      special.add(Math.nextDown(p10));
    }
    int n = 0;
    for (double x : special) {
      assertSameRepr(x);
      n++;
    }
    int samples = Integer.getInteger("calculon.pyformat.samples", 200_000);
    while (n < samples) {
      double x;
      switch (n % 4) {
        case 0: x = Double.longBitsToDouble(rnd.nextLong()); break;
        case 1: x = (double) (rnd.nextLong() >> rnd.nextInt(64)) * (rnd.nextInt(8) == 0 ? 1000 : 1); break;
        case 2: x = Double.parseDouble(rnd.nextInt(1, 100) + "e" + rnd.nextInt(-325, 309)); break;
        default: x = Double.longBitsToDouble(rnd.nextLong(0x0010000000000000L)) * (rnd.nextBoolean() ? 1 : -1);
      }
      assertSameRepr(x);
      n++;
    }
  }

  private static void assertSameRepr(double x) {
    String fast = PyFormat.repr(x);
    String exact = PyFormat.reprExact(x);
    if (!fast.equals(exact)) {
      throw new AssertionError(Double.toHexString(x) + ": fast " + fast + ", exact " + exact);
    }
  }

  static Path goldenCases() throws URISyntaxException {
    return Path.of(PyFormatTest.class.getResource("/goldens/public/cases").toURI());
  }
}
