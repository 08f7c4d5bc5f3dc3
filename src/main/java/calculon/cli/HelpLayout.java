package calculon.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Help.Ansi.Text;
import picocli.CommandLine.Help.Column;
import picocli.CommandLine.Help.TextTable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * The help's two-column tables (options, positionals, the command list) wrapped at spaces only.
 * picocli wraps a description where {@link java.text.BreakIterator#getLineInstance()} allows a
 * break, and the JDK's line iterator allows one after a dot followed by a letter or digit, so at 80
 * columns {@code docs/validation.md} became {@code docs/validation.} / {@code md} and {@code .json.gz}
 * became {@code .json.} / {@code gz}. This is picocli's help hook ({@link CommandLine.IHelpFactory},
 * picocli manual section "Custom Help"): the same layout, columns and widths as picocli's, each
 * description handed to picocli's table one line at a time, broken at the last space that fits, so
 * a file name, a version ({@code Qwen2/2.5/3}) or an option is never split. A word longer than its
 * column (none in our help) is still split by picocli, as before.
 */
final class HelpLayout {
  private HelpLayout() {}

  /** What {@link Main} gives {@link CommandLine#setHelpFactory}. */
  static final CommandLine.IHelpFactory FACTORY = SpaceWrappedHelp::new;

  /** picocli's help with {@link SpaceWrappedTable} under the option, positional and command lists. */
  private static final class SpaceWrappedHelp extends Help {
    SpaceWrappedHelp(CommandSpec spec, Help.ColorScheme colors) {
      super(spec, colors);
    }

    @Override
    public Help.Layout createDefaultLayout(List<OptionSpec> options, List<PositionalParamSpec> positionals,
                                           Help.ColorScheme colors) {
      Help.Layout picocli = super.createDefaultLayout(options, positionals, colors);
      TextTable table = new SpaceWrappedTable(colors, picocli.textTable());
      return new Help.Layout(colors, table, picocli.optionRenderer(), picocli.parameterRenderer());
    }

    @Override
    public String header(Object... params) {
      return paragraphs(commandSpec().usageMessage().header(), params);
    }

    @Override
    public String description(Object... params) {
      return paragraphs(commandSpec().usageMessage().description(), params);
    }

    @Override
    public String footer(Object... params) {
      return paragraphs(commandSpec().usageMessage().footer(), params);
    }

    /**
     * Header, description or footer lines as picocli lays them out (4.7 {@code Help.join}: one
     * column the usage width wide, wrapped lines not indented), in a {@link SpaceWrappedTable}.
     */
    private String paragraphs(String[] values, Object... params) {
      if (values == null || values.length == 0) {
        return "";
      }
      CommandLine.Model.UsageMessageSpec usage = commandSpec().usageMessage();
      TextTable table = new SpaceWrappedTable(colorScheme(), new Column(usage.width(), 0, Column.Overflow.WRAP));
      table.setAdjustLineBreaksForWideCJKCharacters(usage.adjustLineBreaksForWideCJKCharacters());
      table.indentWrappedLines = 0;
      for (String v : values) {
        table.addRowValues(colorScheme().text(String.format(v, params)));
      }
      return table.toString();
    }

    /**
     * picocli's command list (4.7 {@code Help.commandList}: names in a column as wide as the
     * longest, at most half the usage width; each command's first header or description line
     * beside), in a {@link SpaceWrappedTable}.
     */
    @Override
    public String commandList(Map<String, Help> subcommands) {
      if (subcommands.isEmpty()) {
        return "";
      }
      int width = commandSpec().usageMessage().width();
      int longest = 0;
      for (String name : subcommands.keySet()) {
        longest = Math.max(longest, name.length());
      }
      int names = Math.min(longest, width / 2) + 2;
      TextTable table = new SpaceWrappedTable(colorScheme(), new Column(names, 2, Column.Overflow.SPAN),
          new Column(width - names, 2, Column.Overflow.WRAP));
      table.setAdjustLineBreaksForWideCJKCharacters(commandSpec().usageMessage().adjustLineBreaksForWideCJKCharacters());
      for (Help help : subcommands.values()) {
        CommandLine.Model.UsageMessageSpec usage = help.commandSpec().usageMessage();
        String first = usage.header().length > 0 ? usage.header()[0]
            : usage.description().length > 0 ? usage.description()[0] : "";
        Text[] lines = colorScheme().text(String.format(first)).splitLines();
        for (int i = 0; i < lines.length; i++) {
          table.addRowValues(i == 0 ? help.commandNamesText(", ") : colorScheme().text(""), lines[i]);
        }
      }
      return table.toString();
    }
  }

  /**
   * A picocli table whose wrapping columns break only at spaces: a value wider than its column is
   * cut into lines that fit (the first in {@code width - indent} columns, the next ones in
   * {@link TextTable#indentWrappedLines} fewer, and indented by as much, as picocli indents them),
   * each put in its own row by picocli.
   */
  static final class SpaceWrappedTable extends TextTable {
    SpaceWrappedTable(Help.ColorScheme colors, Column... columns) {
      super(colors, columns);
    }

    /** A table with {@code like}'s columns and settings. */
    SpaceWrappedTable(Help.ColorScheme colors, TextTable like) {
      this(colors, like.columns());
      indentWrappedLines = like.indentWrappedLines;
      setAdjustLineBreaksForWideCJKCharacters(like.isAdjustLineBreaksForWideCJKCharacters());
    }

    @Override
    public Cell putValue(int row, int col, Text value) {
      Column column = columns()[col];
      String plain = value == null ? "" : value.plainString();
      int first = column.width - column.indent;
      if (column.overflow != Column.Overflow.WRAP || plain.indexOf('\n') >= 0 || plain.length() <= first) {
        return super.putValue(row, col, value);
      }
      List<int[]> lines = lines(plain, first, first - indentWrappedLines);
      Cell cell = null;
      for (int i = 0; i < lines.size(); i++) {
        Text line = value.substring(lines.get(i)[0], lines.get(i)[1]);
        if (i > 0) {
          if (row + 1 >= rowCount()) {
            addEmptyRow();
          }
          row++;
          line = value.substring(0, 0).concat(" ".repeat(indentWrappedLines)).concat(line);
        }
        cell = super.putValue(row, col, line);
      }
      return cell;
    }

    /**
     * {@code text} cut at spaces into lines for {@code first} columns, then {@code rest}: each line
     * [start, end) without the spaces it was cut at. As picocli counts a word with the space after
     * it, a line that is cut leaves its last column free; the last line may fill every column. A
     * word longer than a line is a line of its own.
     */
    static List<int[]> lines(String text, int first, int rest) {
      List<int[]> out = new ArrayList<>();
      int start = 0;
      int n = text.length();
      while (start < n) {
        int room = Math.max(2, out.isEmpty() ? first : rest);
        if (n - start <= room) {
          out.add(new int[] {start, n});
          break;
        }
        int cut = text.lastIndexOf(' ', start + room - 1);
        if (cut <= start) {
          cut = text.indexOf(' ', start + room - 1);  // a word longer than the line
          if (cut < 0) {
            out.add(new int[] {start, n});
            break;
          }
        }
        int end = cut;
        while (end > start && text.charAt(end - 1) == ' ') {
          end--;
        }
        out.add(new int[] {start, end});
        start = cut;
        while (start < n && text.charAt(start) == ' ') {
          start++;
        }
      }
      return out;
    }
  }
}
