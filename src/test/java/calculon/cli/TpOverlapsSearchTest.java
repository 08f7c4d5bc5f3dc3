package calculon.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import calculon.cli.CliRun.Run;
import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.RunChecks;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.config.TpOverlap;
import calculon.search.output.ResultFormat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --tp-overlaps}: a corrected search over the TP overlap modes asked writes only executions
 * a file with those keys may say (each row of {@code llm-all-executions} read again by the
 * execution reader and checked against the model and system), tries every asked mode where it can
 * run (userbuffers only with sequence parallelism, rs_ag), and its bad values are one line, exit 2.
 */
class TpOverlapsSearchTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "models/megatron-126M.json";
  private static final String SYSTEM = "systems/H100_SXM_80g_dense.json";

  @TempDir
  Path dir;

  @Test
  void everyWrittenExecutionPassesTheReaderAndEachModeRunsWhereValid() throws Exception {
    // the H100 without host memory: no offload choices, a smaller space
    ObjectNode sysJson = (ObjectNode) MAPPER.readTree(Path.of(SYSTEM).toFile());
    ((ObjectNode) sysJson.get("mem2")).put("GiB", 0);
    Path system = dir.resolve("h100.json");
    MAPPER.writeValue(system.toFile(), sysJson);
    Path out = dir.resolve("all.csv");
    Run r = CliRun.run(new AllExecutionsCommand(), MODEL, "4", "8", "bfloat16", system.toString(), out.toString(), "--quiet",
        "--tp-overlaps", "none,userbuffers,backward,async_tp", "--zero-stages", "1", "--no-dp-overlap");
    assertThat(r.status()).as(r.err()).isZero();
    Application app = ApplicationReader.read(Path.of(MODEL));
    SystemSpec sys = SystemReader.read(system);
    assertThat(sys.streamingMultiprocessors()).isGreaterThan(TpOverlap.USERBUFFERS_COMM_SMS);
    List<String> lines = Files.readAllLines(out);
    List<String> header = List.of(lines.get(0).split(",", -1));
    List<String> keys = ResultFormat.executionColumns(true);
    // the modes seen, by TP comm type, at TP > 1; the rows of each (TP, comm type, mode)
    Map<String, Set<String>> modes = new HashMap<>();
    Map<String, Integer> rows = new HashMap<>();
    for (int i = 1; i < lines.size(); i++) {
      List<String> cells = List.of(lines.get(i).split(",", -1));
      ObjectNode exe = MAPPER.createObjectNode();
      for (String k : keys) {
        exe.set(k, value(cells.get(header.indexOf(k))));
      }
      String row = "row " + i;
      Execution e = ExecutionReader.read(exe, row);
      assertThatCode(() -> RunChecks.check(app, e, sys, MODEL, row, SYSTEM)).as("%s", exe)
          .doesNotThrowAnyException();
      String overlap = exe.get("tensor_par_overlap").asText();
      if (exe.get("tensor_par").asInt() == 1) {
        assertThat(overlap).as(row).isEqualTo("none");
      } else {
        String comm = exe.get("tensor_par_comm_type").asText();
        modes.computeIfAbsent(comm, k -> new TreeSet<>()).add(overlap);
        // seq_par_ag_redo false with sequence parallelism, without full recompute: backward and
        // userbuffers re-gather anyway, so the search lists only their redo true twin (NoOpKnobs)
        boolean twin = comm.equals("rs_ag") && !exe.get("seq_par_ag_redo").asBoolean()
            && !exe.get("activation_recompute").asText().equals("full");
        rows.merge(exe.get("tensor_par").asInt() + " " + comm + (twin ? " redo-false" : "") + " " + overlap, 1,
            Integer::sum);
      }
    }
    assertThat(r.out()).contains("Total executions: " + (lines.size() - 1) + "\n",
        "Good executions: " + (lines.size() - 1) + "\n");
    // a mode changes no other choice: each one asked runs as many executions as none, but for
    // backward's and userbuffers' merged seq_par_ag_redo false twins
    for (Map.Entry<String, Integer> e : rows.entrySet()) {
      String none = e.getKey().substring(0, e.getKey().lastIndexOf(' ')) + " none";
      assertThat(e.getValue()).as(e.getKey()).isEqualTo(rows.get(none)).isPositive();
      if (e.getKey().endsWith("redo-false none")) {
        String prefix = e.getKey().substring(0, e.getKey().lastIndexOf(' '));
        assertThat(rows).as(prefix).doesNotContainKeys(prefix + " backward", prefix + " userbuffers");
      }
    }
    assertThat(modes.get("rs_ag")).containsExactly("async_tp", "backward", "none", "userbuffers");
    assertThat(modes.get("ar")).containsExactly("async_tp", "backward", "none");
    assertThat(modes.get("p2p_rs_ag")).containsExactly("async_tp", "backward", "none");
  }

  /** A CSV cell as the JSON value an execution file has: Python's True/False, integers, names. */
  private static JsonNode value(String cell) {
    if (cell.equals("True") || cell.equals("False")) {
      return MAPPER.getNodeFactory().booleanNode(cell.equals("True"));
    }
    if (cell.matches("-?\\d+")) {
      return MAPPER.getNodeFactory().numberNode(Long.parseLong(cell));
    }
    return MAPPER.getNodeFactory().textNode(cell);
  }

  @Test
  void theDefaultIsNoneRingPipe() throws Exception {
    Path a = dir.resolve("a.json");
    Path b = dir.resolve("b.json");
    Run ra = CliRun.runOptimalExecution(MODEL, "8", "16", "bfloat16", SYSTEM, a.toString(), "--quiet",
        "-t", "5", "-c", "1");
    Run rb = CliRun.runOptimalExecution(MODEL, "8", "16", "bfloat16", SYSTEM, b.toString(), "--quiet",
        "-t", "5", "-c", "1", "--tp-overlaps", "none,ring,pipe");
    assertThat(ra.status()).as(ra.err()).isZero();
    assertThat(rb.status()).as(rb.err()).isZero();
    assertThat(ra.out()).contains("Best sample rate: ");
    assertThat(rb.out().replaceAll("Calculation rate: .*\n", "").replace(b.toString(), ""))
        .isEqualTo(ra.out().replaceAll("Calculation rate: .*\n", "").replace(a.toString(), ""));
    assertThat(Files.readString(b)).isEqualTo(Files.readString(a));
  }

  @Test
  void badValuesAreOneLineExitTwo() {
    assertThat(bad("--tp-overlaps", "none,tiled"))
        .isEqualTo("--tp-overlaps: each mode must be none, ring, pipe, async_tp, backward or userbuffers, got \"tiled\"");
    assertThat(bad("--tp-overlaps", "backward,backward"))
        .isEqualTo("--tp-overlaps: a mode is listed twice: [backward, backward]");
    assertThat(bad("--tp-overlaps", ""))
        .isEqualTo("--tp-overlaps: each mode must be none, ring, pipe, async_tp, backward or userbuffers, got \"\"");
    assertThat(bad("--tp-overlaps", "userbuffers", "--no-tp-overlap"))
        .isEqualTo("--tp-overlaps: cannot be combined with --no-tp-overlap (which searches none only); drop one");
    assertThat(bad("--tp-overlaps", "none", "--model-version", "calculon-moe"))
        .isEqualTo("--tp-overlaps: enumerates the corrected model's execution keys; drop it or the model version "
            + "calculon-moe");
  }

  private String bad(String... flags) {
    Path out = dir.resolve("never.json");
    List<String> args = new java.util.ArrayList<>(List.of(MODEL, "8", "16", "bfloat16", SYSTEM, out.toString(),
        "--quiet"));
    args.addAll(List.of(flags));
    Run r = CliRun.runOptimalExecution(args.toArray(String[]::new));
    assertThat(r.status()).as(r.err()).isEqualTo(2);
    assertThat(r.err()).endsWith("\n").doesNotContain("Exception");
    assertThat(r.err().strip()).doesNotContain("\n").startsWith("calculon llm-optimal-execution: ");
    assertThat(out).doesNotExist();
    return r.err().strip().substring("calculon llm-optimal-execution: ".length());
  }
}
