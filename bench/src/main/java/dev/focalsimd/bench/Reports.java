package dev.focalsimd.bench;

import dev.focalsimd.bench.ResultFile.Entry;
import dev.focalsimd.bench.ResultFile.Header;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** The tables printed after a run and by {@code --compare}. */
final class Reports {

  static final String GC_NORM = "gc.alloc.rate.norm";

  private Reports() {}

  /** A row of a table: a form (with its variant), N and C. */
  record RowKey(String form, String formLabel, int n, int c) {
    static RowKey of(Entry e) {
      return new RowKey(e.form(), e.formLabel(), e.n(), e.c());
    }

    String shape() {
      return n + "x" + c;
    }
  }

  static final Comparator<RowKey> ROW_ORDER = Comparator
      .comparing((RowKey k) -> BenchData.Form.parse(k.form()).ordinal())
      .thenComparing(RowKey::formLabel)
      .thenComparingInt(RowKey::c)
      .thenComparingInt(RowKey::n);

  /** Variants in column order: SCALAR, then VECTOR by width (forced widths first, smallest). */
  static final Comparator<String> VARIANT_ORDER = Comparator
      .comparingInt((String v) -> v.equals("SCALAR") ? 0 : v.equals("VECTOR") ? 2 : 1)
      .thenComparingInt(v -> v.contains("@") ? Integer.parseInt(v.substring(v.indexOf('@') + 1)) : 0)
      .thenComparing(v -> v);

  static String variantLabel(String variant, int preferredBits) {
    if (variant.equals("SCALAR")) {
      return "scalar";
    }
    if (variant.equals("VECTOR")) {
      return preferredBits > 0 ? "vector " + preferredBits : "vector";
    }
    return "vector " + variant.substring(variant.indexOf('@') + 1);
  }

  /** Entries of one file by row and variant. */
  static Map<RowKey, Map<String, Entry>> byRow(List<Entry> entries) {
    Map<RowKey, Map<String, Entry>> rows = new java.util.TreeMap<>(ROW_ORDER);
    for (Entry e : entries) {
      rows.computeIfAbsent(RowKey.of(e), k -> new LinkedHashMap<>()).put(e.variant(), e);
    }
    return rows;
  }

  /**
   * The table of one run: form, N, C, scalar Melem/s, one column per vector width, and each
   * vector column's speedup over scalar; allocation per operation where -prof gc ran.
   */
  static String runTable(ResultFile file) {
    Map<RowKey, Map<String, Entry>> rows = byRow(file.results());
    Set<String> variants = new TreeSet<>(VARIANT_ORDER);
    variants.add("SCALAR");
    boolean vectorRan = false;
    boolean gc = false;
    for (Entry e : file.results()) {
      variants.add(e.variant());
      vectorRan |= e.kernel().equals("VECTOR");
      gc |= e.secondary() != null && e.secondary().containsKey(GC_NORM);
    }
    if (!vectorRan) {
      variants.add("VECTOR"); // shown as n/a: the vector kernel is unavailable in this JVM
    }
    int preferred = file.header().vectorBitSize();
    List<String> vectors = new ArrayList<>();
    List<String> head = new ArrayList<>(List.of("form", "N", "C"));
    for (String v : variants) {
      boolean single = variants.size() == 2;
      head.add((single ? v.toLowerCase(Locale.ROOT) : variantLabel(v, preferred)) + " Melem/s");
      if (!v.equals("SCALAR")) {
        vectors.add(v);
      }
    }
    for (String v : vectors) {
      head.add(vectors.size() == 1 ? "speedup"
          : "speedup " + variantLabel(v, preferred).replace("vector", "").trim());
    }
    if (gc) {
      for (String v : variants) {
        head.add(variantLabel(v, preferred) + " B/op");
      }
    }
    TextTable t = new TextTable(1, head);
    for (Map.Entry<RowKey, Map<String, Entry>> r : rows.entrySet()) {
      List<String> cells = new ArrayList<>(List.of(r.getKey().formLabel(),
          Integer.toString(r.getKey().n()), Integer.toString(r.getKey().c())));
      for (String v : variants) {
        cells.add(TextTable.melem(melem(r.getValue().get(v))));
      }
      Double scalar = melem(r.getValue().get("SCALAR"));
      for (String v : vectors) {
        cells.add(TextTable.ratio(melem(r.getValue().get(v)), scalar));
      }
      if (gc) {
        for (String v : variants) {
          Entry e = r.getValue().get(v);
          ResultFile.Secondary s = e == null || e.secondary() == null ? null
              : e.secondary().get(GC_NORM);
          cells.add(s == null ? "n/a" : String.format(Locale.ROOT, "%.1f", s.score()));
        }
      }
      t.add(cells);
    }
    return t.render();
  }

