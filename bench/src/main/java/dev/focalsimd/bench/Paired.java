package dev.focalsimd.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedSet;
import java.util.regex.Pattern;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.NoBenchmarksException;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * {@code --paired NAME=A,B}: two values of one benchmark parameter compared in alternating JMH
 * runs. On a machine whose speed drifts from minute to minute (a shared cloud VM), a JMH run of
 * every A benchmark followed by every B benchmark compares A at one moment with B at another;
 * here each benchmark's other parameters are held fixed while A and B alternate, one JMH fork
 * each, {@code rounds} times, and the ratio B/A is taken within each round. The table gives the
 * median score of each side and the median (min..max) of the per-round ratios.
 *
 * <p>Every run is an ordinary JMH run (the user's JMH options, one fork unless {@code -f} says
 * otherwise): only the order of the forks differs from running the benchmark plainly.
 */
final class Paired {

  static final int DEFAULT_ROUNDS = 5;

  private Paired() {}

  /** The parameter and its two values, from {@code NAME=A,B}. */
  record Spec(String name, String a, String b) {

    static Spec parse(String value) {
      int eq = value.indexOf('=');
      String[] v = eq < 0 ? new String[0] : value.substring(eq + 1).split(",", -1);
      if (eq <= 0 || v.length != 2 || v[0].isEmpty() || v[1].isEmpty() || v[0].equals(v[1])) {
        throw new BenchException("--paired " + value
            + ": expected NAME=A,B, a benchmark parameter and two different values of it"
            + " (e.g. --paired parallelism=1,2)");
      }
      return new Spec(value.substring(0, eq), v[0], v[1]);
    }
  }

  /** One benchmark with all parameters but the paired one fixed. */
  record Cell(String benchmark, Map<String, String> params) {

    String label() {
      String name = benchmark.substring(benchmark.lastIndexOf('.', benchmark.lastIndexOf('.') - 1)
          + 1);
      StringBuilder sb = new StringBuilder(name);
      params.forEach((k, v) -> sb.append(' ').append(k).append('=').append(v));
      return sb.toString();
    }
  }

