package dev.focalsimd.bench;

import dev.focalsimd.FocalLoss;
import dev.focalsimd.Kernel;
import dev.focalsimd.Reduction;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Inputs and losses of the benchmarks, generated the way {@code shared/peers/focal_ref.c} does:
 * logits {@code z = 3 (U - 0.5)}, probabilities {@code p = softmax(z)} per row, one class index
 * {@code t} per row with its one-hot row {@code y}, per-class alpha {@code U}; gamma 2, reduction
 * MEAN. The seed is fixed, so every fork and every machine measures the same numbers.
 */
final class BenchData {

  static final long SEED = 20240229L;

  /** The focal-loss forms, as named in the golden files and in focal_ref.c. */
  enum Form {
    ONE_VS_ALL("one_vs_all"), SOFTMAX("softmax"), SIGMOID("sigmoid");

    final String label;

    Form(String label) {
      this.label = label;
    }

    static Form parse(String s) {
      for (Form f : values()) {
        if (f.label.equals(s) || f.name().equalsIgnoreCase(s)) {
          return f;
        }
      }
      throw new IllegalArgumentException("form = " + s + ", expected one_vs_all, softmax or sigmoid");
    }

    /** The target kind focal_ref.c uses for this form: dense one-hot, or class indices. */
    String refTargets() {
      return this == SOFTMAX ? "index" : "dense";
    }
  }

  final int n;
  final int c;
  /** N x C logits. */
  final float[] logits;
  /** N x C probabilities, softmax of the logits per row (one_vs_all only, else null). */
  final float[] probabilities;
  /** N class indices. */
  final int[] classIndex;
  /** N x C one-hot targets of {@link #classIndex} (dense targets only, else null). */
  final float[] oneHot;
  /** C per-class weights in [0, 1). */
  final float[] alpha;

  /** Logits are uniform in [-spread/2, spread/2): the spread of the benchmarks' data. */
  static final float SPREAD = 3.0f;

  private BenchData(int n, int c, boolean withProbabilities, boolean withOneHot, float spread) {
    this.n = n;
    this.c = c;
    int len = n * c;
    logits = new float[len];
    probabilities = withProbabilities ? new float[len] : null;
    classIndex = new int[n];
    oneHot = withOneHot ? new float[len] : null;
    alpha = new float[c];
    SplittableRandom rnd = new SplittableRandom(SEED);
    for (int k = 0; k < c; k++) {
      alpha[k] = (float) rnd.nextDouble();
    }
    for (int i = 0; i < n; i++) {
      int row = i * c;
      float m = Float.NEGATIVE_INFINITY;
      for (int k = 0; k < c; k++) {
        float z = spread * ((float) rnd.nextDouble() - 0.5f);
        logits[row + k] = z;
        m = Math.max(m, z);
      }
      if (probabilities != null) {
        double sum = 0;
        for (int k = 0; k < c; k++) {
          float e = (float) Math.exp(logits[row + k] - m);
          probabilities[row + k] = e;
          sum += e;
        }
        for (int k = 0; k < c; k++) {
          probabilities[row + k] = (float) (probabilities[row + k] / sum);
        }
      }
      int t = rnd.nextInt(c);
      classIndex[i] = t;
      if (oneHot != null) {
        oneHot[row + t] = 1f;
      }
    }
  }

  /**
   * The inputs of one form and target kind; the same seed gives every form the same logits,
   * class indices and alpha.
   *
   * @param shape {N, C}
   * @param form what the input is: probabilities for one_vs_all, logits otherwise
   * @param targets "dense" (one-hot rows are built) or "index"
   */
  static BenchData generate(int[] shape, Form form, String targets) {
    return generate(shape, form, targets, SPREAD);
  }

  /**
   * As {@link #generate(int[], Form, String)}, with logits uniform in [-spread/2, spread/2) (the
   * probabilities are their softmax).
   */
  static BenchData generate(int[] shape, Form form, String targets, float spread) {
    return new BenchData(shape[0], shape[1], form == Form.ONE_VS_ALL, targets.equals("dense"),
        spread);
  }

  /** Elements of the slice {@link #prime} runs on: small, so that calls are many. */
  static final int PRIME_ELEMENTS = 1 << 10;

