package dev.focalsimd.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A plain-text table: left-aligned first columns, right-aligned numbers. */
final class TextTable {
  private final List<String> header;
  private final int leftColumns;
  private final List<List<String>> rows = new ArrayList<>();

  TextTable(int leftColumns, List<String> header) {
    this.leftColumns = leftColumns;
    this.header = header;
  }

  void add(List<String> row) {
    rows.add(row);
  }

  int size() {
    return rows.size();
  }

  String render() {
    int cols = header.size();
    int[] w = new int[cols];
    for (int i = 0; i < cols; i++) {
      w[i] = header.get(i).length();
      for (List<String> r : rows) {
        w[i] = Math.max(w[i], r.get(i).length());
      }
    }
    StringBuilder sb = new StringBuilder();
    line(sb, header, w);
    StringBuilder rule = new StringBuilder();
    for (int i = 0; i < cols; i++) {
      rule.append(i == 0 ? "" : "  ").append("-".repeat(w[i]));
    }
    sb.append(rule).append('\n');
    for (List<String> r : rows) {
      line(sb, r, w);
    }
    return sb.toString();
  }

  private void line(StringBuilder sb, List<String> cells, int[] w) {
    StringBuilder l = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      String s = cells.get(i);
      if (i > 0) {
        l.append("  ");
      }
      if (i < leftColumns) {
        l.append(s).append(" ".repeat(w[i] - s.length()));
      } else {
        l.append(" ".repeat(w[i] - s.length())).append(s);
      }
    }
    sb.append(l.toString().stripTrailing()).append('\n');
  }

  /** Melem/s with sensible digits; "n/a" for missing. */
  static String melem(Double v) {
    if (v == null || !(v > 0)) {
      return "n/a";
    }
    if (v >= 100) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    if (v >= 10) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    return String.format(Locale.ROOT, "%.2f", v);
  }

  /** A ratio such as "11.3x"; "n/a" for missing. */
  static String ratio(Double a, Double b) {
    if (a == null || b == null || !(a > 0) || !(b > 0)) {
      return "n/a";
    }
    double r = a / b;
    return String.format(Locale.ROOT, r >= 10 ? "%.1fx" : "%.2fx", r);
  }
}
