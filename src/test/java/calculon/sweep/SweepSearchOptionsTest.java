package calculon.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import calculon.cli.CliRun;
import calculon.search.output.ResultFormat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sweep's {@code search} object reaches every option of the search commands, with their meaning,
 * defaults and rules: a point searched with {@code zero_stages}, {@code context_par},
 * {@code cp_comm_types}, {@code pipeline_schedules}, {@code flash_attention} or an
 * {@code execution_template} finds the execution (and sample rate) {@code llm-optimal-execution}
 * finds with the same flags, its row says which ZeRO stage, CP and schedule won, a bad value is one
 * line naming the SPEC field and the command's rule, and these keys sweep as grid fields.
 */
class SweepSearchOptionsTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "models/megatron-126M.json";
  private static final String SYSTEM = "systems/H100_SXM_80g_dense.json";

  @TempDir
  Path dir;

  Path write(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, text);
    return p;
  }

  /** A one-point search sweep of megatron-126M on 8 GPUs, batch up to 16, with {@code extra} search keys. */
  static String spec(String extra, String rest) {
    return "{\"models\": [\"" + SweepTest.abs(MODEL) + "\"], \"systems\": [\"" + SweepTest.abs(SYSTEM) + "\"],"
        + " \"search\": {\"command\": \"loe\", \"num_procs\": 8, \"max_batch_size\": 16, \"datatype\": \"bfloat16\","
        + " \"tp_overlap\": false, \"dp_overlap\": false" + extra + "}" + rest + "}";
  }

  /** The rank-1 record of point {@code i} of a sweep, as JSON. */
  JsonNode best(Path spec, long i) throws Exception {
    Sweep s = SweepTest.sweep(spec, SweepFormat.JSONL);
    String text = s.evaluate(i).text();
    return MAPPER.readTree(text.substring(0, text.indexOf('\n')));
  }

  /** The best entry of {@code llm-optimal-execution} on the same inputs with {@code flags}. */
  JsonNode command(String... flags) throws Exception {
    List<String> args = new ArrayList<>(List.of("--no-tp-overlap"));
    args.addAll(List.of(flags));
    return commandTp(args.toArray(String[]::new));
  }

  /** As {@link #spec} with TP overlap on ({@code tp_overlap} true), as {@code tp_overlaps} needs. */
  static String specTp(String extra, String rest) {
    return spec(extra, rest).replace("\"tp_overlap\": false", "\"tp_overlap\": true");
  }

  /** As {@link #command} without {@code --no-tp-overlap}. */
  JsonNode commandTp(String... flags) throws Exception {
    Path out = dir.resolve("cli" + System.nanoTime() + ".json");
    List<String> args = new ArrayList<>(List.of("llm-optimal-execution", MODEL, "8", "16", "bfloat16", SYSTEM,
        out.toString(), "--no-dp-overlap", "--quiet", "-c", "1"));
    args.addAll(List.of(flags));
    CliRun.Run r = CliRun.run(args.toArray(String[]::new));
    assertThat(r.status()).as(r.err()).isZero();
    return MAPPER.readTree(out.toFile()).get("0");
  }

  /** The sweep's best record holds the command's best: the sample rate and every execution column. */
  static void sameAsCommand(JsonNode row, JsonNode cli) {
    assertThat(row.get("status").asText()).isEqualTo("ok");
    assertThat(row.get("sample_rate").asDouble()).isEqualTo(cli.get("stats").get("sample_rate").asDouble());
    for (String k : ResultFormat.executionColumns(true)) {
      assertThat(row.get(k)).as(k).isEqualTo(cli.get("execution").get(k));
    }
  }

  /** {@code "offload": false} is {@code --no-offload}: the command's best without offload, and no offload flag set. */
  @Test
  void offloadFalseGivesTheCommandsBestWithoutOffload() throws Exception {
    JsonNode row = best(write("o.json", spec(", \"offload\": false, \"zero_stages\": [1], \"context_par\": [1]", "")), 0);
    for (String k : List.of("weight_offload", "activations_offload", "optimizer_offload")) {
      assertThat(row.get(k).asBoolean()).as(k).isFalse();
    }
    sameAsCommand(row, command("--no-offload", "--zero-stages", "1", "--context-par", "1"));
  }

  @Test
  void zeroStagesOneGivesTheCommandsBestAtStageOne() throws Exception {
    JsonNode row = best(write("z.json", spec(", \"zero_stages\": [1]", "")), 0);
    assertThat(row.get("zero_stage").asInt()).isEqualTo(1);
    sameAsCommand(row, command("--zero-stages", "1"));
  }

  @Test
  void theDefaultSpaceIsTheCommandsDefaultSpace() throws Exception {
    // no option: every ZeRO stage and the long-sequence CP degrees, as llm-optimal-execution
    sameAsCommand(best(write("d.json", spec("", "")), 0), command());
  }

  @Test
  void contextParallelismAndItsCommTypeAreTheCommands() throws Exception {
    Path p = write("cp.json", spec(", \"context_par\": [2], \"cp_comm_types\": [\"a2a\"], \"zero_stages\": [3]",
        ", \"top_n\": 1000"));
    String text = SweepTest.sweep(p, SweepFormat.JSONL).evaluate(0).text();
    // CP 1 always runs (CP off); CP 2 only with Ulysses, ZeRO 3 wherever DP x CP > 1
    int cp2 = 0;
    for (String line : text.split("\n")) {
      JsonNode r = MAPPER.readTree(line);
      int cp = r.get("context_par").asInt();
      assertThat(cp).isIn(1, 2);
      if (cp == 2) {
        cp2++;
        assertThat(r.get("context_par_comm_type").asText()).isEqualTo("a2a");
      }
      assertThat(r.get("zero_stage").asInt()).isEqualTo(r.get("data_par").asInt() * cp > 1 ? 3 : 0);
    }
    assertThat(cp2).isPositive();
    sameAsCommand(best(p, 0), command("--context-par", "2", "--cp-comm-types", "a2a", "--zero-stages", "3"));
    // "all" and max_context_par as --context-par all / --max-context-par
    sameAsCommand(best(write("cpall.json", spec(", \"context_par\": \"all\", \"max_context_par\": 4", "")), 0),
        command("--context-par", "all", "--max-context-par", "4"));
  }

  @Test
  void tpOverlapsAreTheCommands() throws Exception {
    // a list, and one name standing for a one-name list
    Path p = write("tpo.json", specTp(", \"tp_overlaps\": [\"backward\", \"userbuffers\"], \"zero_stages\": [1]",
        ", \"top_n\": 50"));
    String text = SweepTest.sweep(p, SweepFormat.JSONL).evaluate(0).text();
    for (String line : text.split("\n")) {
      JsonNode r = MAPPER.readTree(line);
      String mode = r.get("tensor_par_overlap").asText();
      assertThat(mode).isIn(r.get("tensor_par").asInt() == 1 ? List.of("none") : List.of("backward", "userbuffers"));
      if (mode.equals("userbuffers")) {
        assertThat(r.get("tensor_par_comm_type").asText()).isEqualTo("rs_ag");
      }
    }
    sameAsCommand(best(p, 0), commandTp("--tp-overlaps", "backward,userbuffers", "--zero-stages", "1"));
    sameAsCommand(best(write("tpo1.json", specTp(", \"tp_overlaps\": \"userbuffers\", \"zero_stages\": [1]", "")), 0),
        commandTp("--tp-overlaps", "userbuffers", "--zero-stages", "1"));
    // swept: each value a list or one name
    Sweep g = SweepTest.sweep(write("tpog.json", specTp(", \"zero_stages\": [1]",
        ", \"grid\": {\"search.tp_overlaps\": [[\"none\", \"ring\"], \"async_tp\"]}")), SweepFormat.JSONL);
    assertThat(g.size()).isEqualTo(2);
    sameAsCommand(best(write("tpog1.json", specTp(", \"zero_stages\": [1]",
        ", \"grid\": {\"search.tp_overlaps\": [[\"none\", \"ring\"], \"async_tp\"]}")), 1),
        commandTp("--tp-overlaps", "async_tp", "--zero-stages", "1"));
  }

  /**
   * A misspelt name gets the execution files' "did you mean" (NearMiss: the closest allowed name
   * within the unknown-key edit distance), in a search option and in a SPEC alike; a far one none.
   */
  @Test
  void aMisspeltNameInASearchOptionOrASpecNamesTheCloseOne() throws Exception {
    assertThat(bad(specTp(", \"tp_overlaps\": [\"none\", \"userbufers\"]", "")))
        .isEqualTo("search.tp_overlaps: each mode must be none, ring, pipe, async_tp, backward or userbuffers, "
            + "got \"userbufers\" (did you mean \"userbuffers\"?)")
        .isEqualTo("search.tp_overlaps: " + commandRule("--tp-overlaps", "--tp-overlaps", "none,userbufers"));
    assertThat(bad(spec(", \"cp_comm_types\": [\"p2p\", \"all-gather\"]", "")))
        .isEqualTo("search.cp_comm_types: each type must be p2p, a2a or all_gather, got \"all-gather\" "
            + "(did you mean \"all_gather\"?)")
        .isEqualTo("search.cp_comm_types: " + commandRule("--cp-comm-types", "--cp-comm-types", "p2p,all-gather"));
    assertThat(commandRule("--context-par", "--context-par", "al"))
        .isEqualTo("must be all or a list of degrees above 0 such as 1,2,4, got \"al\" (did you mean \"all\"?)");
    assertThat(bad(spec(", \"context_par\": \"al\"", "")))
        .isEqualTo("search.context_par: must be all or a list of degrees above 0 such as 1,2,4, got \"al\" "
            + "(did you mean \"all\"?)");
    // a degree written as a string is still no degree
    assertThat(bad(spec(", \"context_par\": [\"3\"]", "")))
        .isEqualTo("search.context_par: must be all or a list of degrees above 0 such as 1,2,4, got [\"3\"]");
    // far from every name: the rule alone
    assertThat(commandRule("--tp-overlaps", "--tp-overlaps", "tiled")).doesNotContain("did you mean");
    // the SPEC's own names
    assertThat(bad(spec("", "").replace("\"loe\"", "\"loe-mo\"")))
        .isEqualTo("search.command: must be one of llm-optimal-execution (loe), llm-optimal-execution-moe (loe-moe), "
            + "llm-optimal-execution-moe-flexible (loe-moe-flex), got \"loe-mo\" (did you mean \"loe-moe\"?)");
    assertThat(bad(spec("", "").replace("\"bfloat16\"", "\"bflot16\"")))
        .isEqualTo("search.datatype: must be one of float4, float8, float16, bfloat16, float32, got \"bflot16\" "
            + "(did you mean \"bfloat16\"?)");
    assertThat(bad(spec("", ", \"model_version\": \"correct\"")))
        .isEqualTo("model_version: must be \"corrected\" or \"calculon-moe\", got \"correct\" (did you mean \"corrected\"?)");
    assertThat(bad(spec(", \"fused_activation\": \"bth\"", "")))
        .isEqualTo("search.fused_activation: must be true, false or \"both\" (as -f), got \"bth\" (did you mean \"both\"?)");
    // unknown keys by the config readers' rule: the close key, the other unknown ones, then the allowed
    assertThat(bad(spec("", ", \"top-n\": 2, \"colour\": 1")))
        .isEqualTo("top-n: unknown key (did you mean \"top_n\"?); also unknown: colour; allowed: models, systems, "
            + "execution, search, grid, top_n, model_version, amortization_years, electricity_usd_per_kWh, "
            + "budget_usd, budget_procs_multiple");
    assertThat(bad(spec(", \"num_proc\": 8", ""))).startsWith("search.num_proc: unknown key (did you mean \"num_procs\"?); allowed: command, ");
    assertThat(bad(spec("", ", \"grid\": {\"search.num_proc\": [8]}")))
        .startsWith("grid.search.num_proc: is not a search key (did you mean \"num_procs\"?) (one of num_procs, ");
    // a grid field of the files: the close field path (case, a missing letter), prefixed or not
    assertThat(bad(spec("", ", \"grid\": {\"mem1.Gib\": [80]}")))
        .isEqualTo("grid.mem1.Gib: is not a field of the search, the system, the model (did you mean \"mem1.GiB\"?) "
            + "(prefix search., system., model. or execution. to say which)");
    assertThat(bad(spec("", ", \"grid\": {\"networks[0].bandwith\": [100]}")))
        .contains("(did you mean \"networks[0].bandwidth\"?)");
    assertThat(bad(spec("", ", \"grid\": {\"system.mem1.Gib\": [80]}")))
        .isEqualTo("grid.system.mem1.Gib: is not a field of every system file (mem1.Gib is missing from "
            + SweepTest.abs(SYSTEM) + " (did you mean \"mem1.GiB\"?))");
    // a key the model reader knows that no file gives: the grid cannot set it, and the line says how
    assertThat(bad(spec("", ", \"grid\": {\"model.attention_dropout\": [0.0, 0.1]}")))
        .isEqualTo("grid.model.attention_dropout: is not a field of every model file (attention_dropout is missing "
            + "from " + SweepTest.abs(MODEL) + "; a grid varies the fields the files give: to sweep a key left at its "
            + "default, write it into every model file first)");
    // a list index past the end is said as such, with the indices the list has (two tiers here)
    assertThat(bad(spec("", ", \"grid\": {\"networks[2].bandwidth\": [100]}")))
        .isEqualTo("grid.networks[2].bandwidth: networks[2] is past the end of networks (2 entries: networks[0] to "
            + "networks[1]) in the system file");
    assertThat(bad(spec("", ", \"grid\": {\"system.networks[5].bandwidth\": [100]}")))
        .isEqualTo("grid.system.networks[5].bandwidth: networks[5] is past the end of networks (2 entries: networks[0] "
            + "to networks[1]) in a system file");
    // swapped letters are one edit: "gird" is close to "grid"
    assertThat(bad(spec("", ", \"gird\": {}"))).startsWith("gird: unknown key (did you mean \"grid\"?)");
  }

  @Test
  void badTpOverlapsAreOneLineNamingTheFieldAndTheCommandsRule() throws Exception {
    assertThat(bad(specTp(", \"tp_overlaps\": [\"none\", \"tiled\"]", "")))
        .isEqualTo("search.tp_overlaps: each mode must be none, ring, pipe, async_tp, backward or userbuffers, got \"tiled\"")
        .isEqualTo("search.tp_overlaps: " + commandRule("--tp-overlaps", "--tp-overlaps", "none,tiled"));
    assertThat(bad(specTp(", \"tp_overlaps\": [\"ring\", \"ring\"]", "")))
        .isEqualTo("search.tp_overlaps: a mode is listed twice: [ring, ring]")
        .isEqualTo("search.tp_overlaps: " + commandRule("--tp-overlaps", "--tp-overlaps", "ring,ring"));
    assertThat(bad(specTp(", \"tp_overlaps\": []", "")))
        .isEqualTo("search.tp_overlaps: must list at least one mode (none, ring, pipe, async_tp, backward or userbuffers)");
    assertThat(bad(specTp(", \"tp_overlaps\": 3", "")))
        .isEqualTo("search.tp_overlaps: must be a list of TP overlap modes such as [\"none\", \"userbuffers\"], got 3");
    // tp_overlap false searches none only: the list contradicts it (as --no-tp-overlap does the flag)
    assertThat(bad(spec(", \"tp_overlaps\": [\"userbuffers\"]", "")))
        .isEqualTo("search.tp_overlaps: cannot be combined with tp_overlap false (which searches none only); drop one");
    assertThat(bad(specTp(", \"tp_overlaps\": [\"userbuffers\"]", ", \"grid\": {\"tp_overlap\": [true, false]}")))
        .isEqualTo("search.tp_overlaps: cannot be combined with tp_overlap false (which searches none only); drop one "
            + "(at grid.tp_overlap = false)");
    assertThat(bad(spec("", ", \"grid\": {\"search.tp_overlaps\": [[\"none\"]]}")))
        .isEqualTo("grid.search.tp_overlaps[0]: cannot be combined with tp_overlap false (which searches none only); "
            + "drop one");
    assertThat(bad(specTp("", ", \"grid\": {\"search.tp_overlaps\": [\"none\", [\"pipe\", \"pipe\"]]}")))
        .isEqualTo("grid.search.tp_overlaps[1]: a mode is listed twice: [pipe, pipe]");
    // calculon-moe searches Calculon's space (golden parity)
    assertThat(bad(specTp(", \"tp_overlaps\": [\"none\"]", ", \"model_version\": \"calculon-moe\"")))
        .isEqualTo("search.tp_overlaps: enumerates the corrected model's execution keys; drop it or the model "
            + "version calculon-moe")
        .isEqualTo("search.tp_overlaps: " + commandRule("--tp-overlaps", "--tp-overlaps", "none", "--model-version",
            "calculon-moe"));
  }

  @Test
  void schedulesFlashAttentionAndTheTemplateAreTheCommands() throws Exception {
    ObjectNode t = (ObjectNode) MAPPER.readTree(Path.of("examples/llama3-8B_64xH100.json").toFile());
    t.put("gradient_datatype", "float32");
    MAPPER.writeValue(dir.resolve("template.json").toFile(), t);
    // the template's name is relative to the SPEC's folder, as the SPEC's other files
    JsonNode row = best(write("t.json", spec(", \"pipeline_schedules\": true, \"flash_attention\": false,"
        + " \"execution_template\": \"template.json\"", "")), 0);
    assertThat(row.get("flash_attention").asBoolean()).isFalse();
    sameAsCommand(row, command("--pipeline-schedules", "--no-flash-attention", "--execution-template",
        dir.resolve("template.json").toString()));
  }

  @Test
  void theOptionsSweepAsGridFields() throws Exception {
    Path p = write("g.json", spec("", ", \"grid\": {\"search.zero_stages\": [0, [3]], \"flash_attention\": [true, false]}"));
    Sweep s = SweepTest.sweep(p, SweepFormat.CSV);
    assertThat(s.size()).isEqualTo(4);
    assertThat(s.columns()).startsWith("point", "model", "system", "search.zero_stages", "grid.flash_attention")
        .contains("zero_stage", "context_par", "context_par_net", "context_par_comm_type", "pipeline_schedule");
    // point 2: ZeRO 3 (a one-value list), flash on; as the command with --zero-stages 3
    String rec = s.evaluate(2).text();
    List<String> cells = List.of(rec.substring(0, rec.indexOf('\n')).split(",", -1));
    List<String> cols = s.columns();
    assertThat(cells.get(3)).isEqualTo("[3]");
    assertThat(cells.get(cols.indexOf("zero_stage"))).isEqualTo("3");
    assertThat(cells.get(cols.indexOf("flash_attention"))).isEqualTo("True");
    JsonNode cli = command("--zero-stages", "3", "--flash-attention");
    assertThat(Double.parseDouble(cells.get(cols.indexOf("sample_rate"))))
        .isEqualTo(cli.get("stats").get("sample_rate").asDouble());
    // point 1: ZeRO 0, flash off
    JsonNode off = best(p, 1);
    assertThat(off.get("search.zero_stages").asLong()).isZero();
    sameAsCommand(off, command("--zero-stages", "0", "--no-flash-attention"));
  }

  @Test
  void stagesOneAndZeroWithoutCpAreCalculonsSpace() throws Exception {
    // what docs/sweeps.md says reproduces the tables measured when sweeps searched Calculon's space
    Sweep s = SweepTest.sweep(write("c.json", spec(", \"zero_stages\": [1, 0], \"context_par\": [1]", "")),
        SweepFormat.JSONL);
    int[] d = s.digits(0);
    calculon.config.Application app = s.model(d);
    calculon.config.SystemSpec sys = s.system(d);
    calculon.search.SearchOptions o = s.searchOptions(s.searchParams(d), 8, app);
    calculon.search.SearchSpace asked = new calculon.search.SearchSpace(app, sys, o, true,
        s.template(s.searchParams(d)), s.axes(s.searchParams(d)));
    calculon.search.SearchSpace reference = new calculon.search.SearchSpace(app, sys, o, true,
        calculon.search.SearchTemplate.DEFAULTS, calculon.search.SpaceAxes.CALCULON);
    assertThat(asked.count().total).isEqualTo(reference.count().total).isPositive();
    calculon.search.ExecutionEvaluator ev = calculon.search.ExecutionEvaluator.model(app,
        new calculon.hardware.Hardware(sys, o.datatype()), calculon.model.ModelVersion.CORRECTED);
    double a = new calculon.search.Search(asked, ev).run(1, null, null).best().get(0).sampleRate();
    double c = new calculon.search.Search(reference, ev).run(1, null, null).best().get(0).sampleRate();
    assertThat(a).isEqualTo(c);
  }

  /**
   * A grid key some files lack: the files that lack it, as the SPEC names them, and whether the
   * file's reader knows the key (then it is one left at its default, to write into the files
   * first) or not (the reader's unknown-key rule and its near miss, nothing about defaults).
   */
  @Test
  void aGridKeyTheFilesLackNamesThemAndTheHintOnlyForKeysTheReaderKnows() throws Exception {
    String three = "\"models\": [\"" + SweepTest.abs(MODEL) + "\", \"" + SweepTest.abs("models/llama3-8B.json") + "\", \""
        + SweepTest.abs("models/megatron-1T.json") + "\"]";
    String threeModels = spec("", ", \"grid\": {\"model.attention_dropout\": [0.0, 0.1]}")
        .replaceFirst("\"models\": \\[[^]]*]", java.util.regex.Matcher.quoteReplacement(three));
    // llama3-8B gives attention_dropout; the other two leave it at its default
    assertThat(bad(threeModels)).isEqualTo("grid.model.attention_dropout: is not a field of every model file "
        + "(attention_dropout is missing from " + SweepTest.abs(MODEL) + " and " + SweepTest.abs("models/megatron-1T.json")
        + "; a grid varies the fields the files give: to sweep a key left at its default, write it into every model "
        + "file first)");
    // a key no model file can have: the model reader's unknown-key line, no advice to write it in
    assertThat(bad(spec("", ", \"grid\": {\"model.foo_bar\": [1, 2]}")))
        .isEqualTo("grid.model.foo_bar: unknown key of a model file; a model file has hidden, feedforward, seq_size, "
            + "attn_heads, attn_size, num_blocks, num_kv_heads, mlp, vocab_size, tied_embeddings, position_embedding, "
            + "bias, norm, mla, moe, attention_dropout, hidden_dropout, sliding_window, sliding_window_pattern, "
            + "layer_types, mtp_layers, source");
    // misspelt: the reader's near miss among the keys a model file may have
    assertThat(bad(spec("", ", \"grid\": {\"model.attention_dropot\": [0.1]}")))
        .startsWith("grid.model.attention_dropot: unknown key of a model file (did you mean \"attention_dropout\"?); "
            + "a model file has hidden, ");
    // inside an object the reader knows: that object's keys
    assertThat(bad(spec("", ", \"grid\": {\"model.moe.num_expert\": [8]}")))
        .isEqualTo("grid.model.moe.num_expert: unknown key of a model file (did you mean \"num_experts\"?); moe has "
            + "num_experts, top_k, expert_feedforward, shared_experts, shared_feedforward, first_dense_layers, "
            + "layer_interval, capacity_factor");
    assertThat(bad(spec("", ", \"grid\": {\"system.mem1.bandwidth\": [100]}")))
        .isEqualTo("grid.system.mem1.bandwidth: unknown key of a system file; expected GiB, GBps and MB_efficiency");
    assertThat(bad(spec("", ", \"grid\": {\"system.matrix.fp8.tflops\": [100]}")))
        .isEqualTo("grid.system.matrix.fp8.tflops: matrix.fp8: unknown datatype (known: float4, float8, float16, "
            + "bfloat16, float32) (did you mean \"float8\"?)");
    // known keys inside objects the file lacks: a MoE key of a dense model, another datatype's rate
    assertThat(bad(spec("", ", \"grid\": {\"model.moe.num_experts\": [8]}")))
        .isEqualTo("grid.model.moe.num_experts: is not a field of every model file (moe.num_experts is missing from "
            + SweepTest.abs(MODEL) + "; a grid varies the fields the files give: to sweep a key left at its default, "
            + "write it into every model file first)");
    String fixed = SweepTest.fixedSpec();
    assertThat(bad(fixed.replace("\"grid\": {", "\"grid\": {\"execution.optimizer_kernel\": [\"fused\"], ")))
        .isEqualTo("grid.execution.optimizer_kernel: is not a field of every execution file (optimizer_kernel is "
            + "missing from " + SweepTest.abs("examples/megatron_1T_training_4096_original.json") + "; a grid varies "
            + "the fields the files give: to sweep a key left at its default, write it into every execution file first)");
    assertThat(bad(fixed.replace("\"grid\": {", "\"grid\": {\"execution.optimiser_kernel\": [\"fused\"], ")))
        .isEqualTo("grid.execution.optimiser_kernel: unknown key of an execution file (did you mean \"optimizer_kernel\"?)");
    // through a number: no file of the kind has it
    assertThat(bad(spec("", ", \"grid\": {\"model.hidden.x\": [8]}")))
        .isEqualTo("grid.model.hidden.x: is not a field of every model file (hidden.x is missing from "
            + SweepTest.abs(MODEL) + " (did you mean \"hidden\"?))");
  }

  /** The one line a bad SPEC gives through the command line (exit 2, nothing written), without the SPEC's name. */
  /**
   * The sweep's positive-integer keys and its --cpus say the rule as the search commands do ("must
   * be a positive integer"; they said "must be an integer > 0" and "must be > 0").
   */
  @Test
  void positiveIntegersAreWordedAsTheSearchCommandsWordThem() throws Exception {
    assertThat(bad(spec("", "").replace("\"max_batch_size\": 16", "\"max_batch_size\": 0")))
        .isEqualTo("search.max_batch_size: must be a positive integer, got 0");
    Path ok = write("ok.json", spec("", ""));
    CliRun.Run r = CliRun.run("sweep", ok.toString(), dir.resolve("o.csv").toString(), "--cpus", "0", "--quiet");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).isEqualTo("calculon sweep: --cpus: must be a positive integer, got 0\n");
    // numbers as the system reader words them: "must be a positive number" ("must be a number > 0"
    // before) and "must be 0 or more" ("must be a number >= 0")
    assertThat(bad(spec("", ", \"budget_usd\": 0"))).isEqualTo("budget_usd: must be a positive number, got 0");
    assertThat(bad(spec("", ", \"electricity_usd_per_kWh\": -1")))
        .isEqualTo("electricity_usd_per_kWh: must be 0 or more, got -1");
  }

  private String bad(String spec) throws IOException {
    Path p = write("bad.json", spec);
    Path out = dir.resolve("bad.csv");
    CliRun.Run r = CliRun.run("sweep", p.toString(), out.toString(), "--quiet");
    assertThat(r.status()).as(r.err()).isEqualTo(2);
    assertThat(r.err()).endsWith("\n").doesNotContain("Exception").doesNotContain("\tat ");
    assertThat(r.err().strip()).doesNotContain("\n").startsWith("calculon sweep: " + p + ": ");
    assertThat(out).doesNotExist();
    return r.err().strip().substring("calculon sweep: ".length() + p.toString().length() + 2);
  }

  /** The command's message for the same bad flag, without the flag. */
  private String commandRule(String flag, String... args) {
    List<String> a = new ArrayList<>(List.of(MODEL, "8", "16", "bfloat16", SYSTEM,
        dir.resolve("never.json").toString(), "--quiet"));
    a.addAll(List.of(args));
    CliRun.Run r = CliRun.runOptimalExecution(a.toArray(String[]::new));
    assertThat(r.status()).as(r.err()).isEqualTo(2);
    assertThat(r.err()).startsWith("calculon llm-optimal-execution: " + flag + ": ");
    return r.err().strip().substring("calculon llm-optimal-execution: ".length() + flag.length() + 2);
  }

  @Test
  void badValuesAreOneLineNamingTheFieldAndTheCommandsRule() throws Exception {
    assertThat(bad(spec(", \"zero_stages\": [1, 5]", "")))
        .isEqualTo("search.zero_stages: each stage must be 0, 1, 2 or 3, got 5")
        .isEqualTo("search.zero_stages: " + commandRule("--zero-stages", "--zero-stages", "1,5"));
    assertThat(bad(spec(", \"zero_stages\": [1, 1]", "")))
        .isEqualTo("search.zero_stages: a stage is listed twice: [1, 1]");
    assertThat(bad(spec(", \"zero_stages\": \"1,3\"", "")))
        .isEqualTo("search.zero_stages: must be a list of ZeRO stages (integers) such as [1, 3], got \"1,3\"");
    assertThat(bad(spec(", \"context_par\": [1, 0]", "")))
        .isEqualTo("search.context_par: must be all or a list of degrees above 0 such as 1,2,4, got [1,0]");
    assertThat(bad(spec(", \"context_par\": \"some\"", "")))
        .isEqualTo("search.context_par: must be all or a list of degrees above 0 such as 1,2,4, got \"some\"");
    assertThat(bad(spec(", \"context_par\": [2, 2]", "")))
        .isEqualTo("search.context_par: degree 2 is listed twice")
        .isEqualTo("search.context_par: " + commandRule("--context-par", "--context-par", "2,2"));
    assertThat(bad(spec(", \"max_context_par\": 0", "")))
        .isEqualTo("search.max_context_par: must be a positive integer, got 0")
        .isEqualTo("search.max_context_par: " + commandRule("--max-context-par", "--max-context-par", "0"));
    assertThat(bad(spec(", \"max_context_par\": 2.5", "")))
        .isEqualTo("search.max_context_par: must be an integer, got 2.5");
    assertThat(bad(spec(", \"cp_comm_types\": [\"p2p\", \"ring\"]", "")))
        .isEqualTo("search.cp_comm_types: each type must be p2p, a2a or all_gather, got \"ring\"")
        .isEqualTo("search.cp_comm_types: " + commandRule("--cp-comm-types", "--cp-comm-types", "p2p,ring"));
    assertThat(bad(spec(", \"flash_attention\": \"yes\"", "")))
        .isEqualTo("search.flash_attention: must be true or false, got \"yes\"");
    assertThat(bad(spec(", \"pipeline_schedules\": 1", "")))
        .isEqualTo("search.pipeline_schedules: must be true or false, got 1");
    // calculon-moe searches Calculon's space (golden parity)
    assertThat(bad(spec(", \"zero_stages\": [1]", ", \"model_version\": \"calculon-moe\"")))
        .isEqualTo("search.zero_stages: enumerates the corrected model's execution keys; drop it or the model "
            + "version calculon-moe")
        .isEqualTo("search.zero_stages: " + commandRule("--zero-stages", "--zero-stages", "1", "--model-version",
            "calculon-moe"));
    assertThat(bad(spec(", \"execution_template\": \"nothing.json\"", "")))
        .startsWith("search.execution_template: " + dir.resolve("nothing.json") + ": ");
    assertThat(bad(spec(", \"execution_template\": 3", "")))
        .isEqualTo("search.execution_template: must be a file name (string), got 3");
    // the template's cross-file rules, with the template named
    ObjectNode t = (ObjectNode) MAPPER.readTree(Path.of("examples/llama3-8B_64xH100.json").toFile());
    t.put("datatype", "float8");
    // a recipe name is checked whatever the search's datatype (a well-formed one in a bfloat16
    // search is ignored with a note: IgnoredExecutionKeysTest)
    t.put("fp8_recipe", "rowwise");
    MAPPER.writeValue(dir.resolve("fp8.json").toFile(), t);
    assertThat(bad(spec(", \"execution_template\": \"fp8.json\"", "")))
        .isEqualTo("search.execution_template: fp8.json: fp8_recipe: must be one of \"delayed\", \"tensorwise\", "
            + "\"current\", \"blockwise\", \"mxfp8\", got \"rowwise\"");
    // MXFP8 in a float8 search of the H100 file (compute capability 9.0): TE refuses it below 10.0
    t.put("fp8_recipe", "mxfp8");
    MAPPER.writeValue(dir.resolve("mxfp8.json").toFile(), t);
    assertThat(bad(spec(", \"execution_template\": \"mxfp8.json\"", "")
        .replace("\"datatype\": \"bfloat16\"", "\"datatype\": \"float8\"")))
        .isEqualTo("search.execution_template: mxfp8.json: fp8_recipe: \"mxfp8\" needs a GPU of compute capability "
            + "10.x to 11.x (Blackwell's block-scaled tensor cores; Transformer Engine refuses MXFP8BlockScaling "
            + "elsewhere), but " + SweepTest.abs(SYSTEM) + " has compute_capability 9.0");
    // grid values: each checked by the same rules, named with its index
    assertThat(bad(spec("", ", \"grid\": {\"search.zero_stages\": [1, 7]}")))
        .isEqualTo("grid.search.zero_stages[1]: each stage must be 0, 1, 2 or 3, got 7");
    assertThat(bad(spec("", ", \"grid\": {\"cp_comm_types\": [[\"a2a\"], [\"ulysses\"]]}")))
        .isEqualTo("grid.cp_comm_types[1]: each type must be p2p, a2a or all_gather, got \"ulysses\"");
    assertThat(bad(spec("", ", \"grid\": {\"search.flash_attention\": [true, 0]}")))
        .isEqualTo("grid.search.flash_attention[1]: must be true or false, got 0");
    assertThat(bad(spec("", ", \"grid\": {\"search.execution_template\": [\"a.json\"]}")))
        .isEqualTo("grid.search.execution_template: cannot be swept: the template is a file read once (write one "
            + "SPEC per template, or sweep flash_attention here)");
  }

  @Test
  void theReportsTableSaysWhichStageAndCpWon() throws Exception {
    Path p = write("r.json", spec(", \"zero_stages\": [2], \"context_par\": [1]", ""));
    Path out = dir.resolve("r.csv");
    Path page = dir.resolve("r.html");
    CliRun.Run r = CliRun.run("sweep", p.toString(), out.toString(), "--quiet", "--report", page.toString());
    assertThat(r.status()).as(r.err()).isZero();
    String html = Files.readString(page);
    assertThat(html).contains("<th>zero_stage</th><th>context_par</th><th>context_par_comm_type</th><th>pipeline_schedule</th>")
        .contains("data-key=\"zero_stage\" data-value=\"2.0\"").contains("data-key=\"context_par\" data-value=\"1.0\"")
        .contains("<td>1f1b</td>");
  }

  @Test
  void anOutputWithoutTheExecutionColumnsIsRefusedAndKept() throws Exception {
    Path p = write("s.json", spec(", \"zero_stages\": [1]", ""));
    for (String name : List.of("old.csv", "old.jsonl")) {
      Path out = dir.resolve(name);
      Sweep s = SweepTest.sweep(p, SweepFormat.of(name));
      SweepTest.runAll(s, out, new LocalEngine(1));
      // the same file as an earlier calculon wrote it: without the columns after the reference's 32 keys
      String text = Files.readString(out);
      String old = text;
      for (String k : ResultFormat.EXTRA_EXECUTION_KEYS) {
        old = name.endsWith(".csv") ? old.replace("," + k + ",", ",")
            : old.replaceAll(", \"" + k + "\": [^,]+,", ",");
      }
      assertThat(old).isNotEqualTo(text);
      Files.writeString(out, old);
      CliRun.Run r = CliRun.run("sweep", p.toString(), out.toString(), "--quiet");
      assertThat(r.status()).isEqualTo(2);
      assertThat(r.err()).isEqualTo("calculon sweep: " + out + ": written by an earlier calculon: its records lack "
          + String.join(", ", ResultFormat.EXTRA_EXECUTION_KEYS) + ", which this sweep writes; it is kept as it is "
          + "and not resumed; run calculon sweep " + p + " " + SweepOutput.freshName(out, SweepFormat.of(name))
          + " to compute the SPEC's 1 point into a new output\n");
      assertThat(Files.readString(out)).isEqualTo(old);
    }
  }
}
