package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@link FocalLoss#gradientHessian}: against central finite differences of a double-precision
 * loss written here (independent of the kernels), against the logistic objective at gamma 0,
 * against the golden gradients and forwardBackward, at extreme logits, and its validation.
 */
class HessianTest {

  /** The gammas of the property tests. */
  static final float[] GAMMAS = {0f, 0.25f, 0.5f, 1f, 2f, 2.5f, 3f, 5f};

  /** Tolerance of the finite-difference comparison (golden-style relative error per array). */
  static final double FD_TOL = 1e-5;

  // ------------------------------------------------------------ reference loss in double

  static double softplus(double v) {
    return Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
  }

  /** torchvision sigmoid_focal_loss of one element, in double. */
  static double sigmoidLoss(double x, double y, double gamma, double alpha, double classWeight) {
    double p = 1.0 / (1.0 + Math.exp(-x));
    double omp = 1.0 / (1.0 + Math.exp(x));
    double ce = y * softplus(-x) + (1 - y) * softplus(x);
    double q = y * omp + (1 - y) * p;
    double w = classWeight * (alpha >= 0 ? alpha * y + (1 - alpha) * (1 - y) : 1.0);
    return w * ce * Math.pow(q, gamma);
  }

  /** Softmax focal loss of one row with class index t, in double. */
  static double softmaxLoss(double[] z, int t, double gamma, double alphaT) {
    double m = Double.NEGATIVE_INFINITY;
    for (double v : z) {
      m = Math.max(m, v);
    }
    double s = 0;
    for (double v : z) {
      s += Math.exp(v - m);
    }
    double lse = m + Math.log(s);
    double q = 0;
    for (int j = 0; j < z.length; j++) {
      if (j != t) {
        q += Math.exp(z[j] - lse);
      }
    }
    return -alphaT * Math.pow(q, gamma) * (z[t] - lse);
  }

  /** Richardson-extrapolated central first and second differences of f at x. */
  static double[] derivatives(DoubleUnaryOperator f, double x) {
    double h = 1e-2;
    double f0 = f.applyAsDouble(x);
    double fp1 = f.applyAsDouble(x + h);
    double fm1 = f.applyAsDouble(x - h);
    double fp2 = f.applyAsDouble(x + h / 2);
    double fm2 = f.applyAsDouble(x - h / 2);
    double d1h = (fp1 - fm1) / (2 * h);
    double d1h2 = (fp2 - fm2) / h;
    double d2h = (fp1 - 2 * f0 + fm1) / (h * h);
    double d2h2 = (fp2 - 2 * f0 + fm2) / (h * h / 4);
    return new double[] {(4 * d1h2 - d1h) / 3, (4 * d2h2 - d2h) / 3};
  }

  static List<Kernel> kernels() {
    return GoldenTest.kernels();
  }

  // ------------------------------------------------------------ finite differences

  @Test
  void sigmoidMatchesFiniteDifferencesForEveryGamma() {
    Random rnd = new Random(6);
    int n = 200;
    int c = 3;
    float[] weights = {1f, 0.5f, 2f};
    double worstG = 0;
    double worstH = 0;
    for (Kernel k : kernels()) {
      for (float gamma : GAMMAS) {
        for (float alpha : new float[] {-1f, 0.25f}) {
          for (boolean soft : new boolean[] {false, true}) {
            float[] x = new float[n * c];
            float[] y = new float[n * c];
            for (int i = 0; i < x.length; i++) {
              x[i] = (float) (rnd.nextDouble() * 16 - 8);
              y[i] = soft ? rnd.nextFloat() : (rnd.nextBoolean() ? 1f : 0f);
            }
            FocalLoss loss = FocalLoss.sigmoid().gamma(gamma).alpha(alpha).classWeights(weights)
                .hessianFloor(Float.NEGATIVE_INFINITY).kernel(k).build();
            float[] g = new float[x.length];
            float[] h = new float[x.length];
            loss.gradientHessian(x, y, c, g, h);
            double[] eg = new double[x.length];
            double[] eh = new double[x.length];
            for (int i = 0; i < x.length; i++) {
              double yi = y[i];
              double wc = weights[i % c];
              double[] d = derivatives(v -> sigmoidLoss(v, yi, gamma, alpha, wc), x[i]);
              eg[i] = d[0];
              eh[i] = d[1];
            }
            String what = k + " sigmoid gamma " + gamma + " alpha " + alpha + (soft ? " soft" : "");
            double errG = Tolerance.relativeError(eg, g);
            double errH = Tolerance.relativeError(eh, h);
            worstG = Math.max(worstG, errG);
            worstH = Math.max(worstH, errH);
            Tolerance.assertClose(what + " gradient", eg, g, FD_TOL);
            Tolerance.assertClose(what + " hessian", eh, h, FD_TOL);
          }
        }
      }
    }
    System.out.printf("sigmoid finite differences, gammas %s: max relative error gradient %.3e,"
        + " Hessian %.3e%n", Arrays.toString(GAMMAS), worstG, worstH);
  }

