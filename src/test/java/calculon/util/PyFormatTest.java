package calculon.util;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PyFormatTest {
  @Test
  void pythonRepr() {
    assertThat(PyFormat.repr(5.43e-05)).isEqualTo("5.43e-05");
    assertThat(PyFormat.repr(0.0001)).isEqualTo("0.0001");
    assertThat(PyFormat.repr(1e16)).isEqualTo("1e+16");
    assertThat(PyFormat.repr(9999999999999998.0)).isEqualTo("9999999999999998.0");
    assertThat(PyFormat.repr(2459762695168.0)).isEqualTo("2459762695168.0");
    assertThat(PyFormat.repr(60.058548240925575)).isEqualTo("60.058548240925575");
    assertThat(PyFormat.repr(0.1)).isEqualTo("0.1");
    assertThat(PyFormat.repr(-1.5e-10)).isEqualTo("-1.5e-10");
    assertThat(PyFormat.repr(1e22)).isEqualTo("1e+22");
    assertThat(PyFormat.repr(0.0)).isEqualTo("0.0");
  }
}
