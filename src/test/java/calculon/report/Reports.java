package calculon.report;

import calculon.config.Application;
import calculon.config.ApplicationReader;
import calculon.config.Execution;
import calculon.config.ExecutionReader;
import calculon.config.SystemReader;
import calculon.config.SystemSpec;
import calculon.hardware.Hardware;
import calculon.model.ModelVersion;
import calculon.schedule.Evaluator;
import calculon.stats.Stats;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Shared fixtures of the report tests: the seed README's runs and the golden search results. */
final class Reports {
  private Reports() {}

  /** The seed README's two single runs: model, execution, system. */
  static final String[][] README_RUNS = {
      {"models/megatron-1T.json", "examples/megatron_1T_training_4096_original.json", "systems/a100_80g.json"},
      {"models/gpt-1.8T.json", "examples/gpt_1.8_training_4096.json", "systems/H100_80g_sxm.json"},
  };

  /** Golden search outputs that have a top_n. */
  static final String[] SEARCH_GOLDENS = {
      "loe-gpt3-13B-16-b16-singletier", "loe-megatron-126M-4-b8-singletier",
      "loemoe-nemo-64-b128-E8-singletier", "loemoeflex-megatron-126M-4-b4-E4-singletier",
      "loemoeflex-nemo-8-b8-E8-singletier", "calc-loe-megatron-126M-2-b4-nomem2",
  };

  static Path golden(String name) {
    return Path.of("src/test/resources/goldens/search", name + ".json");
  }

  static Stats evaluate(String[] run) throws Exception {
    return evaluate(run, ModelVersion.CALCULON_MOE);
  }

  static Stats evaluate(String[] run, ModelVersion version) throws Exception {
    Application app = ApplicationReader.read(Path.of(run[0]));
    Execution exe = ExecutionReader.read(Path.of(run[1]));
    SystemSpec sys = SystemReader.read(Path.of(run[2]));
    return Evaluator.evaluate(app, exe, new Hardware(sys, exe.datatype()), version, true);
  }

  /** A number the page shows for the stats: its key and exact value. */
  record Shown(String key, double value, String text) {}

  private static final Pattern NUM = Pattern.compile(
      "<span class=\"num\" data-key=\"([^\"]+)\" data-value=\"([^\"]+)\">([^<]*)</span>");

  static List<Shown> numbers(String html) {
    List<Shown> out = new ArrayList<>();
    Matcher m = NUM.matcher(html);
    while (m.find()) {
      out.add(new Shown(m.group(1), Double.parseDouble(m.group(2)), m.group(3)));
    }
    return out;
  }

  /** The body rows of the table with this id: each row's cell texts (tags stripped). */
  static List<List<String>> rows(String html, String tableId) {
    int start = html.indexOf("id=\"" + tableId + "\"");
    if (start < 0) {
      return List.of();
    }
    int body = html.indexOf("<tbody>", start);
    int end = html.indexOf("</tbody>", body);
    List<List<String>> rows = new ArrayList<>();
    Matcher tr = Pattern.compile("<tr>(.*?)</tr>").matcher(html.substring(body, end));
    while (tr.find()) {
      List<String> cells = new ArrayList<>();
      Matcher td = Pattern.compile("<td[^>]*>(.*?)</td>").matcher(tr.group(1));
      while (td.find()) {
        cells.add(td.group(1).replaceAll("<[^>]+>", ""));
      }
      rows.add(cells);
    }
    return rows;
  }

  /** Chart figure ids in page order, with their SVG's count of drawn elements. */
  static Map<String, Integer> charts(String html) {
    Map<String, Integer> out = new LinkedHashMap<>();
    Matcher m = Pattern.compile("<figure class=\"chart\" id=\"([^\"]+)\">(.*?)</figure>", Pattern.DOTALL).matcher(html);
    while (m.find()) {
      Matcher shapes = Pattern.compile("<(rect|path|text)\\b").matcher(m.group(2));
      int n = 0;
      while (shapes.find()) {
        n++;
      }
      out.put(m.group(1), m.group(2).startsWith("<svg") ? n : -1);
    }
    return out;
  }
}