  /**
   * Runs the pairs and prints the table; returns the exit status.
   *
   * @param jmh the user's JMH options; they must name the benchmarks (a regex)
   */
  static int run(Spec spec, int rounds, CommandLineOptions jmh, PrintStream out) {
    if (jmh.getIncludes().isEmpty()) {
      throw new BenchException("--paired needs a benchmark regex, such as OptionsBench");
    }
    if (jmh.getParameter(spec.name()).hasValue()) {
      throw new BenchException("-p " + spec.name() + "=... and --paired " + spec.name()
          + "=... exclude each other");
    }
    List<Cell> cells = cells(spec, jmh);
    List<String> benchmarks = cells.stream().map(Cell::benchmark).distinct().toList();
    int forks = jmh.getForkCount().orElse(1);
    out.printf(Locale.ROOT, "paired: %s=%s against %s=%s, %d cells x %d rounds, each round one"
        + " JMH run of each value (%d fork%s) back to back; scores in JMH's unit (ops/s: calls"
        + " over the whole batch)%n", spec.name(), spec.b(), spec.name(), spec.a(), cells.size(),
        rounds, forks, forks == 1 ? "" : "s");
    TextTable table = new TextTable(1, List.of("benchmark", spec.name() + "=" + spec.a(),
        spec.name() + "=" + spec.b(), "unit", spec.b() + "/" + spec.a() + " median",
        "(min..max)"));
    for (Cell cell : cells) {
      double[][] score = new double[2][rounds];
      String unit = "";
      for (int r = 0; r < rounds; r++) {
        for (int side = 0; side < 2; side++) {
          Result<?> res = runOnce(cell, benchmarks, spec.name(), side == 0 ? spec.a() : spec.b(),
              forks, jmh);
          score[side][r] = res.getScore();
          unit = res.getScoreUnit();
        }
      }
      double[] ratio = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        ratio[r] = score[1][r] / score[0][r];
      }
      List<String> row = List.of(cell.label(), fmt(LikeRef.median(score[0])),
          fmt(LikeRef.median(score[1])), unit,
          String.format(Locale.ROOT, "%.2fx", LikeRef.median(ratio)),
          String.format(Locale.ROOT, "(%.2f..%.2f)", min(ratio), max(ratio)));
      out.println("  " + String.join("  ", row));
      out.flush();
      table.add(row);
    }
    out.println();
    out.print(table.render());
    return 0;
  }

  /** The benchmarks the regex names, each with every combination of its other parameters. */
  static List<Cell> cells(Spec spec, CommandLineOptions jmh) {
    SortedSet<BenchmarkListEntry> entries = BenchmarkList.defaultList().find(new SilentFormat(),
        jmh.getIncludes(), jmh.getExcludes());
    if (entries.isEmpty()) {
      throw new BenchException("no benchmark matches " + jmh.getIncludes()
          + " (" + BenchMain.jar() + " -l lists them)");
    }
    List<Cell> cells = new ArrayList<>();
    for (BenchmarkListEntry e : entries) {
      Map<String, String[]> declared = e.getParams().orElse(Map.of());
      if (!declared.containsKey(spec.name())) {
        throw new BenchException(e.getUsername() + " has no parameter " + spec.name()
            + " (its parameters: " + declared.keySet() + ")");
      }
      Map<String, List<String>> values = new LinkedHashMap<>();
      for (Map.Entry<String, String[]> p : declared.entrySet()) {
        if (p.getKey().equals(spec.name())) {
          continue;
        }
        Collection<String> given = jmh.getParameter(p.getKey()).orElse(null);
        values.put(p.getKey(), given != null ? List.copyOf(given) : Arrays.asList(p.getValue()));
      }
      combine(e.getUsername(), new ArrayList<>(values.entrySet()), 0, new LinkedHashMap<>(),
          cells);
    }
    return cells;
  }

  private static void combine(String benchmark, List<Map.Entry<String, List<String>>> params,
      int k, LinkedHashMap<String, String> chosen, List<Cell> out) {
    if (k == params.size()) {
      out.add(new Cell(benchmark, new LinkedHashMap<>(chosen)));
      return;
    }
    for (String v : params.get(k).getValue()) {
      chosen.put(params.get(k).getKey(), v);
      combine(benchmark, params, k + 1, chosen, out);
    }
    chosen.remove(params.get(k).getKey());
  }

  /** One JMH run of one cell with the paired parameter at one value; its primary result. */
  private static Result<?> runOnce(Cell cell, List<String> benchmarks, String name,
      String value, int forks, CommandLineOptions jmh) {
    // The user's regex stays in the parent's includes (JMH unites them with these): every other
    // benchmark it matches is excluded by name.
    ChainedOptionsBuilder b = new OptionsBuilder().parent(jmh)
        .include("^" + Pattern.quote(cell.benchmark()) + "$")
        .forks(forks)
        .verbosity(VerboseMode.SILENT)
        .shouldFailOnError(true);
    for (String other : benchmarks) {
      if (!other.equals(cell.benchmark())) {
        b.exclude("^" + Pattern.quote(other) + "$");
      }
    }
    cell.params().forEach(b::param);
    b.param(name, value);
    Collection<RunResult> results;
    Quiet quiet = new Quiet();
    try {
      results = BenchMain.quietly(new Runner(b.build(), quiet));
    } catch (NoBenchmarksException e) {
      throw new BenchException("no benchmark matches " + cell.benchmark());
    } catch (RunnerException e) {
      throw new BenchException("JMH: " + BenchMain.oneLine(String.valueOf(e.getMessage()))
          + " in " + cell.label() + " " + name + "=" + value
          + (quiet.failures.first() != null ? ": " + quiet.failures.first() : ""));
    }
    for (RunResult r : results) {
      if (r.getParams().getBenchmark().equals(cell.benchmark())) {
        return r.getPrimaryResult();
      }
    }
    throw new BenchException("JMH returned no result for " + cell.label() + " " + name + "="
        + value);
  }

  /**
   * Discards JMH's output and the forks' (the incubator-module warning of every fork, among
   * others), keeping the first line of a failure's report for the error message.
   */
  private static final class Quiet extends SilentFormat {
    final Failures failures = new Failures();

    @Override
    public void println(String s) {
      failures.accept(s);
    }
  }

  private static double min(double[] v) {
    return Arrays.stream(v).min().orElse(Double.NaN);
  }

  private static double max(double[] v) {
    return Arrays.stream(v).max().orElse(Double.NaN);
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.3g", v);
  }
}
