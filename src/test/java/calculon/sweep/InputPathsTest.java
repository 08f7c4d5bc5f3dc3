package calculon.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SPEC's input file as named from the working folder: the SPEC's folder as given joined with the
 * SPEC's name, {@code ..} taken out where that still names the same file.
 */
class InputPathsTest {
  @TempDir
  Path dir;

  @Test
  void aNameIsJoinedToTheSpecsFolderAsGiven() {
    assertThat(InputPaths.fromHere(Path.of("examples/sweeps/quick.json"), "../3072_t4_p64_d12_mbs4_full.json"))
        .isEqualTo(Path.of("examples/3072_t4_p64_d12_mbs4_full.json").toString());
    assertThat(InputPaths.fromHere(Path.of("examples/sweeps/quick.json"), "../../models/megatron-1T.json"))
        .isEqualTo(Path.of("models/megatron-1T.json").toString());
  }

  @Test
  void aSpecInTheWorkingFolderAndAnAbsoluteNameKeepTheSpecsName() {
    assertThat(InputPaths.fromHere(Path.of("spec.json"), "../models/m.json")).isEqualTo("../models/m.json");
    String abs = dir.resolve("m.json").toString();
    assertThat(InputPaths.fromHere(Path.of("examples/sweeps/quick.json"), abs)).isEqualTo(abs);
  }

  @Test
  void anAbsoluteSpecPathGivesAnAbsoluteName() throws Exception {
    Files.createDirectories(dir.resolve("specs"));
    Files.writeString(dir.resolve("m.json"), "{}");
    assertThat(InputPaths.fromHere(dir.resolve("specs/spec.json"), "../m.json")).isEqualTo(dir.resolve("m.json").toString());
  }

  @Test
  void aDotDotAfterASymbolicLinkIsKept() throws Exception {
    // specs is a link to deep/er: specs/../m.json is deep/m.json, not m.json beside specs
    Files.createDirectories(dir.resolve("deep/er"));
    Files.writeString(dir.resolve("deep/m.json"), "{\"in\": \"deep\"}");
    Files.writeString(dir.resolve("m.json"), "{\"in\": \"top\"}");
    Files.createSymbolicLink(dir.resolve("specs"), dir.resolve("deep/er"));
    String named = InputPaths.fromHere(dir.resolve("specs/spec.json"), "../m.json");
    assertThat(named).isEqualTo(dir.resolve("specs/../m.json").toString());
    assertThat(Files.readString(Path.of(named))).isEqualTo("{\"in\": \"deep\"}");
  }

  @Test
  void aStatusHasEachWholeNameRewrittenAndNothingElse() throws Exception {
    Files.copy(Path.of("examples/3072_t4_p64_d12_mbs4_full.json"), dir.resolve("exe.json"));
    SweepSpec spec = SweepSpec.read(Files.writeString(Files.createDirectories(dir.resolve("specs")).resolve("spec.json"),
        "{\"models\": [\"" + SweepTest.abs("models/megatron-1T.json") + "\"], \"systems\": [\""
            + SweepTest.abs("systems/a100_80g.json") + "\"], \"execution\": \"../exe.json\", \"grid\": {}}"));
    InputPaths paths = InputPaths.of(dir.resolve("specs/spec.json"), spec);
    String exe = dir.resolve("exe.json").toString();
    assertThat(paths.rewrite("invalid: ../exe.json: num_procs: must equal 2304, got 3072"))
        .isEqualTo("invalid: " + exe + ": num_procs: must equal 2304, got 3072");
    assertThat(paths.rewrite("the value 3 makes ../exe.json invalid (../exe.json).")).isEqualTo(
        "the value 3 makes " + exe + " invalid (" + exe + ").");
    // part of another name, or a longer name, is not the file
    assertThat(paths.rewrite("a/../exe.json and ../exe.json.gz and ../exe.jsonx")).isEqualTo(
        "a/../exe.json and ../exe.json.gz and ../exe.jsonx");
    // the absolute names stay
    String model = SweepTest.abs("models/megatron-1T.json");
    assertThat(paths.rewrite("invalid: " + model + ": hidden")).isEqualTo("invalid: " + model + ": hidden");
  }
}