  static Double melem(Entry e) {
    return e == null ? null : e.melemPerSec();
  }

  /** The line that names a file in a comparison. */
  static String describe(Header h) {
    String vec = h.vectorBitSize() > 0 ? "vector " + h.vectorBitSize() + " bits" : "no vector";
    return h.cpuModel() + ", " + h.cores() + " cores | JDK " + h.jdkVersion() + " | " + vec
        + " | bench " + h.benchVersion() + " " + h.profile() + " | " + h.date();
  }

  /** Geometric mean of VECTOR / SCALAR over the rows of a file that have both; null if none. */
  static double[] geomeanVectorSpeedup(ResultFile f) {
    double logSum = 0;
    int count = 0;
    for (Map<String, Entry> m : byRow(f.results()).values()) {
      Entry s = m.get("SCALAR");
      Entry v = m.get("VECTOR");
      if (s != null && v != null) {
        logSum += Math.log(v.melemPerSec() / s.melemPerSec());
        count++;
      }
    }
    return count == 0 ? null : new double[] {Math.exp(logSum / count), count};
  }

  /** A comparison row: the row key and the variant. */
  record CompareKey(RowKey row, String variant) {}

  /** Rows of a comparison in order, with each file's entry (null where a file lacks it). */
  static Map<CompareKey, Entry[]> compareRows(List<ResultFile> files) {
    Map<CompareKey, Entry[]> out = new java.util.TreeMap<>(
        Comparator.comparing(CompareKey::row, ROW_ORDER)
            .thenComparing(CompareKey::variant, VARIANT_ORDER));
    for (int i = 0; i < files.size(); i++) {
      for (Entry e : files.get(i).results()) {
        Entry[] cells = out.computeIfAbsent(new CompareKey(RowKey.of(e), e.variant()),
            k -> new Entry[files.size()]);
        cells[i] = e;
      }
    }
    return out;
  }

  /**
   * The comparison of several result files: a legend naming each, warnings where bench versions
   * or profiles differ, one row per form x shape x kernel with each file's Melem/s and its ratio
   * to the first file, and each file's geometric mean of vector speedups.
   */
  static String compareTable(List<Path> paths, List<ResultFile> files) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < files.size(); i++) {
      sb.append('[').append(i + 1).append("] ").append(paths.get(i).getFileName()).append(": ")
          .append(describe(files.get(i).header())).append('\n');
    }
    Set<String> versions = new LinkedHashSet<>();
    Set<String> profiles = new LinkedHashSet<>();
    for (ResultFile f : files) {
      versions.add(String.valueOf(f.header().benchVersion()));
      profiles.add(String.valueOf(f.header().profile()));
    }
    if (versions.size() > 1) {
      sb.append("warning: the files come from different bench versions ").append(versions)
          .append("; the benchmarks may differ\n");
    }
    if (profiles.size() > 1) {
      sb.append("warning: the files come from different run profiles ").append(profiles)
          .append("; their settings and noise differ\n");
    }
    sb.append('\n');
    List<String> head = new ArrayList<>(List.of("form", "N", "C", "kernel"));
    for (int i = 0; i < files.size(); i++) {
      head.add("[" + (i + 1) + "] Melem/s");
    }
    for (int i = 1; i < files.size(); i++) {
      head.add("[" + (i + 1) + "]/[1]");
    }
    TextTable t = new TextTable(4, head);
    for (Map.Entry<CompareKey, Entry[]> r : compareRows(files).entrySet()) {
      RowKey k = r.getKey().row();
      List<String> cells = new ArrayList<>(List.of(k.formLabel(), Integer.toString(k.n()),
          Integer.toString(k.c()), variantLabel(r.getKey().variant(), 0)));
      Entry[] es = r.getValue();
      for (Entry e : es) {
        cells.add(TextTable.melem(melem(e)));
      }
      for (int i = 1; i < es.length; i++) {
        cells.add(TextTable.ratio(melem(es[i]), melem(es[0])));
      }
      t.add(cells);
    }
    sb.append(t.render()).append('\n');
    for (int i = 0; i < files.size(); i++) {
      double[] g = geomeanVectorSpeedup(files.get(i));
      sb.append('[').append(i + 1).append("] geometric mean of vector/scalar speedups: ")
          .append(g == null ? "n/a (no row has both kernels)"
              : String.format(Locale.ROOT, "%.2fx over %d row%s", g[0], (int) g[1],
                  (int) g[1] == 1 ? "" : "s"))
          .append('\n');
    }
    return sb.toString();
  }
}
