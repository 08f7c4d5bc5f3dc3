package calculon.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Datatype;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.ModelVersion;
import calculon.search.output.ResultFormat;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The searches with the real model against the reference's search goldens: same best execution
 * and sample rate, top-N equal to the reference's list without its duplicates, and
 * reference-equivalent counts equal to the logged ones, in the calculon-moe model version (the
 * goldens are Calculon-MoE's numbers, whatever the default version is).
 */
class GoldenSearchParityTest {

  static Stream<GoldenSearch> cases() throws Exception {
    return GoldenSearch.all().filter(g -> g.fromFork() && g.debugCount() != null
        && g.json().get("exit_code").asInt() == 0 && !g.command().equals("llm-all-executions"));
  }

  static Search.Outcome runOrSkip(SearchSpace space, Application app, SystemSpec sys, Datatype dt,
                                  int threads) throws Exception {
    ExecutionEvaluator ev = ExecutionEvaluator.model(app, new Hardware(sys, dt), ModelVersion.CALCULON_MOE);
    try {
      return new Search(space, ev).run(threads, null, null);
    } catch (SearchFailure e) {
      Assumptions.assumeFalse(e.getCause() instanceof UnsupportedOperationException,
          "the model is not written yet");
      throw e;
    }
  }

  /** A reference execution dict as our output writes it: the comm type the model ran. */
  static Map<String, Object> normalized(JsonNode exe) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : exe.properties()) {
      JsonNode v = e.getValue();
      m.put(e.getKey(), v.isBoolean() ? (Object) v.asBoolean() : v.isInt() ? (Object) v.asInt() : v.asText());
    }
    if (Boolean.TRUE.equals(m.get("model_MoE")) && (Integer) m.get("tensor_par") > 1) {
      m.put("tensor_par_comm_type", "rs_ag");
    }
    return m;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void bestAndTopNMatchTheReference(GoldenSearch g) throws Exception {
    SearchSpace space = new SearchSpace(g.app(), g.system(), g.options());
    Search.Outcome o = runOrSkip(space, g.app(), g.system(), g.options().datatype(), 2);

    JsonNode top = g.json().get("top_n");
    List<Map<String, Object>> refDistinct = new ArrayList<>();
    List<Double> refRates = new ArrayList<>();
    for (int i = 0; i < top.size(); i++) {
      Map<String, Object> e = normalized(top.get(Integer.toString(i)).get("execution"));
      if (!refDistinct.contains(e)) {
        refDistinct.add(e);
        refRates.add(top.get(Integer.toString(i)).get("stats").get("sample_rate").asDouble());
      }
    }
    assertThat(o.best()).isNotEmpty();
    assertThat(o.best().get(0).sampleRate())
        .isCloseTo(g.json().get("best_sample_rate_logged").asDouble(), within(1e-9));
    for (int i = 0; i < refDistinct.size(); i++) {
      assertThat(ResultFormat.executionJson(o.best().get(i).execution())).as("rank " + i)
          .isEqualTo(refDistinct.get(i));
      assertThat(o.best().get(i).sampleRate()).isCloseTo(refRates.get(i), within(1e-9 * refRates.get(i)));
    }
    assertThat(o.counts().refTotal).isEqualTo(g.json().get("total_executions").asLong());
    assertThat(o.counts().refGood).isEqualTo(g.json().get("good_executions").asLong());
    assertThat(o.counts().refBad).isEqualTo(g.json().get("bad_executions").asLong());
  }

  /** The README searches (minutes with the reference, seconds here): run with -Dcalculon.readme=true. */
  @Test
  @EnabledIfSystemProperty(named = "calculon.readme", matches = "true")
  void readmeSearches() throws Exception {
    Application dense = ApplicationReader.read(Path.of("models/megatron-1T.json"));
    SystemSpec a100 = SystemReader.read(Path.of("systems/a100_80g.json"));
    SearchSpace ds = new SearchSpace(dense, a100,
        SearchOptions.defaults(SearchKind.DENSE, 5128, 2520, Datatype.FLOAT16, 1).withMbsBreak(true));
    Search.Outcome d = runOrSkip(ds, dense, a100, Datatype.FLOAT16, 2);
    assertThat(d.counts().refTotal).isEqualTo(207_776);
    assertThat(d.counts().refGood).isEqualTo(30_928);
    assertThat(d.best().get(0).sampleRate()).isCloseTo(60.058548240925575, within(1e-9));

    Application moe = ApplicationReader.read(Path.of("models/gpt-1.8T_2.json"));
    SystemSpec h100 = SystemReader.read(Path.of("systems/H100_80g_sxm.json"));
    SearchSpace ms = new SearchSpace(moe, h100,
        SearchOptions.defaults(SearchKind.MOE, 4096, 2048, Datatype.FLOAT16, 16));
    Search.Outcome m = runOrSkip(ms, moe, h100, Datatype.FLOAT16, 2);
    assertThat(m.counts().refTotal).isEqualTo(4_681_728);
    assertThat(m.counts().refGood).isEqualTo(113_544);
    assertThat(m.best().get(0).sampleRate()).isCloseTo(137.4796983173555, within(1e-9));
  }
}
