package dev.focalsimd;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * Property tests (jqwik) of issue 5 on every kernel of this JVM: random shapes (N 1..64, C
 * 1..300 with every tail length around 8, 16 and 32 lanes), offsets and buffer kinds, logits from
 * 1e-30 to 1e4, probabilities at 0, 1 and the clip bounds, gamma in {0, .25, .5, 1, 2, 2.5, 3, 5}.
 * Expected values come from {@link RefLoss} (double, independent of the kernels) and from the
 * relations between reductions; vector and scalar are compared within the golden tolerances.
 */
class PropertyTest {

  /**
   * Gradient vs finite differences: the golden README's measure (largest absolute difference over
   * max(largest |expected|, 1e-4)). The difference quotients are Richardson-extrapolated in
   * double, so their own error is far below the kernels' float rounding; the bound is the golden
   * gradient tolerance.
   */
  static final double FD_TOLERANCE = Tolerance.GRAD;

  /** Rows whose every coordinate is checked by finite differences, per scenario. */
  static final int FD_ROWS = 6;

  static final AtomicLong SCENARIOS = new AtomicLong();
  static final AtomicLong FD_COORDINATES = new AtomicLong();
  /** Coordinates not checked: a kink of the one-vs-all clip within the stencil or at the point. */
  static final AtomicLong FD_SKIPPED = new AtomicLong();
  /** Largest error / tolerance seen per comparison, to show the margin in the report. */
  static final java.util.concurrent.ConcurrentSkipListMap<String, Double> WORST =
      new java.util.concurrent.ConcurrentSkipListMap<>();

  /** Tolerance.assertClose, remembering the largest error / tolerance seen under this label. */
  static void assertClose(String label, String what, double[] expected, float[] actual,
      double tol) {
    double err = Tolerance.relativeError(expected, actual);
    WORST.merge(label, err / tol, Math::max);
    Tolerance.assertClose(what, expected, actual, tol);
  }

  // ------------------------------------------------------------------ generators

