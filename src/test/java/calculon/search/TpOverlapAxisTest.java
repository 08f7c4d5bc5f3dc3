package calculon.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Datatype;
import calculon.config.Execution;
import calculon.config.LayerOptions;
import calculon.config.RunChecks;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.config.TpCommType;
import calculon.config.TpOverlap;
import calculon.hardware.Hardware;
import calculon.model.ModelVersion;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TP overlap modes a corrected search enumerates ({@link SpaceAxes#tpOverlaps()},
 * {@code --tp-overlaps}): Calculon's none, ring, pipe by default; each asked mode where the
 * execution reader lets it run (userbuffers only with sequence parallelism and more than 16 SMs,
 * none and backward only for multi-head latent attention), none alone at TP 1; the corrected-only
 * modes stand for no reference execution; and the options' rules are one line each.
 */
class TpOverlapAxisTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final List<TpOverlap> ALL_SIX = List.of(TpOverlap.NONE, TpOverlap.RING, TpOverlap.PIPE,
      TpOverlap.ASYNC_TP, TpOverlap.BACKWARD, TpOverlap.USERBUFFERS);

  @TempDir
  Path dir;

  static SpaceAxes axes(List<TpOverlap> overlaps) {
    return new SpaceAxes(List.of(1, 0), List.of(1), 0, 0, SpaceAxes.ALL_CP_COMM_TYPES, overlaps, false);
  }

  static SearchSpace space(Application app, SystemSpec sys, int procs, int batch, SpaceAxes axes) {
    return new SearchSpace(app, sys, SearchOptions.defaults(SearchKind.DENSE, procs, batch, Datatype.BFLOAT16, 1),
        true, LayerOptions.DEFAULTS, axes);
  }

  static Application model(String name) throws Exception {
    return ApplicationReader.read(Path.of("models", name));
  }

  static SystemSpec h100() throws Exception {
    return SystemReader.read(Path.of("systems/H100_SXM_80g_dense.json"));
  }

  /** The distinct TP overlap modes of a partition's prefixes, in prefix order. */
  static List<TpOverlap> modes(SearchSpace s, Partition p) {
    Set<TpOverlap> m = new LinkedHashSet<>();
    Arrays.stream(s.plan(p).prefixes()).forEach(x -> m.add(x.tensorParOverlap()));
    return new ArrayList<>(m);
  }

  @Test
  void theDefaultIsCalculonsThreeModes() throws Exception {
    List<TpOverlap> calculon = List.of(TpOverlap.NONE, TpOverlap.RING, TpOverlap.PIPE);
    assertThat(SpaceAxes.DEFAULT_TP_OVERLAPS).isEqualTo(calculon);
    assertThat(SpaceAxes.CALCULON.tpOverlaps()).isEqualTo(calculon);
    assertThat(SpaceAxes.correctedDefaults(false).tpOverlaps()).isEqualTo(calculon);
    assertThat(SearchRequest.axes(ModelVersion.CORRECTED, false, null, null, "", null, null, null, false))
        .isEqualTo(SpaceAxes.correctedDefaults(false));
    // asked explicitly in Calculon's order: the same space
    assertThat(SearchRequest.axes(ModelVersion.CORRECTED, false, null, null, "", null, null,
        List.of("none", "ring", "pipe"), false)).isEqualTo(SpaceAxes.correctedDefaults(false));
  }

  @Test
  void eachAskedModeRunsWhereTheReaderAllowsIt() throws Exception {
    Application app = model("megatron-126M.json");
    SystemSpec sys = h100();
    SearchSpace s = space(app, sys, 8, 16, axes(ALL_SIX));
    List<TpOverlap> withoutUb = ALL_SIX.subList(0, 5);
    int seqPar = 0;
    int other = 0;
    long checked = 0;
    for (Partition p : s.partitions()) {
      List<TpOverlap> m = modes(s, p);
      if (p.tp() == 1) {
        assertThat(m).as("%s", p).containsExactly(TpOverlap.NONE);
      } else if (p.commType() == TpCommType.RS_AG) {
        assertThat(m).as("%s: sequence parallel, every mode in the order asked", p).isEqualTo(ALL_SIX);
        seqPar++;
      } else {
        assertThat(m).as("%s: userbuffers needs rs_ag", p).isEqualTo(withoutUb);
        other++;
      }
      checked += SearchAxesTest.passReaderRules(s, p);
    }
    assertThat(seqPar).isPositive();
    assertThat(other).isPositive();
    assertThat(checked).isPositive();
  }

  @Test
  void userbuffersNeedsMoreThanItsSixteenSms() throws Exception {
    ObjectNode j = (ObjectNode) MAPPER.readTree(Path.of("systems/H100_SXM_80g_dense.json").toFile());
    j.put("streaming_multiprocessors", TpOverlap.USERBUFFERS_COMM_SMS);
    Path f = dir.resolve("sixteen.json");
    MAPPER.writeValue(f.toFile(), j);
    SystemSpec sixteen = SystemReader.read(f);
    SearchSpace s = space(model("megatron-126M.json"), sixteen, 8, 16, axes(ALL_SIX));
    for (Partition p : s.partitions()) {
      assertThat(modes(s, p)).as("%s", p).doesNotContain(TpOverlap.USERBUFFERS);
    }
    // and the search says so (the command prints it as "calculon COMMAND: note: not tried: ...")
    assertThat(s.tpOverlapsNeverRun(true)).containsExactly(java.util.Map.entry(TpOverlap.USERBUFFERS,
        "the system has 16 SMs; userbuffers gives 16 to its communication"));
    // one more SM and it runs
    j.put("streaming_multiprocessors", TpOverlap.USERBUFFERS_COMM_SMS + 1);
    MAPPER.writeValue(f.toFile(), j);
    SearchSpace s17 = space(model("megatron-126M.json"), SystemReader.read(f), 8, 16, axes(ALL_SIX));
    assertThat(s17.partitions()).anyMatch(p -> modes(s17, p).contains(TpOverlap.USERBUFFERS));
    assertThat(s17.tpOverlapsNeverRun(true)).isEmpty();
  }

  @Test
  void latentAttentionRunsOnlySeparateCollectives() throws Exception {
    // megatron-126M with multi-head latent attention (attn_size = 32 + 16, DeepSeek-V2's split)
    ObjectNode j = (ObjectNode) MAPPER.readTree(Path.of("models/megatron-126M.json").toFile());
    j.putObject("mla").put("q_lora_rank", 256).put("kv_lora_rank", 128).put("qk_nope_head_dim", 32)
        .put("qk_rope_head_dim", 16).put("v_head_dim", 32);
    Path f = dir.resolve("mla.json");
    MAPPER.writeValue(f.toFile(), j);
    Application app = ApplicationReader.read(f);
    SystemSpec sys = h100();
    SearchSpace s = space(app, sys, 8, 16, axes(ALL_SIX));
    boolean tpMany = false;
    for (Partition p : s.partitions()) {
      if (p.tp() > 1) {
        tpMany = true;
        assertThat(modes(s, p)).as("%s", p).containsExactly(TpOverlap.NONE, TpOverlap.BACKWARD);
        PartitionPlan plan = s.plan(p);
        Execution e = s.execution(p, plan.prefixes()[plan.prefixes().length - 1], plan.mbs()[0], plan.tiers()[0]);
        assertThatCode(() -> RunChecks.check(app, e, sys, "model", "execution", "system"))
            .as("%s", e).doesNotThrowAnyException();
      }
    }
    assertThat(tpMany).isTrue();
    assertThat(s.tpOverlapsNeverRun(true).keySet()).containsExactly(TpOverlap.RING, TpOverlap.PIPE, TpOverlap.ASYNC_TP,
        TpOverlap.USERBUFFERS);
    assertThat(s.tpOverlapsNeverRun(true)).containsEntry(TpOverlap.RING, "multi-head latent attention runs only none and backward");
  }

  @Test
  void correctedOnlyModesStandForNoReferenceExecution() throws Exception {
    Application app = model("megatron-126M.json");
    SystemSpec sys = h100();
    SearchSpace calculon = space(app, sys, 8, 16, axes(SpaceAxes.DEFAULT_TP_OVERLAPS));
    SearchSpace all = space(app, sys, 8, 16, axes(ALL_SIX));
    assertThat(all.count().refTotal).isEqualTo(calculon.count().refTotal);
    assertThat(all.size()).isGreaterThan(calculon.size());
    assertThat(all.partitions()).isEqualTo(calculon.partitions());
  }

  @Test
  void partitionsWithNoRunnableModeHaveNoExecutions() throws Exception {
    // userbuffers alone: the TP > 1 partitions of ar and p2p_rs_ag have no prefix
    Application app = model("megatron-126M.json");
    SystemSpec sys = h100();
    SearchSpace s = space(app, sys, 4, 8, axes(List.of(TpOverlap.USERBUFFERS)));
    long empty = s.partitions().stream().filter(p -> s.plan(p).prefixes().length == 0).count();
    assertThat(empty).isPositive();
    for (Partition p : s.partitions()) {
      if (s.plan(p).prefixes().length == 0) {
        assertThat(p.tp()).isGreaterThan(1);
        assertThat(p.commType()).isNotEqualTo(TpCommType.RS_AG);
        assertThat(s.plan(p).size()).isZero();
      }
    }
    // the counting (-d) and the run agree, the reference counts are the TP-1 executions' only
    Counts counted = s.count();
    Search.Outcome o = new Search(s, ExecutionEvaluator.model(app, new Hardware(sys, Datatype.BFLOAT16),
        ModelVersion.CORRECTED)).run(2, null, null);
    assertThat(o.counts().total).isEqualTo(counted.total).isEqualTo(s.size()).isPositive();
    assertThat(o.counts().good + o.counts().bad).isEqualTo(counted.total);
    assertThat(o.counts().refTotal).isEqualTo(counted.refTotal);
    // none alone has the same prefixes with none for userbuffers: its TP-1 executions plus its
    // sequence-parallel TP > 1 ones are this space, once userbuffers' seq_par_ag_redo false twins
    // (merged: it re-gathers anyway, NoOpKnobs) are added back; the TP-1 merges are both spaces'
    SearchSpace noneOnly = space(app, sys, 4, 8, axes(List.of(TpOverlap.NONE)));
    long same = 0;
    for (Partition p : noneOnly.partitions()) {
      same += p.tp() == 1 || p.commType() == TpCommType.RS_AG ? noneOnly.plan(p).size() : 0;
    }
    long twins = counted.mergedNoOps - noneOnly.count().mergedNoOps;
    assertThat(twins).isPositive();
    assertThat(s.size() + twins).isEqualTo(same).isLessThan(noneOnly.size());
  }

  @Test
  void theOptionsRulesAreOneLineEach() {
    assertThat(rule(List.of("none", "ringg"), false))
        .isEqualTo("--tp-overlaps: each mode must be none, ring, pipe, async_tp, backward or userbuffers, got \"ringg\""
            + " (did you mean \"ring\"?)");
    assertThat(rule(List.of("ring", "ring"), false)).isEqualTo("--tp-overlaps: a mode is listed twice: [ring, ring]");
    assertThat(rule(List.of(), false))
        .isEqualTo("--tp-overlaps: must list at least one mode (none, ring, pipe, async_tp, backward or userbuffers)");
    assertThat(rule(List.of("userbuffers"), true))
        .isEqualTo("--tp-overlaps: cannot be combined with --no-tp-overlap (which searches none only); drop one");
    SearchRequest.Invalid both = invalid(ModelVersion.CORRECTED, List.of("userbuffers"), true);
    assertThat(both.specRule()).isEqualTo("cannot be combined with tp_overlap false (which searches none only); drop one");
    assertThat(both.key().specKey).isEqualTo("tp_overlaps");
    SearchRequest.Invalid fork = invalid(ModelVersion.CALCULON_MOE, List.of("none"), false);
    assertThat(fork.getMessage()).isEqualTo("--tp-overlaps: enumerates the corrected model's execution keys; drop it "
        + "or the model version calculon-moe");
    // the record's own checks
    assertThatThrownBy(() -> axes(List.of())).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> axes(List.of(TpOverlap.RING, TpOverlap.RING))).isInstanceOf(IllegalArgumentException.class);
  }

  private static String rule(List<String> overlaps, boolean off) {
    return invalid(ModelVersion.CORRECTED, overlaps, off).getMessage();
  }

  private static SearchRequest.Invalid invalid(ModelVersion v, List<String> overlaps, boolean off) {
    try {
      SearchRequest.axes(v, false, null, null, "", null, null, overlaps, off);
    } catch (SearchRequest.Invalid e) {
      assertThat(e.getMessage()).doesNotContain("\n");
      return e;
    }
    throw new AssertionError("accepted " + overlaps);
  }
}