  @Test
  void softmaxMatchesFiniteDifferencesForEveryGamma() {
    Random rnd = new Random(66);
    int n = 100;
    int c = 5;
    float[] alpha = {0.5f, 1f, 2f, 0.25f, 1.5f};
    double worstG = 0;
    double worstH = 0;
    for (Kernel k : kernels()) {
      for (float gamma : GAMMAS) {
        for (boolean withAlpha : new boolean[] {false, true}) {
          float[] x = new float[n * c];
          int[] t = new int[n];
          for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextDouble() * 12 - 6);
          }
          for (int r = 0; r < n; r++) {
            t[r] = rnd.nextInt(c);
          }
          FocalLoss.SoftmaxBuilder b = FocalLoss.softmax().gamma(gamma)
              .hessianFloor(Float.NEGATIVE_INFINITY).kernel(k);
          if (withAlpha) {
            b.alpha(alpha);
          }
          FocalLoss loss = b.build();
          float[] g = new float[x.length];
          float[] h = new float[x.length];
          loss.gradientHessian(x, t, c, g, h);
          double[] eg = new double[x.length];
          double[] eh = new double[x.length];
          for (int r = 0; r < n; r++) {
            int tr = t[r];
            double at = withAlpha ? alpha[tr] : 1.0;
            for (int j = 0; j < c; j++) {
              double[] z = new double[c];
              for (int i = 0; i < c; i++) {
                z[i] = x[r * c + i];
              }
              int jj = j;
              double[] d = derivatives(v -> {
                double[] zz = z.clone();
                zz[jj] = v;
                return softmaxLoss(zz, tr, gamma, at);
              }, z[j]);
              eg[r * c + j] = d[0];
              eh[r * c + j] = d[1];
            }
          }
          String what = k + " softmax gamma " + gamma + (withAlpha ? " alpha" : "");
          double errG = Tolerance.relativeError(eg, g);
          double errH = Tolerance.relativeError(eh, h);
          worstG = Math.max(worstG, errG);
          worstH = Math.max(worstH, errH);
          Tolerance.assertClose(what + " gradient", eg, g, FD_TOL);
          Tolerance.assertClose(what + " hessian", eh, h, FD_TOL);
        }
      }
    }
    System.out.printf("softmax finite differences, gammas %s: max relative error gradient %.3e,"
        + " Hessian %.3e%n", Arrays.toString(GAMMAS), worstG, worstH);
  }

  /**
   * Softmax rows of many classes whose logits are all equal but the target's (a boosting round's
   * untouched margins): the vector kernel summed the other classes' exponentials without
   * compensation, and its rounding errors, all of one sign here, made every Hessian element off by
   * up to 1.7e-4 of the largest at 2048 classes (found by an adversarial test session). Against
   * finite differences of the double loss (one row, and 16 equal rows: the vector kernel's padded
   * and grouped paths); by symmetry every class but the target has the same derivatives.
   */
  @Test
  void softmaxHessianOverManyEqualLogits() {
    for (int c : new int[] {300, 1000, 2048}) {
      for (float m : new float[] {3f, 5f}) {
        for (float gamma : new float[] {0f, 0.5f, 2f, 2.5f}) {
          double[] z = new double[c];
          z[0] = m;
          double[] d0 = derivatives(v -> {
            double[] zz = z.clone();
            zz[0] = v;
            return softmaxLoss(zz, 0, gamma, 1.0);
          }, m);
          double[] d1 = derivatives(v -> {
            double[] zz = z.clone();
            zz[1] = v;
            return softmaxLoss(zz, 0, gamma, 1.0);
          }, 0.0);
          for (int rows : new int[] {1, 16}) {
            float[] x = new float[rows * c];
            double[] eg = new double[rows * c];
            double[] eh = new double[rows * c];
            for (int r = 0; r < rows; r++) {
              x[r * c] = m;
              for (int j = 0; j < c; j++) {
                eg[r * c + j] = j == 0 ? d0[0] : d1[0];
                eh[r * c + j] = j == 0 ? d0[1] : d1[1];
              }
            }
            for (Kernel k : kernels()) {
              FocalLoss loss = FocalLoss.softmax().gamma(gamma)
                  .hessianFloor(Float.NEGATIVE_INFINITY).kernel(k).build();
              float[] g = new float[x.length];
              float[] h = new float[x.length];
              loss.gradientHessian(x, new int[rows], c, g, h);
              String what = k + " C=" + c + " m=" + m + " gamma " + gamma + " rows " + rows;
              Tolerance.assertClose(what + " gradient", eg, g, FD_TOL);
              Tolerance.assertClose(what + " hessian", eh, h, FD_TOL);
            }
          }
        }
      }
    }
  }

  /**
   * The sigmoid's Hessian for gamma so large (1e20, 1e30, Float.MAX_VALUE) that gamma (gamma - 1)
   * overflows float: the exact Hessian is w q^gamma (...) with q^gamma = 0 for q < 1, so 0; the
   * vector kernel multiplied the overflowed product by that 0 and wrote NaN (found by an
   * adversarial test session). Logits of 1 and -1, targets 1 and 0: q = 1 - p_t in (0, 1).
   */
  @Test
  void sigmoidHessianAtGammasWhoseSquareOverflowsIsZero() {
    float[] x = new float[32];
    float[] y = new float[32];
    for (int i = 0; i < 32; i++) {
      x[i] = i % 2 == 0 ? 1f : -1f;
      y[i] = i % 4 < 2 ? 1f : 0f;
    }
    for (float gamma : new float[] {1e20f, 1e30f, Float.MAX_VALUE}) {
      for (Kernel k : kernels()) {
        FocalLoss loss = FocalLoss.sigmoid().gamma(gamma).kernel(k).build();
        float[] g = new float[32];
        float[] h = new float[32];
        loss.gradientHessian(x, y, 16, g, h);
        for (int i = 0; i < 32; i++) {
          int at = i;
          assertTrue(h[i] == 0f, () -> k + " gamma " + gamma + " hessian[" + at + "] " + h[at]);
          assertTrue(g[i] == 0f, () -> k + " gamma " + gamma + " gradient[" + at + "] " + g[at]);
        }
      }
    }
  }

  // ------------------------------------------------------------ gamma 0: the logistic objective

  @Test
  void gammaZeroWithoutAlphaIsTheLogisticObjective() {
    Random rnd = new Random(7);
    int n = 4000;
    float[] x = new float[n];
    float[] y = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (rnd.nextDouble() * 40 - 20);
      y[i] = i % 3 == 0 ? rnd.nextFloat() : (rnd.nextBoolean() ? 1f : 0f);
    }
    for (Kernel k : kernels()) {
      FocalLoss loss = FocalLoss.sigmoid().gamma(0f).alpha(-1f).kernel(k).build();
      float[] g = new float[n];
      float[] h = new float[n];
      loss.gradientHessian(x, y, 1, g, h);
      double worstG = 0;
      double worstH = 0;
      double worstSoftUlps = 0;
      for (int i = 0; i < n; i++) {
        double p = 1.0 / (1.0 + Math.exp(-(double) x[i]));
        double omp = 1.0 / (1.0 + Math.exp(x[i]));
        double eg = p - y[i];
        double eh = p * omp;
        double errG = Math.abs(g[i] - eg) / Math.max(Math.abs(eg), Float.MIN_NORMAL);
        double errH = Math.abs(h[i] - eh) / Math.max(eh, Float.MIN_NORMAL);
        if (k == Kernel.VECTOR && y[i] != 0f && y[i] != 1f) {
          // The vector kernel computes p in float (exp within 1 ulp): where a soft target is
          // close to p, p - y cancels and no float p bounds the relative error; bound the
          // error in ulps of the operands, max(p, y), instead.
          worstSoftUlps = Math.max(worstSoftUlps,
              Math.abs(g[i] - eg) / Math.ulp((float) Math.max(p, y[i])));
        } else {
          worstG = Math.max(worstG, errG);
        }
        worstH = Math.max(worstH, errH);
      }
      String soft = k == Kernel.VECTOR
          ? String.format("; soft-target gradients within %.2f ulp of max(p, y)", worstSoftUlps)
          : "";
      System.out.printf("%s gamma 0, alpha off vs logistic: max relative error gradient (p - y)"
          + " %.3e, Hessian p(1 - p) %.3e%s%n", k, worstG, worstH, soft);
      // float rounding of the outputs: half an ulp is 6e-8 relative; allow a few ulps.
      assertTrue(worstG < 5e-7, "gradient vs p - y: " + worstG);
      assertTrue(worstH < 5e-7, "hessian vs p(1 - p): " + worstH);
      assertTrue(worstSoftUlps <= 4, "soft-target gradient vs p - y, ulps of max(p, y): "
          + worstSoftUlps);
    }
  }

  @Test
  void softmaxGammaZeroIsSoftmaxCrossEntropy() {
    Random rnd = new Random(8);
    int n = 500;
    int c = 7;
    float[] x = new float[n * c];
    int[] t = new int[n];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (rnd.nextGaussian() * 5);
    }
    for (int r = 0; r < n; r++) {
      t[r] = rnd.nextInt(c);
    }
    for (Kernel k : kernels()) {
      FocalLoss loss = FocalLoss.softmax().gamma(0f).kernel(k).build();
      float[] g = new float[x.length];
      float[] h = new float[x.length];
      loss.gradientHessian(x, t, c, g, h);
      for (int r = 0; r < n; r++) {
        double m = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < c; j++) {
          m = Math.max(m, x[r * c + j]);
        }
        double s = 0;
        for (int j = 0; j < c; j++) {
          s += Math.exp(x[r * c + j] - m);
        }
        for (int j = 0; j < c; j++) {
          double p = Math.exp(x[r * c + j] - m) / s;
          double eg = p - (j == t[r] ? 1 : 0);
          assertEquals(eg, g[r * c + j], 1e-6 * Math.max(Math.abs(eg), 1e-6), "grad " + r + "," + j);
          assertEquals(p * (1 - p), h[r * c + j], 1e-6 * Math.max(p * (1 - p), 1e-6),
              "hess " + r + "," + j);
        }
      }
    }
  }

  // ------------------------------------------------------------ agreement with the loss kernels

  @Test
  void sigmoidGradientEqualsForwardBackwardWithSum() {
    Random rnd = new Random(9);
    int n = 300;
    int c = 4;
    float[] x = new float[n * c];
    float[] y = new float[n * c];
    int[] t = new int[n];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (rnd.nextGaussian() * 6);
      y[i] = rnd.nextInt(4) == 0 ? rnd.nextFloat() : rnd.nextInt(2);
    }
    for (int r = 0; r < n; r++) {
      t[r] = r % 17 == 0 ? -100 : rnd.nextInt(c + 1); // c = background
    }
    for (Kernel k : kernels()) {
      for (float gamma : GAMMAS) {
        FocalLoss loss = FocalLoss.sigmoid().gamma(gamma).alpha(0.25f)
            .classWeights(1f, 2f, 0.5f, 1f).reduction(Reduction.SUM).kernel(k).build();
        float[] fb = new float[x.length];
        float[] g = new float[x.length];
        float[] h = new float[x.length];
        loss.forwardBackward(x, y, c, fb);
        loss.gradientHessian(x, y, c, g, h);
        Tolerance.assertClose(k + " sigmoid dense gamma " + gamma, toDouble(fb), g,
            Tolerance.GRAD);
        loss.forwardBackward(x, t, c, fb);
        loss.gradientHessian(x, t, c, g, h);
        Tolerance.assertClose(k + " sigmoid indices gamma " + gamma, toDouble(fb), g,
            Tolerance.GRAD);
        if (k == Kernel.SCALAR) { // the same expression in both scalar kernels: the same bits
          assertArrayEquals(fb, g, 0f, "SCALAR sigmoid indices gamma " + gamma);
          loss.forwardBackward(x, y, c, fb);
          loss.gradientHessian(x, y, c, g, h);
          assertArrayEquals(fb, g, 0f, "SCALAR sigmoid dense gamma " + gamma);
        }
      }
    }
  }

  /**
   * The sigmoid's gradient and Hessian from class indices match those from the same targets as
   * dense one-hot rows (the vector kernel runs each run of rows between ignored rows through the
   * dense passes, its one-hot targets written a chunk at a time, and the runs too short for a
   * vector gathered and run together), with exactly 0 in every ignored row; 1 to 40 classes, the
   * background index and every gamma kind.
   */
  @Test
  void sigmoidIndicesGiveTheBitsOfOneHotTargets() {
    Random rnd = new Random(12);
    for (int c : new int[] {1, 3, 4, 16, 17, 40}) {
      int n = 83;
      float[] x = new float[n * c];
      float[] y = new float[n * c];
      int[] t = new int[n];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) (rnd.nextGaussian() * 4);
      }
      for (int r = 0; r < n; r++) {
        t[r] = r % 11 == 0 || r == 1 ? -100 : rnd.nextInt(c + 1); // c = background
        if (t[r] >= 0 && t[r] < c) {
          y[r * c + t[r]] = 1f;
        }
      }
      for (Kernel k : kernels()) {
        for (float gamma : GAMMAS) {
          FocalLoss loss = FocalLoss.sigmoid().gamma(gamma).alpha(0.25f).kernel(k).build();
          float[] gd = new float[x.length];
          float[] hd = new float[x.length];
          float[] gi = new float[x.length];
          float[] hi = new float[x.length];
          loss.gradientHessian(x, y, c, gd, hd);
          loss.gradientHessian(x, t, c, gi, hi);
          double[] eg = toDouble(gd);
          double[] eh = toDouble(hd);
          for (int i = 0; i < x.length; i++) {
            if (t[i / c] == -100) {
              String at = k + " C=" + c + " gamma " + gamma + " [" + i + "]";
              assertEquals(0f, gi[i], 0f, at + " ignored row gradient");
              assertEquals(0f, hi[i], 0f, at + " ignored row hessian");
              eg[i] = 0;
              eh[i] = 0;
            }
          }
          String what = k + " sigmoid indices vs one-hot, C=" + c + " gamma " + gamma;
          Tolerance.assertClose(what + " gradient", eg, gi, Tolerance.GRAD);
          Tolerance.assertClose(what + " hessian", eh, hi, Tolerance.GRAD);
        }
      }
    }
  }

  @Test
  void softmaxGradientEqualsForwardBackwardWithSum() {
    Random rnd = new Random(10);
    int n = 300;
    int c = 6;
    float[] x = new float[n * c];
    int[] t = new int[n];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (rnd.nextGaussian() * 6);
    }
    for (int r = 0; r < n; r++) {
      t[r] = r % 13 == 0 ? 99 : rnd.nextInt(c);
    }
    for (Kernel k : kernels()) {
      for (float gamma : GAMMAS) {
        FocalLoss loss = FocalLoss.softmax().gamma(gamma).alpha(1f, 2f, 0.5f, 1f, 0.25f, 3f)
            .ignoreIndex(99).reduction(Reduction.SUM).kernel(k).build();
        float[] fb = new float[x.length];
        float[] g = new float[x.length];
        float[] h = new float[x.length];
        loss.forwardBackward(x, t, c, fb);
        loss.gradientHessian(x, t, c, g, h);
        Tolerance.assertClose(k + " softmax gamma " + gamma, toDouble(fb), g, Tolerance.GRAD);
        for (int r = 0; r < n; r++) {
          if (t[r] == 99) {
            for (int j = 0; j < c; j++) {
              assertEquals(0f, g[r * c + j], "ignored row gradient");
              assertEquals(0f, h[r * c + j], "ignored row hessian");
            }
          }
        }
      }
    }
  }

  /** The gradient half of gradientHessian against the golden gradients (scaled to SUM). */
  @TestFactory
  Stream<DynamicTest> goldenGradients() {
    List<DynamicTest> tests = new ArrayList<>();
    for (String file : GoldenCase.files()) {
      GoldenCase gc = GoldenCase.load(file);
      if (gc.loss.equals("one_vs_all") || gc.reduction.equals("positives")
          || (gc.labelSmoothing != null && gc.labelSmoothing != 0f)) {
        continue;
      }
      boolean softmax = gc.loss.equals("softmax");
      if (softmax && gc.targets == null) {
        continue;
      }
      for (Kernel k : kernels()) {
        tests.add(DynamicTest.dynamicTest(gc.name + " " + k, () -> {
          FocalLoss loss = gc.build(k);
          float[] g = new float[gc.input.length];
          float[] h = new float[gc.input.length];
          double scale;
          if (softmax) {
            loss.gradientHessian(gc.input, gc.targets, gc.classes, g, h);
            long counted = Arrays.stream(gc.targets)
                .filter(v -> gc.ignoreIndex == null ? v != -100 : v != gc.ignoreIndex).count();
            scale = gc.reduction.equals("mean") ? counted : 1.0;
          } else {
            loss.gradientHessian(gc.input, gc.targetProbs, gc.classes, g, h);
            scale = gc.reduction.equals("mean") ? (double) gc.batch * gc.classes : 1.0;
          }
          double[] expected = new double[gc.expectedGrad.length];
          for (int i = 0; i < expected.length; i++) {
            expected[i] = gc.expectedGrad[i] * scale;
          }
          Tolerance.assertClose(gc.name + " gradient", expected, g, Tolerance.GRAD);
          for (float v : h) {
            assertTrue(Float.isFinite(v) && v >= 0f, "hessian finite and >= the floor 0");
          }
        }));
      }
    }
    return tests.stream();
  }

  // ------------------------------------------------------------ extremes and the floor

  @Test
  void extremeLogitsGiveFiniteValues() {
    float[] extremes = {50f, -50f, 100f, -100f, 1e4f, -1e4f, 1e30f, -1e30f, Float.MAX_VALUE,
        -Float.MAX_VALUE, 0f, 1e-30f};
    for (Kernel k : kernels()) {
      for (float gamma : GAMMAS) {
        for (float floor : new float[] {0f, Float.NEGATIVE_INFINITY}) {
          FocalLoss sig = FocalLoss.sigmoid().gamma(gamma).hessianFloor(floor).kernel(k).build();
          for (float yv : new float[] {0f, 1f, 0.3f, 0.5f}) {
            float[] y = new float[extremes.length];
            Arrays.fill(y, yv);
            float[] g = new float[extremes.length];
            float[] h = new float[extremes.length];
            sig.gradientHessian(extremes, y, 1, g, h);
            assertAllFinite(k + " sigmoid gamma " + gamma + " y " + yv, g, h);
          }
          FocalLoss soft = FocalLoss.softmax().gamma(gamma).hessianFloor(floor).kernel(k).build();
          int c = 3;
          float[][] rows = {{50f, -50f, 0f}, {100f, -100f, 100f}, {-100f, 100f, -100f},
              {Float.MAX_VALUE, -Float.MAX_VALUE, 0f}, {1e30f, 1e30f, -1e30f}, {0f, 0f, 0f}};
          for (float[] row : rows) {
            for (int tgt = 0; tgt < c; tgt++) {
              float[] g = new float[c];
              float[] h = new float[c];
              soft.gradientHessian(row, new int[] {tgt}, c, g, h);
              assertAllFinite(k + " softmax gamma " + gamma + " " + Arrays.toString(row)
                  + " t " + tgt, g, h);
            }
          }
        }
      }
    }
  }

  private static void assertAllFinite(String what, float[] g, float[] h) {
    for (int i = 0; i < g.length; i++) {
      assertTrue(Float.isFinite(g[i]), what + ": gradient[" + i + "] = " + g[i]);
      assertTrue(Float.isFinite(h[i]), what + ": hessian[" + i + "] = " + h[i]);
    }
  }

  @Test
  void hessianFloorClampsTheNegativeCurvatureOfMisclassifiedRows() {
    // y = 1, x = -5: p_t = 0.0067, below the 0.058 where the gamma-2 Hessian turns negative.
    float[] x = {-5f, 3f};
    float[] y = {1f, 1f};
    float[] g = new float[2];
    float[] h = new float[2];
    FocalLoss.sigmoid().gamma(2f).alpha(-1f).hessianFloor(Float.NEGATIVE_INFINITY).build()
        .gradientHessian(x, y, 1, g, h);
    double[] d = derivatives(v -> sigmoidLoss(v, 1, 2, -1, 1), -5);
    assertTrue(d[1] < 0, "the exact Hessian is negative there: " + d[1]);
    assertEquals(d[1], h[0], 1e-6 * Math.abs(d[1]));
    float exactPositive = h[1];
    assertTrue(exactPositive > 0f);

    FocalLoss.sigmoid().gamma(2f).alpha(-1f).build().gradientHessian(x, y, 1, g, h);
    assertEquals(0f, h[0], "default floor 0");
    assertEquals(exactPositive, h[1], 0f, "values above the floor are unchanged");

    FocalLoss.sigmoid().gamma(2f).alpha(-1f).hessianFloor(1e-3f).build()
        .gradientHessian(x, y, 1, g, h);
    assertEquals(1e-3f, h[0]);

    // The softmax target logit with K = 2 is the sigmoid of the logit difference.
    float[] z = {0f, 5f};
    float[] gs = new float[2];
    float[] hs = new float[2];
    FocalLoss.softmax().gamma(2f).hessianFloor(Float.NEGATIVE_INFINITY).build()
        .gradientHessian(z, new int[] {0}, 2, gs, hs);
    assertEquals(d[1], hs[0], 1e-6 * Math.abs(d[1]));
    FocalLoss.softmax().gamma(2f).build().gradientHessian(z, new int[] {0}, 2, gs, hs);
    assertEquals(0f, hs[0]);

    assertThrows(IllegalArgumentException.class, () -> FocalLoss.sigmoid().hessianFloor(Float.NaN));
    assertThrows(IllegalArgumentException.class,
        () -> FocalLoss.softmax().hessianFloor(Float.POSITIVE_INFINITY));
  }

  @Test
  void parallelismGivesIdenticalResults() {
    Random rnd = new Random(11);
    int c = 4;
    int n = (FocalLoss.PARALLEL_THRESHOLD / c) * 2 + 5;
    float[] x = new float[n * c];
    int[] t = new int[n];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian() * 3;
    }
    for (int r = 0; r < n; r++) {
      t[r] = rnd.nextInt(c);
    }
    float[] g1 = new float[x.length];
    float[] h1 = new float[x.length];
    float[] g2 = new float[x.length];
    float[] h2 = new float[x.length];
    FocalLoss.softmax().gamma(2f).build().gradientHessian(x, t, c, g1, h1);
    FocalLoss.softmax().gamma(2f).parallelism(2).build().gradientHessian(x, t, c, g2, h2);
    assertArrayEquals(g1, g2);
    assertArrayEquals(h1, h2);
  }

  /**
   * With parallelism above 1 the checks run as the first phase of the parallel call: the first bad
   * logit is reported before a bad target (dense) or class index, by its index as one thread
   * reports it, and nothing is written; good input gives parallelism 1's bits for the sigmoid's
   * dense targets too.
   */
  @Test
  void parallelChecksReportTheFirstBadValueAndWriteNothing() {
    Random rnd = new Random(12);
    int c = 8;
    int n = (FocalLoss.PARALLEL_THRESHOLD / c) * 2 + 3;
    float[] x = new float[n * c];
    float[] y = new float[n * c];
    int[] t = new int[n];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian() * 3;
      y[i] = rnd.nextInt(5) == 0 ? 1f : 0f;
    }
    for (int r = 0; r < n; r++) {
      t[r] = rnd.nextInt(c);
    }
    FocalLoss sig2 = FocalLoss.sigmoid().gamma(2f).parallelism(2).build();
    FocalLoss soft2 = FocalLoss.softmax().gamma(2f).parallelism(8).build();
    float[] g = new float[x.length];
    float[] h = new float[x.length];
    Arrays.fill(g, 42f);
    Arrays.fill(h, 42f);
    float[] badX = x.clone();
    badX[x.length - 2] = Float.NaN;
    badX[x.length / 2 + 1] = Float.NEGATIVE_INFINITY;
    float[] badY = y.clone();
    badY[3] = 1.5f;
    int[] badT = t.clone();
    badT[1] = -7;
    assertMessage("logits[" + (x.length / 2 + 1) + "] = -Infinity",
        () -> sig2.gradientHessian(badX, badY, c, g, h));
    assertMessage("targets[3] = 1.5", () -> sig2.gradientHessian(x, badY, c, g, h));
    assertMessage("logits[" + (x.length / 2 + 1) + "]",
        () -> soft2.gradientHessian(badX, badT, c, g, h));
    assertMessage("targets[1] = -7", () -> soft2.gradientHessian(x, badT, c, g, h));
    for (int i = 0; i < x.length; i++) {
      assertEquals(42f, g[i], 0f);
      assertEquals(42f, h[i], 0f);
    }
    float[] g1 = new float[x.length];
    float[] h1 = new float[x.length];
    FocalLoss.sigmoid().gamma(2f).build().gradientHessian(x, y, c, g1, h1);
    sig2.gradientHessian(x, y, c, g, h);
    assertArrayEquals(g1, g);
    assertArrayEquals(h1, h);
  }

  // ------------------------------------------------------------ validation

  @Test
  void badArgumentsThrowAndWriteNothing() {
    FocalLoss sig = FocalLoss.sigmoid().build();
    FocalLoss soft = FocalLoss.softmax().build();
    float[] x = {0.5f, -1f, 2f, 0f};
    float[] y = {1f, 0f, 0f, 1f};
    int[] t = {0, 1};
    float[] g = new float[4];
    float[] h = new float[4];
    Arrays.fill(g, 42f);
    Arrays.fill(h, 42f);

    assertEquals("logits", assertThrows(NullPointerException.class,
        () -> sig.gradientHessian(null, y, 2, g, h)).getMessage());
    assertEquals("targets", assertThrows(NullPointerException.class,
        () -> sig.gradientHessian(x, (float[]) null, 2, g, h)).getMessage());
    assertEquals("gradient", assertThrows(NullPointerException.class,
        () -> soft.gradientHessian(x, t, 2, null, h)).getMessage());
    assertEquals("hessian", assertThrows(NullPointerException.class,
        () -> soft.gradientHessian(x, t, 2, g, null)).getMessage());

    assertMessage("hessian has length 3", () -> sig.gradientHessian(x, y, 2, g, new float[3]));
    assertMessage("gradient has length 5", () -> soft.gradientHessian(x, t, 2, new float[5], h));
    assertMessage("targets has length 3", () -> soft.gradientHessian(x, new int[3], 2, g, h));
    // the argument's name, not forwardBackward's "input" (an adversarial test session's find)
    assertMessage("logits.length = 4 is not a multiple of classes = 3",
        () -> sig.gradientHessian(x, y, 3, g, h));
    assertMessage("logits.length = 4 is not a multiple of classes = 3",
        () -> soft.gradientHessian(x, new int[1], 3, g, h));
    assertMessage("logits[2] = NaN", () -> sig.gradientHessian(
        new float[] {0f, 1f, Float.NaN, 0f}, y, 2, g, h));
    assertMessage("logits[3] = Infinity", () -> soft.gradientHessian(
        new float[] {0f, 1f, 0f, Float.POSITIVE_INFINITY}, t, 2, g, h));
    assertMessage("targets[1] = 1.5", () -> sig.gradientHessian(
        x, new float[] {0f, 1.5f, 0f, 0f}, 2, g, h));
    assertMessage("targets[1] = 2", () -> soft.gradientHessian(x, new int[] {0, 2}, 2, g, h));
    assertMessage("targets[0] = -1", () -> sig.gradientHessian(x, new int[] {-1, 0}, 2, g, h));
    assertMessage("distinct", () -> sig.gradientHessian(x, y, 2, g, g));
    assertMessage("distinct", () -> soft.gradientHessian(x, t, 2, x, h));
    assertMessage("alpha has 3 values", () -> FocalLoss.softmax().alpha(1f, 1f, 1f).build()
        .gradientHessian(x, t, 2, g, h));

    assertThrows(UnsupportedOperationException.class,
        () -> FocalLoss.oneVsAll().build().gradientHessian(x, t, 2, g, h));
    assertThrows(UnsupportedOperationException.class,
        () -> FocalLoss.oneVsAll().build().gradientHessian(x, y, 2, g, h));
    assertThrows(UnsupportedOperationException.class, () -> soft.gradientHessian(x, y, 2, g, h));
    assertThrows(UnsupportedOperationException.class,
        () -> FocalLoss.softmax().labelSmoothing(0.1f).build().gradientHessian(x, t, 2, g, h));

    for (int i = 0; i < 4; i++) {
      assertEquals(42f, g[i], "gradient untouched");
      assertEquals(42f, h[i], "hessian untouched");
    }
    // Sigmoid class indices: C is background, accepted.
    sig.gradientHessian(x, new int[] {2, 0}, 2, g, h);
    assertTrue(g[0] > 0 && g[1] > 0, "background row: both columns negative, gradient > 0");
  }

  private static void assertMessage(String part, org.junit.jupiter.api.function.Executable e) {
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
    assertTrue(ex.getMessage().contains(part), () -> "'" + ex.getMessage() + "' lacks '" + part
        + "'");
  }

  private static double[] toDouble(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i];
    }
    return d;
  }
}