  /** {@link #prime} runs at least this long... */
  static final long PRIME_MIN_NANOS = 200_000_000L;

  /** ...and at most this long. */
  static final long PRIME_MAX_NANOS = 1_200_000_000L;

  private static final long PRIME_ROUND_NANOS = 50_000_000L;

  /** Rows of the priming slice for C classes: about {@link #PRIME_ELEMENTS} elements, at most N. */
  static int primeRows(int n, int c) {
    return Math.max(1, Math.min(n, PRIME_ELEMENTS / c));
  }

  /**
   * Calls {@code call} (the benchmark's operation on a small slice) until the JIT has settled:
   * three consecutive 50 ms rounds in which the JIT compilers did no work and the call rate moved
   * by less than 10%, after at least 0.2 s and at most 1.2 s (a fixed 1.2 s where the JVM does
   * not report compilation time).
   *
   * <p>Why: until C2 compiles it, Vector API code runs in the interpreter or in C1, tens of times
   * slower than scalar code and allocating, and it takes thousands of calls to get there. On a
   * large batch that is seconds of wall time, more than a short JMH warmup; small calls reach the
   * compilation thresholds quickly. Priming is part of the trial setup; JMH's own warmup and
   * measurement iterations follow on the full batch.
   *
   * @return the sum of the losses, to be kept in a field so that the calls are not dead code
   */
  static double prime(java.util.function.DoubleSupplier call) {
    java.lang.management.CompilationMXBean jit =
        java.lang.management.ManagementFactory.getCompilationMXBean();
    boolean monitored = jit != null && jit.isCompilationTimeMonitoringSupported();
    long start = System.nanoTime();
    long jitBefore = monitored ? jit.getTotalCompilationTime() : 0;
    double previousRate = 0;
    int settledRounds = 0;
    long calls = 0;
    double sink = 0;
    long now;
    while (true) {
      long roundStart = System.nanoTime();
      long roundCalls = 0;
      do {
        sink += call.getAsDouble();
        roundCalls++;
        now = System.nanoTime();
      } while (now - roundStart < PRIME_ROUND_NANOS);
      calls += roundCalls;
      double rate = roundCalls / (double) (now - roundStart);
      long jitNow = monitored ? jit.getTotalCompilationTime() : jitBefore + 1;
      boolean settled = jitNow == jitBefore && previousRate > 0
          && Math.abs(rate - previousRate) <= 0.1 * previousRate;
      settledRounds = settled ? settledRounds + 1 : 0;
      jitBefore = jitNow;
      previousRate = rate;
      long elapsed = now - start;
      if (elapsed >= PRIME_MAX_NANOS || elapsed >= PRIME_MIN_NANOS && settledRounds >= 3) {
        break;
      }
    }
    if (Boolean.getBoolean("focalsimd.bench.showPriming")) {
      System.out.printf(java.util.Locale.ROOT, "[primed: %d calls in %.0f ms] ", calls,
          (now - start) / 1e6);
    }
    return sink;
  }

  /**
   * {@link #prime} on copies of the first {@link #primeRows} rows of a batch: {@code
   * forwardBackward} with class indices where {@code index} is not null, else with {@code dense}
   * targets.
   *
   * @param n the batch's rows
   */
  static double primeArrays(dev.focalsimd.FocalLoss loss, float[] input, float[] dense,
      int[] index, int n, int classes) {
    int rows = primeRows(n, classes);
    int len = rows * classes;
    float[] in = java.util.Arrays.copyOf(input, len);
    float[] y = dense == null ? null : java.util.Arrays.copyOf(dense, len);
    int[] t = index == null ? null : java.util.Arrays.copyOf(index, rows);
    float[] g = new float[len];
    return prime(() -> t != null ? loss.forwardBackward(in, t, classes, g)
        : loss.forwardBackward(in, y, classes, g));
  }

  /**
   * The heap arrays of one benchmark's calls: a form's input, its targets (class indices or dense
   * one-hot rows, never both) and a gradient array, with {@code forwardBackward} over them.
   */
  static final class Batch {
    final int rows;
    final int classes;
    final float[] input;
    /** N x C one-hot targets, or null with class indices. */
    final float[] dense;
    /** N class indices, or null with dense targets. */
    final int[] index;
    final float[] grad;

