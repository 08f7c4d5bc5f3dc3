package calculon.config;

import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The "did you mean" of every reader and option rule: the closest allowed name to one that is
 * none of them (a misspelt key, enumerated value, search option or SPEC key), by one rule (edit
 * distance with transpositions, {@link #closest}), so a near miss gets the same hint in an execution file, a system
 * file, a search's {@code --tp-overlaps} and a sweep SPEC.
 */
public final class NearMiss {
  private NearMiss() {}

  /**
   * The hint for a name {@code given} that is none of {@code allowed} (a misspelt key or value):
   * {@code  (did you mean "x"?)} with the closest allowed name ({@link #closest}), or the empty
   * string when none is close.
   */
  public static String didYouMean(String given, Collection<String> allowed) {
    String close = closest(given, allowed);
    return close == null ? "" : " (did you mean \"" + close + "\"?)";
  }

  /**
   * The allowed name closest to {@code key}, ignoring case, if its edit distance ({@link #editDistance}) is
   * at most min(3, max(1, length of {@code key} / 3)) and no other allowed name is as close (a
   * tie, {@code flash4} among {@code flash2} and {@code flash3}, would be a guess); else the name
   * {@code key} abbreviates ({@link #abbreviated}); else null. A common alias of an allowed
   * datatype ({@link #ALIASES}: {@code bf16}, {@code fp16}, {@code fp8}, {@code fp32},
   * {@code fp4}) names that datatype before any of these rules.
   */
  public static String closest(String key, Collection<String> allowed) {
    String alias = ALIASES.get(key.toLowerCase());
    if (alias != null && allowed.contains(alias)) {
      return alias;
    }
    String best = null;
    int bestD = Integer.MAX_VALUE;
    boolean tie = false;
    for (String a : allowed) {
      int d = editDistance(key.toLowerCase(), a.toLowerCase());
      if (d < bestD) {
        bestD = d;
        best = a;
        tie = false;
      } else if (d == bestD) {
        tie = true;
      }
    }
    if (!tie && bestD <= Math.min(3, Math.max(1, key.length() / 3))) {
      return best;
    }
    return abbreviated(key, allowed);
  }

  /**
   * Common short names of the datatypes, each suggested for its full name wherever that name is
   * allowed (an execution's {@code datatype}, a system's {@code matrix} key, a search's DATATYPE
   * argument, a sweep's {@code search.datatype}): the spellings of Megatron-LM's precision flags
   * ({@code --bf16}, {@code --fp16}, {@code --fp8-format}; megatron/training/arguments.py) and
   * Transformer Engine's {@code fp8}/{@code fp4} recipes, which no edit-distance rule reaches
   * ({@code bf16} is four edits from {@code bfloat16}). Only suggested, never accepted: a file
   * names one datatype one way, the reference's way.
   */
  private static final Map<String, String> ALIASES = Map.of(
      "bf16", "bfloat16",
      "fp16", "float16",
      "fp8", "float8",
      "fp32", "float32",
      "fp4", "float4");

  /** The shortest common prefix an abbreviation must share with the one name it stands for. */
  private static final int MIN_ABBREVIATION_PREFIX = 6;

  /**
   * The allowed name that {@code key} abbreviates when no name is within the edit distance:
   * {@code flash_attn} for {@code flash_attention}. The one allowed name sharing the longest
   * common prefix with {@code key}, ignoring case, if that prefix is at least
   * {@link #MIN_ABBREVIATION_PREFIX} characters and 60% of {@code key}; a tie names none.
   */
  private static String abbreviated(String key, Collection<String> allowed) {
    String k = key.toLowerCase();
    String best = null;
    int bestP = 0;
    boolean tie = false;
    for (String a : allowed) {
      String l = a.toLowerCase();
      int p = 0;
      while (p < k.length() && p < l.length() && k.charAt(p) == l.charAt(p)) {
        p++;
      }
      if (p > bestP) {
        bestP = p;
        best = a;
        tie = false;
      } else if (p == bestP) {
        tie = true;
      }
    }
    return !tie && bestP >= MIN_ABBREVIATION_PREFIX && bestP * 10 >= key.length() * 6 ? best : null;
  }

  /**
   * Optimal string alignment distance: insertions, deletions, substitutions and transpositions of
   * two adjacent characters count one each (Damerau 1964, "A technique for computer detection and
   * correction of spelling errors", CACM 7(3): the four kinds that make up most single-error
   * misspellings), so {@code gird} is one edit from {@code grid}.
   */
  private static int editDistance(String a, String b) {
    int[] prev2 = new int[b.length() + 1];
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        int d = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
        if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
          d = Math.min(d, prev2[j - 2] + 1);
        }
        cur[j] = d;
      }
      int[] t = prev2;
      prev2 = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  /**
   * The rule for an object's unknown keys ({@code unknown}, in file order, at least one): {@code
   * unknown key}, the {@link #didYouMean} of the first, the others ({@code ; also unknown: a, b})
   * and {@code what} ({@code ; what}) when not null. The error names the first key as its field.
   */
  public static String unknownKeys(List<String> unknown, Collection<String> allowed, String what) {
    StringBuilder rule = new StringBuilder("unknown key").append(didYouMean(unknown.get(0), allowed));
    if (unknown.size() > 1) {
      rule.append("; also unknown: ").append(String.join(", ", unknown.subList(1, unknown.size())));
    }
    if (what != null) {
      rule.append("; ").append(what);
    }
    return rule.toString();
  }
}