  @Provide
  Arbitrary<Scenario> scenarios() {
    Arbitrary<RefLoss.Form> form = Arbitraries.of(RefLoss.Form.ONE_VS_ALL, RefLoss.Form.SOFTMAX,
        RefLoss.Form.SIGMOID);
    Arbitrary<Boolean> indices = Arbitraries.of(false, true);
    Arbitrary<Integer> n = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(6, Arbitraries.integers().between(1, 64)),
        net.jqwik.api.Tuple.of(1, Arbitraries.of(1, 2, 63, 64)));
    Arbitrary<Integer> c = Arbitraries.frequencyOf(
        // every tail length of 8-, 16- and 32-lane loops, and one more lane count
        net.jqwik.api.Tuple.of(4, Arbitraries.integers().between(1, 40)),
        net.jqwik.api.Tuple.of(2, Arbitraries.of(47, 48, 49, 63, 64, 65, 95, 96, 97, 127, 128,
            129, 255, 256, 257, 300)),
        net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(1, 300)));
    Arbitrary<Float> gamma = Arbitraries.of(Scenario.GAMMAS[0], Scenario.GAMMAS[1],
        Scenario.GAMMAS[2], Scenario.GAMMAS[3], Scenario.GAMMAS[4], Scenario.GAMMAS[5],
        Scenario.GAMMAS[6], Scenario.GAMMAS[7]);
    Arbitrary<Integer> reduction = Arbitraries.integers().between(0, 2);
    Arbitrary<Long> seed = Arbitraries.longs();
    Arbitrary<Scenario.Container> container = Arbitraries.of(Scenario.Container.class);
    return Combinators.combine(form, indices, n, c, gamma, reduction, seed, container)
        .as(Scenario::new);
  }

  // ------------------------------------------------------------------ properties

  /**
   * Finite input gives finite output on every kernel; per-sample and reduced losses match the
   * double reference; vector and scalar agree within the golden tolerances.
   */
  @Property(tries = 600)
  void finiteAndCorrectOnEveryKernel(@ForAll("scenarios") Scenario s) {
    checkFiniteAndCorrect(s, true);
  }

  /**
   * Finite outputs on every kernel; with {@code compare}, also the double reference (per-sample
   * and reduced loss) and VECTOR vs SCALAR. Rows where a one-vs-all-from-logits probability sits
   * on a clip bound (within rounding) are left out of gradient comparisons: the gradient jumps
   * there, and two correct kernels may round to either side.
   */
  static void checkFiniteAndCorrect(Scenario s, boolean compare) {
    SCENARIOS.incrementAndGet();
    double[] refPs = s.refPerSample();
    double den = s.denominator(s.reduction);
    double refLoss = den == 0 ? 0 : sum(refPs) / den;
    boolean[] keep = s.rowsOffTheClipBounds();
    Scenario.Result scalar = null;
    for (Kernel k : GoldenTest.kernels()) {
      Scenario.Result r = s.run(s.build(k));
      assertFinite(s, k, r);
      if (!compare) {
        continue;
      }
      assertClose(k + " per-sample vs reference", s + " " + k + " per-sample vs reference",
          refPs, r.perSample, Tolerance.LOSS);
      assertClose(k + " loss vs reference", s + " " + k + " loss vs reference",
          new double[] {refLoss}, new float[] {r.loss}, Tolerance.LOSS);
      if (k == Kernel.SCALAR) {
        scalar = r;
      } else {
        assertClose("VECTOR vs SCALAR per-sample", s + " VECTOR vs SCALAR per-sample",
            toDouble(scalar.perSample), r.perSample, Tolerance.LOSS);
        assertClose("VECTOR vs SCALAR loss", s + " VECTOR vs SCALAR loss",
            new double[] {scalar.loss}, new float[] {r.loss}, Tolerance.LOSS);
        assertClose("VECTOR vs SCALAR gradient", s + " VECTOR vs SCALAR gradient",
            toDouble(Scenario.rows(scalar.grad, keep, s.classes)),
            Scenario.rows(r.grad, keep, s.classes), Tolerance.GRAD);
      }
    }
  }

  /** The gradient equals a central finite difference of the reference loss, in double. */
  @Property(tries = 400)
  void gradientMatchesFiniteDifferences(@ForAll("scenarios") Scenario s) {
    checkFiniteDifferences(s);
  }

  static void checkFiniteDifferences(Scenario s) {
    SCENARIOS.incrementAndGet();
    RefLoss ref = s.reference();
    double den = s.denominator(s.reduction);
    double scale = den == 0 ? 0 : 1 / den;
    SplittableRandom rnd = new SplittableRandom(s.seed ^ 0x5DEECE66DL);
    List<Integer> rows = new ArrayList<>();
    for (int i = 0; i < Math.min(FD_ROWS, s.n); i++) {
      int r = s.n <= FD_ROWS ? i : rnd.nextInt(s.n);
      if (!rows.contains(r)) {
        rows.add(r);
      }
    }
    boolean[] keep = s.rowsOffTheClipBounds();
    double[][] fd = new double[rows.size()][];
    for (int i = 0; i < rows.size(); i++) {
      int r = rows.get(i);
      fd[i] = new double[s.classes];
      if (!keep[r]) {
        java.util.Arrays.fill(fd[i], Double.NaN); // a probability on a clip bound: not checked
        continue;
      }
      if (s.ignored(r)) {
        continue; // an ignored row's gradient is exactly 0
      }
      double[] xr = s.inputRow(r);
      double[] yr = s.targetRow(r);
      boolean[] col = fdColumns(s.form, xr, yr, rnd);
      for (int c = 0; c < s.classes; c++) {
        fd[i][c] = !col[c] ? UNCHECKED : scale * ref.derivative(xr, yr, c);
      }
    }
    for (Kernel k : GoldenTest.kernels()) {
      Scenario.Result res = s.run(s.build(k));
      List<Double> expected = new ArrayList<>();
      List<Float> actual = new ArrayList<>();
      for (int i = 0; i < rows.size(); i++) {
        int r = rows.get(i);
        for (int c = 0; c < s.classes; c++) {
          if (fd[i][c] == UNCHECKED) {
            continue;
          }
          FD_COORDINATES.incrementAndGet();
          if (Double.isNaN(fd[i][c])) {
            FD_SKIPPED.incrementAndGet();
            continue;
          }
          expected.add(fd[i][c]);
          actual.add(res.grad[r * s.classes + c]);
        }
      }
      double[] e = new double[expected.size()];
      float[] a = new float[actual.size()];
      for (int i = 0; i < e.length; i++) {
        e[i] = expected.get(i);
        a[i] = actual.get(i);
      }
      assertClose(k + " gradient vs finite differences"
          + (s.form == RefLoss.Form.ONE_VS_ALL_LOGITS ? " (from logits)" : ""),
          s + " " + k + " gradient vs finite differences (rows " + rows + ")", e, a,
          FD_TOLERANCE);
    }
  }

  /** A coordinate left out by {@link #fdColumns}. */
  static final double UNCHECKED = Double.NEGATIVE_INFINITY;

  /** Coordinates checked per from-logits row; all where C is at most this. */
  static final int FD_LOGITS_COLUMNS = 64;

  /**
   * The coordinates of a row whose derivative is checked: all, except for the one-vs-all form
   * from logits on rows wider than {@link #FD_LOGITS_COLUMNS}, whose every quotient costs O(C)
   * (the softmax couples the row): there the 8 largest logits (the largest gradients, and where
   * the Jacobian cancels), the 8 largest targets (a target's gradient is O(1) however small its
   * p) and random others, FD_LOGITS_COLUMNS in all.
   */
  static boolean[] fdColumns(RefLoss.Form form, double[] x, double[] y, SplittableRandom rnd) {
    int classes = x.length;
    boolean[] col = new boolean[classes];
    if (form != RefLoss.Form.ONE_VS_ALL_LOGITS || classes <= FD_LOGITS_COLUMNS) {
      java.util.Arrays.fill(col, true);
      return col;
    }
    Integer[] order = new Integer[classes];
    for (int c = 0; c < classes; c++) {
      order[c] = c;
    }
    java.util.Arrays.sort(order, (a, b) -> Double.compare(x[b], x[a]));
    for (int i = 0; i < 8; i++) {
      col[order[i]] = true;
    }
    java.util.Arrays.sort(order, (a, b) -> Double.compare(y[b], y[a]));
    for (int i = 0; i < 8; i++) {
      col[order[i]] = true;
    }
    int n = 0;
    for (boolean b : col) {
      n += b ? 1 : 0;
    }
    while (n < FD_LOGITS_COLUMNS) {
      int c = rnd.nextInt(classes);
      if (!col[c]) {
        col[c] = true;
        n++;
      }
    }
    return col;
  }

  /**
   * Per-sample losses sum to the SUM loss; MEAN (and POSITIVES) equal SUM over the right count,
   * for the loss and for every gradient element.
   */
  @Property(tries = 400)
  void reductionsAgree(@ForAll("scenarios") Scenario s) {
    SCENARIOS.incrementAndGet();
    for (Kernel k : GoldenTest.kernels()) {
      Scenario.Result sum = s.run(s.build(k, Reduction.SUM));
      double psSum = 0;
      double psAbs = 0;
      for (float v : sum.perSample) {
        psSum += v;
        psAbs += Math.abs(v);
      }
      // The two differ only in the order of the sums (each kernel computes both; until the first
      // stop of 2026-12-07 the vector kernel left one-vs-all calls shorter than a vector to the
      // scalar kernel, and this check held those to the golden loss tolerance).
      double sumTol = 1e-6 * psAbs + 1e-37;
      checkClose(s + " " + k + " sum of per-sample vs SUM", psSum, sum.loss, sumTol);
      List<Reduction> others = new ArrayList<>(List.of(Reduction.MEAN));
      if (s.form == RefLoss.Form.SIGMOID) {
        others.add(Reduction.POSITIVES);
      }
      for (Reduction red : others) {
        double count = s.denominator(red);
        Scenario.Result r = s.run(s.build(k, red));
        double expected = count == 0 ? 0 : sum.loss / count;
        checkClose(s + " " + k + " " + red + " vs SUM / " + count, expected, r.loss,
            3e-7 * Math.abs(expected) + 1e-44);
        // Elementwise, a few float roundings apart; values near the float underflow range (a
        // float kernel's intermediates lose digits there) are held to 1e-6 of the largest.
        double maxAbs = 0;
        for (float v : sum.grad) {
          maxAbs = count == 0 ? 0 : Math.max(maxAbs, Math.abs(v / count));
        }
        for (int i = 0; i < r.grad.length; i++) {
          double g = count == 0 ? 0 : sum.grad[i] / count;
          checkClose(s + " " + k + " " + red + " gradient[" + i + "] vs SUM / " + count, g,
              r.grad[i], 4e-7 * Math.abs(g) + 1e-6 * maxAbs + 1e-44);
        }
      }
    }
  }

  /**
   * Found by reductionsAgree at 256 bits (CI's width256 pass): a 1.5e-6 relative difference
   * between the per-sample losses (scalar kernel, C < 8 lanes) and SUM (the flat float pass) of
   * a loss of 8.8e-22 with gamma 5, held to the same-kernel bound of 1e-6.
   */
  @Example
  void narrowRowsPerSampleAcrossKernels() {
    reductionsAgree(new Scenario(RefLoss.Form.SIGMOID, true, 2, 4, 5f, Reduction.SUM.ordinal(),
        -9095015L, Scenario.Container.ARRAY));
  }

  /**
   * Found by reductionsAgree at 128 bits: softmax with class indices over more than 32 classes
   * took e_t from Math.exp when forward() wrote no gradient and from the vector exponential when
   * forwardBackward() did, so the two losses could differ in the last bit (0.36377954 against
   * 0.36377957 here).
   */
  @Example
  void softmaxForwardIsForwardBackwardsLoss() {
    reductionsAgree(new Scenario(RefLoss.Form.SOFTMAX, true, 1, 34, 0f, Reduction.SUM.ordinal(),
        2171L, Scenario.Container.ARRAY));
    reductionsAgree(new Scenario(RefLoss.Form.SOFTMAX, true, 1, 34, 1f, Reduction.SUM.ordinal(),
        2171L, Scenario.Container.HEAP_SLICE));
  }

  /** Every container (arrays, heap buffers at positions and slices, direct buffers) gives the same bits. */
  @Property(tries = 300)
  void everyContainerGivesTheSameBits(@ForAll("scenarios") Scenario s) {
    SCENARIOS.incrementAndGet();
    Scenario asArray = new Scenario(s.form, s.indices, s.n, s.classes, s.gamma,
        s.reduction.ordinal(), s.seed, Scenario.Container.ARRAY);
    for (Kernel k : GoldenTest.kernels()) {
      FocalLoss loss = s.build(k);
      Scenario.Result viaContainer = s.run(loss);
      Scenario.Result viaArray = asArray.run(loss);
      Scenario.assertSameBits(viaArray.loss, viaContainer.loss, s + " " + k + " loss");
      for (int i = 0; i < viaArray.grad.length; i++) {
        Scenario.assertSameBits(viaArray.grad[i], viaContainer.grad[i],
            s + " " + k + " gradient[" + i + "]");
      }
      for (int i = 0; i < viaArray.perSample.length; i++) {
        Scenario.assertSameBits(viaArray.perSample[i], viaContainer.perSample[i],
            s + " " + k + " per-sample[" + i + "]");
      }
    }
  }

  @Provide
  Arbitrary<Scenario> oneVsAllFromLogits() {
    return scenarios().map(s -> new Scenario(RefLoss.Form.ONE_VS_ALL_LOGITS,
        s.indices, s.n, s.classes, s.gamma, s.reduction.ordinal(), s.seed, s.container));
  }

  /**
   * The one-vs-all form from logits against the reference: the loss, the per-sample losses and
   * VECTOR vs SCALAR. Both kernels compute 1 - p of a row's largest class from the logits (the
   * others' exponentials over the sum), so -ln(1 - p) stays exact where p is near 1 (reproducer:
   * EdgeCaseTest#oneVsAllFromLogitsNearOneIsExact).
   */
  @Property(tries = 300)
  void oneVsAllFromLogitsMatchesReference(@ForAll("oneVsAllFromLogits") Scenario s) {
    checkFiniteAndCorrect(s, true);
  }

  /**
   * Rows of 300 classes at 128 bits (the CI pass at -XX:MaxVectorSize=16): a chunk is 128 vectors
   * there, and a plain float sum per lane was 2.06e-6 and 2.23e-6 off the per-sample reference
   * (limit 2e-6) until the vector loss passes got Kahan's compensation.
   */
  /**
   * A softmax row whose target is the largest logit: ln p_t = -ln(1 + others), and rounding 1 +
   * others to float was 2.15e-6 of the loss 0.023 (limit 2e-6) until the vector kernel corrected
   * ln(sum) for that rounding.
   */
  @Example
  void softmaxTargetNearOneKeepsPrecision() {
    checkFiniteAndCorrect(new Scenario(RefLoss.Form.SOFTMAX, true, 1, 36, 0f, 0,
        -1320232150685879114L, Scenario.Container.ARRAY), true);
  }

  @Example
  void longRowsAt128BitsSumWithinTolerance() {
    checkFiniteAndCorrect(new Scenario(RefLoss.Form.ONE_VS_ALL_LOGITS, true, 9, 300, 2.5f, 0, -2,
        Scenario.Container.ARRAY), true);
    checkFiniteAndCorrect(new Scenario(RefLoss.Form.ONE_VS_ALL_LOGITS, true, 64, 300, 5f, 0, -2,
        Scenario.Container.ARRAY), true);
  }

  /**
   * Finite differences of the from-logits form. The reference computes 1 - p of a row's largest
   * class as the others' sum over the sum, and its quotients term by term (RefLoss): computed as
   * 1 - exp(x - lse), 1 - p carried an ulp of lse (1.4e-14 at 96) divided by 1 - p, and the
   * quotient was 2.4e-5 off the true derivative (reproducer below).
   */
  @Property(tries = 300)
  void oneVsAllFromLogitsFiniteDifferences(@ForAll("oneVsAllFromLogits") Scenario s) {
    checkFiniteDifferences(s);
  }

  /**
   * Seed 138200 (N=2, C=24, gamma 0), row 1: 1 - p_22 = 4.228e-7. d/dz_19 of the row loss is
   * -0.99999915432318873 (mpmath at 50 digits, from the float logits: p_19 - p_19 p_22 / (1 -
   * p_22), agreeing with mpmath.diff of the clipped loss); the kernels gave -0.99999917, the
   * quotient -0.99997483 (2.43e-5 relative, limit 2e-5) until the reference computed 1 - p_22
   * without cancellation.
   */
  @Example
  void oneVsAllFromLogitsTopNearOneFiniteDifferences() {
    Scenario s = new Scenario(RefLoss.Form.ONE_VS_ALL_LOGITS, false, 2, 24, 0f, 0, 138200L,
        Scenario.Container.ARRAY);
    double d = s.reference().derivative(s.inputRow(1), s.targetRow(1), 19);
    // the terms round at 1.8e-15 (an ulp of -ln(1 - p_22) = 14.7), over a step of 1e-3
    checkClose(s + " d/dz_19 of row 1 vs mpmath", -0.99999915432318873, d, 1e-11);
    checkFiniteDifferences(s);
  }

  /**
   * Two classes of nearly equal probability: grad_j = p_j (dl/dp_j - sum_c p_c dl/dp_c) cancels.
   * The scalar kernel (which the vector kernel also uses to redo such rows in double) rounded
   * dl/dp to float before the subtraction and was 5.6e-5 of the largest gradient off (limit
   * 2e-5); it keeps dl/dp in double now (at most 0.003 of the limit over 4,000 random such rows).
   */
  @Example
  void oneVsAllFromLogitsNearlyBalancedRow() {
    checkRowAgainstFiniteDifferences(new float[] {-1.2497952f, -1.2498035f},
        new float[] {0.6542916f, 1.0f}, new float[] {1.0748194f, 0.3320223f}, 1f, 0x1p-24f);
  }

  /**
   * Rows whose every target is 0 and whose logits are close (N(0, 0.01)): every dl/dp_j is near
   * their mean, and the vector kernel's float dl/dp put such gradients up to 3.8x the tolerance
   * off (300 rows of 16..115 classes); it now redoes such rows in double
   * (OneVsAllPasses.JACOBIAN_CONDITION_LIMIT). 64 classes: a vector row at every CI width.
   */
  @Example
  void oneVsAllFromLogitsAllNegativeCloseLogits() {
    SplittableRandom rnd = new SplittableRandom(VECTOR_REPRODUCER_SEED);
    for (int i = 0; i < 20; i++) {
      float[] x = new float[64];
      for (int c = 0; c < x.length; c++) {
        x[c] = (float) (0.01 * rnd.nextGaussian());
      }
      checkRowAgainstFiniteDifferences(x, new float[x.length], null, 0f, 1e-7f);
    }
  }

  static final long VECTOR_REPRODUCER_SEED = 5;

  /**
   * {@link #oneVsAllFromLogitsAllNegativeCloseLogits} over 48 rows in one call, every other row
   * with close logits (N(0, 0.01)) and the rows between with spread ones (N(0, 2)): the vector
   * kernel computes them in class-major groups of L rows, where the close rows cross the Jacobian's
   * error bound and are redone in double one by one (24 of the 48, counted in an instrumented
   * build) and the others keep the groups' float result; every row's gradient against the
   * reference's quotients.
   */
  @Example
  void oneVsAllFromLogitsAllNegativeCloseLogitsInGroups() {
    SplittableRandom rnd = new SplittableRandom(VECTOR_REPRODUCER_SEED);
    int rows = 48;
    int classes = 64;
    float[] x = new float[rows * classes];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (((i / classes) % 2 == 0 ? 0.01 : 2.0) * rnd.nextGaussian());
    }
    float[] y = new float[x.length];
    RefLoss ref = new RefLoss(RefLoss.Form.ONE_VS_ALL_LOGITS, 0f, null, -1, null, 1e-7f);
    for (Kernel k : GoldenTest.kernels()) {
      FocalLoss loss = FocalLoss.oneVsAll().gamma(0f).epsilon(1e-7f).fromLogits(true)
          .reduction(Reduction.SUM).kernel(k).build();
      float[] g = new float[x.length];
      loss.forwardBackward(x, y, classes, g);
      for (int r = 0; r < rows; r++) {
        double[] xr = toDouble(java.util.Arrays.copyOfRange(x, r * classes, (r + 1) * classes));
        double[] yr = new double[classes];
        double[] fd = new double[classes];
        for (int c = 0; c < classes; c++) {
          fd[c] = ref.derivative(xr, yr, c);
        }
        assertClose(k + " gradient vs finite differences (from logits)",
            k + " gradient vs finite differences, row " + r, fd,
            java.util.Arrays.copyOfRange(g, r * classes, (r + 1) * classes), FD_TOLERANCE);
      }
    }
  }

  /** One row of the from-logits form, SUM, on every kernel against the reference's quotients. */
  static void checkRowAgainstFiniteDifferences(float[] x, float[] y, float[] alpha, float gamma,
      float epsilon) {
    int classes = x.length;
    RefLoss ref = new RefLoss(RefLoss.Form.ONE_VS_ALL_LOGITS, gamma,
        alpha == null ? null : toDouble(alpha), -1, null, epsilon);
    double[] fd = new double[classes];
    for (int c = 0; c < classes; c++) {
      fd[c] = ref.derivative(toDouble(x), toDouble(y), c);
    }
    for (Kernel k : GoldenTest.kernels()) {
      FocalLoss.OneVsAllBuilder b = FocalLoss.oneVsAll().gamma(gamma).epsilon(epsilon)
          .fromLogits(true);
      if (alpha != null) {
        b.alpha(alpha);
      }
      FocalLoss loss = b.reduction(Reduction.SUM).kernel(k).build();
      float[] g = new float[classes];
      loss.forwardBackward(x, y, classes, g);
      assertClose(k + " gradient vs finite differences (from logits)",
          k + " gradient vs finite differences, x=" + java.util.Arrays.toString(x), fd, g,
          FD_TOLERANCE);
    }
  }

  /**
   * The from-logits form: finite outputs, the reductions and the containers (the reference and
   * VECTOR vs SCALAR are in oneVsAllFromLogitsMatchesReference).
   */
  @Property(tries = 150)
  void oneVsAllFromLogitsReductionsAndContainers(@ForAll("oneVsAllFromLogits") Scenario s) {
    checkFiniteAndCorrect(s, false);
    reductionsAgree(s);
    everyContainerGivesTheSameBits(s);
  }

  @AfterContainer
  static void report() {
    System.out.println("PropertyTest: " + SCENARIOS.get() + " scenarios run on "
        + GoldenTest.kernels() + "; finite-difference coordinates " + FD_COORDINATES.get()
        + " (skipped at a clip kink: " + FD_SKIPPED.get() + "); largest error / tolerance: "
        + WORST);
  }

  // ------------------------------------------------------------------ helpers

  static void assertFinite(Scenario s, Kernel k, Scenario.Result r) {
    if (!Float.isFinite(r.loss)) {
      throw new AssertionError(s + " " + k + ": loss " + r.loss);
    }
    for (int i = 0; i < r.grad.length; i++) {
      if (!Float.isFinite(r.grad[i])) {
        throw new AssertionError(s + " " + k + ": gradient[" + i + "] = " + r.grad[i]);
      }
    }
    for (int i = 0; i < r.perSample.length; i++) {
      if (!Float.isFinite(r.perSample[i])) {
        throw new AssertionError(s + " " + k + ": per-sample[" + i + "] = " + r.perSample[i]);
      }
    }
  }

  static void checkClose(String what, double expected, double actual, double tol) {
    if (!(Math.abs(expected - actual) <= tol)) {
      throw new AssertionError(what + ": expected " + expected + " got " + actual
          + " (tolerance " + tol + ")");
    }
  }

  static double sum(double[] a) {
    double s = 0;
    for (double v : a) {
      s += v;
    }
    return s;
  }

  static double[] toDouble(float[] a) {
    return Scenario.toDouble(a);
  }
}