    private Batch(BenchData data, Form form, boolean indexTargets) {
      rows = data.n;
      classes = data.c;
      input = data.input(form);
      dense = indexTargets ? null : data.oneHot;
      index = indexTargets ? data.classIndex : null;
      grad = new float[input.length];
    }

    /** {@code forwardBackward} over the whole batch. */
    float forwardBackward(dev.focalsimd.FocalLoss loss) {
      return index != null
          ? loss.forwardBackward(input, index, classes, grad)
          : loss.forwardBackward(input, dense, classes, grad);
    }

    /**
     * The memory traffic of {@link #forwardBackward} and next to no computation ({@link
     * MemoryCeilingBench}): input and dense targets read and the gradient written, or with class
     * indices the input read and the gradient written.
     */
    void traffic() {
      if (dense != null) {
        MemoryCeilingBench.readTwoWriteOne(input, dense, grad);
      } else {
        MemoryCeilingBench.readOneWriteOne(input, grad);
      }
    }

    /**
     * The reads of the value checks, input and dense targets (class indices: N ints, left out),
     * summed; returns the sum (not dead code).
     */
    float scan() {
      return dense != null
          ? MemoryCeilingBench.readTwo(input, dense)
          : MemoryCeilingBench.readOne(input);
    }

    /** {@link #primeArrays} on this batch's first rows. */
    double prime(dev.focalsimd.FocalLoss loss) {
      return primeArrays(loss, input, dense, index, rows, classes);
    }
  }

  /**
   * This data as a {@link Batch} of the form's input: class-index targets if {@code targets} is
   * "index", dense ones if it is "dense" (generated with them).
   *
   * @throws IllegalArgumentException for other target kinds
   */
  Batch batch(Form form, String targets) {
    switch (targets) {
      case "index":
        return new Batch(this, form, true);
      case "dense":
        if (oneHot == null) {
          throw new IllegalArgumentException("targets = dense, but this data has no one-hot rows");
        }
        return new Batch(this, form, false);
      default:
        throw new IllegalArgumentException("targets = " + targets + ", expected dense or index");
    }
  }

  /** The input of a form: probabilities for one_vs_all, logits for softmax and sigmoid. */
  float[] input(Form form) {
    return form == Form.ONE_VS_ALL ? probabilities : logits;
  }

  /**
   * Parses a shape "NxC" (also "N x C", "N,C").
   *
   * @return {N, C}
   * @throws IllegalArgumentException if it is not two positive integers or N*C overflows an int
   */
  static int[] parseShape(String shape) {
    String[] parts = shape.toLowerCase(Locale.ROOT).replace(" ", "").split("[x,]");
    if (parts.length != 2) {
      throw new IllegalArgumentException("shape = " + shape + ", expected NxC such as 4096x16");
    }
    try {
      int n = Integer.parseInt(parts[0]);
      int c = Integer.parseInt(parts[1]);
      if (n < 1 || c < 1 || (long) n * c > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("shape = " + shape + ": N and C must be positive and N*C"
            + " must fit in an array");
      }
      return new int[] {n, c};
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("shape = " + shape + ", expected NxC such as 4096x16");
    }
  }

  /** The loss focal_ref.c computes for a form: gamma 2, MEAN, its alpha. */
  static FocalLoss loss(Form form, Kernel kernel, float[] alpha) {
    return loss(form, kernel, alpha, 1, true);
  }

  /** The same loss with a parallelism and the value checks on or off. */
  static FocalLoss loss(Form form, Kernel kernel, float[] alpha, int parallelism,
      boolean validateValues) {
    switch (form) {
      case ONE_VS_ALL:
        return FocalLoss.oneVsAll().gamma(2f).alpha(alpha).reduction(Reduction.MEAN)
            .kernel(kernel).parallelism(parallelism).validateValues(validateValues).build();
      case SOFTMAX:
        return FocalLoss.softmax().gamma(2f).alpha(alpha).reduction(Reduction.MEAN)
            .kernel(kernel).parallelism(parallelism).validateValues(validateValues).build();
      default:
        return FocalLoss.sigmoid().gamma(2f).alpha(0.25f).reduction(Reduction.MEAN)
            .kernel(kernel).parallelism(parallelism).validateValues(validateValues).build();
    }
  }
}
