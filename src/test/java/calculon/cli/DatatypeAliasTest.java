package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A search's DATATYPE argument given by a common short name ({@code bf16}, {@code fp8}: Megatron-LM's
 * flag spellings) is refused like any other unknown datatype, with the full name as its "did you
 * mean"; nothing is written.
 */
class DatatypeAliasTest {
  @TempDir
  Path dir;

  private String line(String datatype) {
    return "calculon llm-optimal-execution: Invalid value for positional parameter at index 3 (DATATYPE): invalid choice: '"
        + datatype + "' (choose from 'float4', 'float8', 'float16', 'bfloat16', 'float32')";
  }

  @Test
  void bf16SuggestsBfloat16() {
    Path out = dir.resolve("x.json");
    CliRun.Run r = CliRun.run("loe", "models/megatron-1T.json", "5128", "2520", "bf16", "systems/a100_80g.json",
        out.toString(), "-d");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).isEqualTo(line("bf16") + " (did you mean \"bfloat16\"?); see 'calculon llm-optimal-execution --help'\n");
    assertThat(out).doesNotExist();
  }

  @Test
  void fp8SuggestsFloat8() {
    CliRun.Run r = CliRun.run("loe", "models/megatron-1T.json", "5128", "2520", "fp8", "systems/a100_80g.json",
        dir.resolve("x.json").toString());
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).isEqualTo(line("fp8") + " (did you mean \"float8\"?); see 'calculon llm-optimal-execution --help'\n");
  }
}
