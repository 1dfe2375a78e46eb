package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link FocalLoss#gradientHessian} on the VECTOR kernel against the SCALAR one (the double
 * reference, ScalarHessianKernel): random logits with extremes (+-50, +-100, +-1e30,
 * +-MAX_VALUE), every gamma of the property tests, alpha on and off, row lengths 1..70 (around
 * and across the lane count), row counts below a vector, across the kernels' chunks and the
 * blocks, and both Hessian floors.
 * Gradient and Hessian must agree within the golden gradient tolerance ({@link Tolerance#GRAD}).
 */
class VectorHessianTest {

  private static final float[] FLOORS = {0f, Float.NEGATIVE_INFINITY};

  @Test
  void vectorAgreesWithScalarOnEveryForm() {
    assumeTrue(FocalLoss.platform().vectorAvailable(), "no vector kernel in this JVM");
    Random rnd = new Random(2024);
    double[] worst = new double[6]; // sigmoid dense g/h, sigmoid indices g/h, softmax g/h
    int cases = 0;
    for (int c = 1; c <= 70; c++) {
      for (float gamma : HessianTest.GAMMAS) {
        for (boolean alphaOn : new boolean[] {false, true}) {
          for (float floor : FLOORS) {
            int rows = rnd.nextInt(3) == 0 ? 100 + rnd.nextInt(600) : 1 + rnd.nextInt(60);
            float[] x = logits(rnd, rows * c);
            float[] y = new float[rows * c];
            for (int i = 0; i < y.length; i++) {
              y[i] = rnd.nextInt(4) == 0 ? rnd.nextFloat() : rnd.nextInt(2);
            }
            int[] sigT = new int[rows];
            int[] softT = new int[rows];
            for (int r = 0; r < rows; r++) {
              sigT[r] = r % 11 == 5 ? -100 : rnd.nextInt(c + 1); // c: background
              softT[r] = r % 11 == 5 ? -100 : rnd.nextInt(c);
            }
            float[] weights = new float[c];
            float[] alpha = new float[c];
            for (int j = 0; j < c; j++) {
              weights[j] = 0.5f + rnd.nextFloat();
              alpha[j] = 0.1f + rnd.nextFloat();
            }
            String what = "C " + c + " rows " + rows + " gamma " + gamma + " alpha " + alphaOn
                + " floor " + floor;

            FocalLoss[] sig = new FocalLoss[2];
            FocalLoss[] soft = new FocalLoss[2];
            Kernel[] ks = {Kernel.SCALAR, Kernel.VECTOR};
            for (int k = 0; k < 2; k++) {
              FocalLoss.SigmoidBuilder sb = FocalLoss.sigmoid().gamma(gamma)
                  .alpha(alphaOn ? 0.25f : -1f).hessianFloor(floor).kernel(ks[k]);
              if (alphaOn) {
                sb.classWeights(weights);
              }
              sig[k] = sb.build();
              FocalLoss.SoftmaxBuilder mb = FocalLoss.softmax().gamma(gamma).hessianFloor(floor)
                  .kernel(ks[k]);
              if (alphaOn) {
                mb.alpha(alpha);
              }
              soft[k] = mb.build();
            }
            float[][] g = new float[2][rows * c];
            float[][] h = new float[2][rows * c];

            for (int k = 0; k < 2; k++) {
              sig[k].gradientHessian(x, y, c, g[k], h[k]);
            }
            compare(what + " sigmoid dense", g, h, worst, 0);
            for (int k = 0; k < 2; k++) {
              sig[k].gradientHessian(x, sigT, c, g[k], h[k]);
            }
            compare(what + " sigmoid indices", g, h, worst, 2);
            for (int k = 0; k < 2; k++) {
              soft[k].gradientHessian(x, softT, c, g[k], h[k]);
            }
            compare(what + " softmax", g, h, worst, 4);
            for (int r = 0; r < rows; r++) {
              if (softT[r] == -100) {
                for (int j = 0; j < c; j++) {
                  assertEquals(0f, g[1][r * c + j], what + " ignored row gradient");
                  assertEquals(0f, h[1][r * c + j], what + " ignored row hessian");
                }
              }
            }
            cases++;
          }
        }
      }
    }
    System.out.printf("VECTOR vs SCALAR gradientHessian, %d cases x 3 forms: max relative error"
        + " sigmoid dense %.2e / %.2e, sigmoid indices %.2e / %.2e, softmax %.2e / %.2e"
        + " (gradient / Hessian)%n", cases, worst[0], worst[1], worst[2], worst[3], worst[4],
        worst[5]);
  }

  /**
   * Normal logits (sd 4) with about one in eight replaced by +-50 or +-100, and about one in 400
   * by +-1e30 or +-MAX_VALUE.
   */
  private static float[] logits(Random rnd, int n) {
    float[] x = new float[n];
    float[] extremes = {50f, -50f, 100f, -100f};
    float[] huge = {1e30f, -1e30f, Float.MAX_VALUE, -Float.MAX_VALUE};
    for (int i = 0; i < n; i++) {
      x[i] = rnd.nextInt(8) == 0 ? extremes[rnd.nextInt(4)] : (float) (rnd.nextGaussian() * 4);
      if (rnd.nextInt(400) == 0) {
        x[i] = huge[rnd.nextInt(4)];
      }
    }
    return x;
  }

  private static void compare(String what, float[][] g, float[][] h, double[] worst, int at) {
    double[] eg = toDouble(g[0]);
    double[] eh = toDouble(h[0]);
    worst[at] = Math.max(worst[at], Tolerance.relativeError(eg, g[1]));
    worst[at + 1] = Math.max(worst[at + 1], Tolerance.relativeError(eh, h[1]));
    Tolerance.assertClose(what + " gradient", eg, g[1], Tolerance.GRAD);
    Tolerance.assertClose(what + " hessian", eh, h[1], Tolerance.GRAD);
  }

  private static double[] toDouble(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i];
    }
    return d;
  }
}
