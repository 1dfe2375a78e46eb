package dev.focalsimd.bench;

import dev.focalsimd.FocalLoss;
import dev.focalsimd.Kernel;
import dev.focalsimd.bench.BenchData.Form;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code --like-ref}: the vector kernel measured the way {@code focal_ref.c} measures itself (the
 * best of 30 consecutive calls, per form and shape), in rounds that alternate with runs of the
 * built {@code focal_ref.c -ffast-math} binary, so that both see the same machine state; {@code
 * --like-ref-scalar}: the scalar kernel the same way against {@code focal_ref.c} built without
 * -ffast-math (issue 4's goal for the scalar path: 0.8x of it), without the memory table. On a
 * shared machine whose speed drifts by tens of percent between minutes, the ratio within one
 * round is the comparison; the table gives each column's median over the rounds and the median
 * and range of the per-round ratios.
 *
 * <p>The Java kernel runs twice per round: with the value checks off (like for like: focal_ref.c
 * checks nothing) and on (the library's default). Each (form, shape) is primed once, before the
 * first round, like {@link ForwardBackwardBench}'s trial setup, then warmed for 0.5 s on the full
 * batch. The two runs of a cell are back to back, so their ratio is also the cost of the value
 * checks measured side by side. Runs in its own JVM, started by {@link BenchMain} with {@code
 * --add-modules=jdk.incubator.vector}: {@code main(exe, rounds, kernel[, keptExe])}.
 *
 * <p>{@code keptExe} ({@code --like-ref}): focal_ref.c built with -ffast-math and its loss sums kept
 * ({@link Peers#keepLoss}), run beside {@code exe} in each round (after it in even rounds, before it
 * in odd ones, counting from 0): as given, -ffast-math lets gcc drop focal_ref.c's loss sums, so it
 * times the gradient alone where the kernel computes the gradient and the loss. The goal's column
 * stays the reference as given.
 */
final class LikeRef {

  static final int CALLS = 30;
  static final int DEFAULT_ROUNDS = 5;

  private static final Pattern LINE =
      Pattern.compile("^(one_vs_all|softmax|sigmoid)\\s+(\\d+)\\s+(\\d+)\\s+([0-9.]+)\\s*$");

  private LikeRef() {}

  /** One (form, shape): the data and the two losses (checks off and on). */
  private static final class Cell {
    final Form form;
    final String shape;
    final BenchData.Batch batch;
    final FocalLoss unchecked;
    final FocalLoss checked;
    final double[] off;
    final double[] on;
    final double[] ref;
    /** focal_ref.c with its loss sums kept, Melem/s per round (NaN without that build). */
    final double[] kept;
    /** {@link BenchData.Batch#traffic} and {@link BenchData.Batch#scan}, Melem/s. */
    final double[] traffic;
    final double[] scan;

    Cell(Form form, String shape, int rounds, Kernel kernel) {
      this.form = form;
      this.shape = shape;
      int[] nc = BenchData.parseShape(shape);
      BenchData data = BenchData.generate(nc, form, form.refTargets());
      batch = data.batch(form, form.refTargets());
      unchecked = BenchData.loss(form, kernel, data.alpha, 1, false);
      checked = BenchData.loss(form, kernel, data.alpha, 1, true);
      off = new double[rounds];
      on = new double[rounds];
      ref = new double[rounds];
      kept = new double[rounds];
      traffic = new double[rounds];
      scan = new double[rounds];
    }

    float call(FocalLoss loss) {
      return batch.forwardBackward(loss);
    }

    /** Calls for at least {@code nanos}; returns the losses' sum (kept, so not dead code). */
    double warm(FocalLoss loss, long nanos) {
      double sink = 0;
      long end = System.nanoTime() + nanos;
      do {
        sink += call(loss);
      } while (System.nanoTime() < end);
      return sink;
    }

    /** The best of {@link #CALLS} calls, in Melem/s; sink[0] accumulates the losses. */
    double bestOf(FocalLoss loss, double[] sink) {
      long best = Long.MAX_VALUE;
      for (int i = 0; i < CALLS; i++) {
        long t0 = System.nanoTime();
        sink[0] += call(loss);
        best = Math.min(best, System.nanoTime() - t0);
      }
      return batch.input.length / (best / 1e3);
    }

    /**
     * The best of {@link #CALLS} calls of the memory loops, traffic (0) or scan (1), in Melem/s;
     * sink[0] accumulates the scan's sums and a gradient element.
     */
    double bestOfMemory(int which, double[] sink) {
      long best = Long.MAX_VALUE;
      for (int i = 0; i < CALLS; i++) {
        long t0 = System.nanoTime();
        if (which == 0) {
          batch.traffic();
        } else {
          sink[0] += batch.scan();
        }
        best = Math.min(best, System.nanoTime() - t0);
      }
      sink[0] += batch.grad[0];
      return batch.input.length / (best / 1e3);
    }

    /** Runs both memory loops for at least {@code nanos} each (their JIT warmup). */
    void warmMemory(long nanos, double[] sink) {
      for (int which = 0; which < 2; which++) {
        long end = System.nanoTime() + nanos;
        do {
          sink[0] += bestOfMemory(which, sink);
        } while (System.nanoTime() < end);
      }
    }
  }

  public static void main(String[] args) throws IOException, InterruptedException {
    String exe = args[0];
    int rounds = Integer.parseInt(args[1]);
    Kernel kernel = args.length > 2 ? Kernel.valueOf(args[2]) : Kernel.VECTOR;
    boolean memory = kernel == Kernel.VECTOR;
    String keptExe = args.length > 3 ? args[3] : null;
    PrintStream out = System.out;
    List<Cell> cells = new ArrayList<>();
    double[] sink = new double[1];
    for (Form f : Form.values()) {
      for (String shape : Peers.SHAPES) {
        Cell c = new Cell(f, shape, rounds, kernel);
        for (FocalLoss loss : List.of(c.unchecked, c.checked)) {
          sink[0] += c.batch.prime(loss);
          sink[0] += c.warm(loss, 500_000_000L);
        }
        if (memory) {
          c.warmMemory(200_000_000L, sink);
        }
        cells.add(c);
        out.printf(Locale.ROOT, "like-ref: primed %s %s%n", f.label, shape);
      }
    }
    for (int r = 0; r < rounds; r++) {
      // the two builds in turn first, so that neither always runs on the other's heels
      boolean keptFirst = keptExe != null && r % 2 == 1;
      Map<String, Double> kept = keptFirst ? runRef(keptExe) : Map.of();
      Map<String, Double> ref = runRef(exe);
      if (keptExe != null && !keptFirst) {
        kept = runRef(keptExe);
      }
      for (Cell c : cells) {
        int[] nc = BenchData.parseShape(c.shape);
        String key = c.form.label + " " + nc[0] + " " + nc[1];
        c.ref[r] = ref.getOrDefault(key, Double.NaN);
        c.kept[r] = kept.getOrDefault(key, Double.NaN);
        c.off[r] = c.bestOf(c.unchecked, sink);
        c.on[r] = c.bestOf(c.checked, sink);
        if (memory) {
          c.traffic[r] = c.bestOfMemory(0, sink);
          c.scan[r] = c.bestOfMemory(1, sink);
        }
      }
      out.printf(Locale.ROOT, "like-ref: round %d of %d done%n", r + 1, rounds);
    }
    out.println();
    out.print(table(cells, rounds, kernel, keptExe != null));
    if (memory) {
      out.println();
      out.print(memoryTable(cells, rounds));
    }
    if (sink[0] == 42.0) {
      out.println();
    }
  }

  private static String table(List<Cell> cells, int rounds, Kernel kernel, boolean withKept) {
    boolean vector = kernel == Kernel.VECTOR;
    String name = vector ? "vector" : "scalar";
    String ref = vector ? "C -ffast-math" : "C strict";
    List<String> head = new ArrayList<>(List.of("form", "N", "C", name + " unchecked",
        name + " checked", ref, "unchecked/C", "(range)", "checked/C", "(range)", "check cost"));
    if (withKept) {
      head.addAll(List.of("C loss kept", "unchecked/C kept", "(range)"));
    }
    TextTable t = new TextTable(1, head);
    for (Cell c : cells) {
      int[] nc = BenchData.parseShape(c.shape);
      double[] ro = new double[rounds];
      double[] rc = new double[rounds];
      double[] cost = new double[rounds];
      double[] rk = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        ro[r] = c.off[r] / c.ref[r];
        rc[r] = c.on[r] / c.ref[r];
        cost[r] = c.off[r] / c.on[r] - 1;
        rk[r] = c.off[r] / c.kept[r];
      }
      List<String> row = new ArrayList<>(List.of(c.form.label, Integer.toString(nc[0]),
          Integer.toString(nc[1]), TextTable.melem(median(c.off)), TextTable.melem(median(c.on)),
          TextTable.melem(median(c.ref)), ratio(median(ro)), range(ro), ratio(median(rc)),
          range(rc), String.format(Locale.ROOT, "%.0f%%", 100 * median(cost))));
      if (withKept) {
        row.addAll(List.of(TextTable.melem(median(c.kept)), ratio(median(rk)), range(rk)));
      }
      t.add(row);
    }
    String keptNote = !withKept ? "" : String.format(Locale.ROOT, "C loss kept: focal_ref.c"
        + " -ffast-math with its loss sums stored (as given, -ffast-math folds its only use of"
        + " them, a NaN test, to false and gcc drops them: it times the gradient alone), run"
        + " beside it in each round, after it and before it in turn; unchecked/C kept: the"
        + " unchecked kernel against it.%n");
    return t.render() + keptNote + String.format(Locale.ROOT,
        "Melem/s from the best of %d consecutive calls (focal_ref.c's own measure), median of %d"
            + " rounds; each round runs focal_ref.c %s, then the %s kernel with the"
            + " value checks off and on. Ratios: median (min..max) of the per-round ratios; check"
            + " cost: median of the per-round unchecked/checked - 1.%n"
            + "Goal (issue 4): %s%n", CALLS, rounds,
        vector ? "-ffast-math" : "built without -ffast-math", name,
        vector ? "vector/C-fast >= 1.25" : "scalar/C-strict >= 0.8");
  }

  /**
   * Each cell against the loops that only move its bytes: how far the kernel and focal_ref.c are
   * from the memory's limit, what 1.25x focal_ref.c would need of it, and the least that a value
   * check which reads the input before the kernel can cost (its reads alone, at the scan's speed,
   * over the unchecked kernel's time).
   */
  private static String memoryTable(List<Cell> cells, int rounds) {
    List<String> head = List.of("form", "N", "C", "traffic only", "unchecked/traffic",
        "C/traffic", "1.25x C/traffic", "scan only", "scan/unchecked", "check cost");
    TextTable t = new TextTable(1, head);
    for (Cell c : cells) {
      int[] nc = BenchData.parseShape(c.shape);
      double[] ko = new double[rounds];
      double[] co = new double[rounds];
      double[] goal = new double[rounds];
      double[] least = new double[rounds];
      double[] cost = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        ko[r] = c.off[r] / c.traffic[r];
        co[r] = c.ref[r] / c.traffic[r];
        goal[r] = 1.25 * c.ref[r] / c.traffic[r];
        least[r] = c.off[r] / c.scan[r];
        cost[r] = c.off[r] / c.on[r] - 1;
      }
      t.add(List.of(c.form.label, Integer.toString(nc[0]), Integer.toString(nc[1]),
          TextTable.melem(median(c.traffic)), percent(median(ko)), percent(median(co)),
          percent(median(goal)), TextTable.melem(median(c.scan)), percent(median(least)),
          percent(median(cost))));
    }
    return t.render() + String.format(Locale.ROOT,
        "Memory (same rounds, best of %d calls): traffic only = the call's reads and writes with"
            + " next to no computation (input and dense targets read, gradient written; softmax:"
            + " input read, gradient written), Melem/s; x/traffic = the speed of x as a share of"
            + " it (medians of per-round ratios). scan only = the value checks' reads alone;"
            + " scan/unchecked = the unchecked kernel's speed over the scan's, the least that"
            + " checks which read everything before the first write can cost.%n", CALLS);
  }

  private static String percent(double r) {
    return String.format(Locale.ROOT, "%.0f%%", 100 * r);
  }

  private static String ratio(double r) {
    return String.format(Locale.ROOT, "%.2fx", r);
  }

  private static String range(double[] r) {
    double[] s = r.clone();
    Arrays.sort(s);
    return String.format(Locale.ROOT, "%.2f..%.2f", s[0], s[s.length - 1]);
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }

  /** Runs the focal_ref binary once: "form N C" to Melem/s. */
  private static Map<String, Double> runRef(String exe) throws IOException, InterruptedException {
    Path log = Files.createTempFile("focal_ref", ".out");
    try {
      Process p = new ProcessBuilder(exe).redirectErrorStream(true).redirectOutput(log.toFile())
          .start();
      p.getOutputStream().close();
      if (!p.waitFor(600, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new BenchException(exe + " did not finish in 600 s");
      }
      if (p.exitValue() != 0) {
        throw new BenchException(exe + " exited with " + p.exitValue());
      }
      Map<String, Double> out = new HashMap<>();
      for (String line : Files.readString(log, StandardCharsets.UTF_8).split("\\R")) {
        Matcher m = LINE.matcher(line.trim());
        if (m.matches()) {
          out.put(m.group(1) + " " + m.group(2) + " " + m.group(3),
              Double.parseDouble(m.group(4)));
        }
      }
      if (out.isEmpty()) {
        throw new BenchException(exe + " printed no results");
      }
      return out;
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
