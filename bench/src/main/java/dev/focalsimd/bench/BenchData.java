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
  /** N x C probabilities, softmax of the logits per row. */
  final float[] probabilities;
  /** N class indices. */
  final int[] classIndex;
  /** N x C one-hot targets of {@link #classIndex}. */
  final float[] oneHot;
  /** C per-class weights in [0, 1). */
  final float[] alpha;

  private BenchData(int n, int c) {
    this.n = n;
    this.c = c;
    int len = n * c;
    logits = new float[len];
    probabilities = new float[len];
    classIndex = new int[n];
    oneHot = new float[len];
    alpha = new float[c];
    SplittableRandom rnd = new SplittableRandom(SEED);
    for (int k = 0; k < c; k++) {
      alpha[k] = (float) rnd.nextDouble();
    }
    for (int i = 0; i < n; i++) {
      int row = i * c;
      float m = Float.NEGATIVE_INFINITY;
      for (int k = 0; k < c; k++) {
        float z = 3.0f * ((float) rnd.nextDouble() - 0.5f);
        logits[row + k] = z;
        m = Math.max(m, z);
      }
      double sum = 0;
      for (int k = 0; k < c; k++) {
        float e = (float) Math.exp(logits[row + k] - m);
        probabilities[row + k] = e;
        sum += e;
      }
      for (int k = 0; k < c; k++) {
        probabilities[row + k] = (float) (probabilities[row + k] / sum);
      }
      int t = rnd.nextInt(c);
      classIndex[i] = t;
      oneHot[row + t] = 1f;
    }
  }

  static BenchData generate(int[] shape) {
    return new BenchData(shape[0], shape[1]);
  }

  /** Elements of the slice {@link #prime} runs on: about one block of the library. */
  static final int PRIME_ELEMENTS = 1 << 14;

  /** How long {@link #prime} runs at most. */
  static final long PRIME_NANOS = 500_000_000L;

  /**
   * Rows of the priming slice for C classes: whole rows, about {@link #PRIME_ELEMENTS} elements,
   * at most N.
   */
  static int primeRows(int n, int c) {
    return Math.max(1, Math.min(n, PRIME_ELEMENTS / c));
  }

  /**
   * Calls {@code call} on a small slice until C2 has had a chance to compile the kernel (at most
   * 20000 calls or {@link #PRIME_NANOS}). Until then the Vector API runs interpreted or in C1,
   * tens of times slower than scalar code and allocating, so one call on a large batch can take
   * seconds and a short JMH warmup would end before compilation. Priming is part of the trial
   * setup: JMH's warmup and measurement iterations follow it. Returns the sum of the losses so
   * that the calls are not dead code.
   */
  static double prime(java.util.function.DoubleSupplier call) {
    double sink = 0;
    long end = System.nanoTime() + PRIME_NANOS;
    for (int i = 0; i < 20000 && System.nanoTime() < end; i++) {
      sink += call.getAsDouble();
    }
    return sink;
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
    switch (form) {
      case ONE_VS_ALL:
        return FocalLoss.oneVsAll().gamma(2f).alpha(alpha).reduction(Reduction.MEAN)
            .kernel(kernel).build();
      case SOFTMAX:
        return FocalLoss.softmax().gamma(2f).alpha(alpha).reduction(Reduction.MEAN)
            .kernel(kernel).build();
      default:
        return FocalLoss.sigmoid().gamma(2f).alpha(0.25f).reduction(Reduction.MEAN)
            .kernel(kernel).build();
    }
  }
}
