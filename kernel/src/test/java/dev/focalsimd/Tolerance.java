package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The comparison of the golden README (../shared/golden/README.md, vendored in testdata/golden):
 * the largest absolute difference divided by max(largest |expected|, 1e-4), and no NaN or
 * infinity anywhere.
 */
public final class Tolerance {
  /** For losses and per-sample losses. */
  public static final double LOSS = 2e-6;
  /** For gradients. */
  public static final double GRAD = 2e-5;

  private Tolerance() {}

  public static double relativeError(double[] expected, float[] actual) {
    double maxDiff = 0;
    double maxExp = 0;
    for (int i = 0; i < expected.length; i++) {
      if (!Float.isFinite(actual[i])) {
        return Double.POSITIVE_INFINITY;
      }
      maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
      maxExp = Math.max(maxExp, Math.abs(expected[i]));
    }
    return maxDiff / Math.max(maxExp, 1e-4);
  }

  public static void assertClose(String what, double[] expected, float[] actual, double tol) {
    if (expected.length != actual.length) {
      fail(what + ": length " + actual.length + ", expected " + expected.length);
    }
    double err = relativeError(expected, actual);
    assertTrue(err <= tol, () -> what + ": relative error " + err + " > " + tol + "; worst at "
        + worst(expected, actual));
  }

  private static String worst(double[] e, float[] a) {
    int w = 0;
    double d = -1;
    for (int i = 0; i < e.length; i++) {
      double di = Float.isFinite(a[i]) ? Math.abs(e[i] - a[i]) : Double.POSITIVE_INFINITY;
      if (di > d) {
        d = di;
        w = i;
      }
    }
    return "[" + w + "] expected " + e[w] + " got " + a[w];
  }
}
