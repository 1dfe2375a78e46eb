package dev.focalsimd.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Helpers of the scalar kernel, against the JDK's functions. */
class ScalarKernelTest {

  /**
   * ln(1 + rest) as Math.log(s) + TwoSum's err / s (s = 1 + rest rounded) against StrictMath.log1p,
   * within 2 ulps of the latter, for rest from 1e-300 (far below an ulp of 1, where ln(s) alone is
   * 0) to 1e4 (a softmax row's others' sum is at most C - 1), log-uniform, and at 0.
   */
  @Test
  void log1pSumMatchesLog1p() {
    assertEquals(0.0, ScalarKernel.log1pSum(0.0), 0.0);
    SplittableRandom rnd = new SplittableRandom(14);
    double worst = 0;
    for (int i = 0; i < 200_000; i++) {
      double rest = Math.pow(10, -300 + rnd.nextDouble() * 304);
      double expected = StrictMath.log1p(rest);
      double ulps = Math.abs(ScalarKernel.log1pSum(rest) - expected) / Math.ulp(expected);
      worst = Math.max(worst, ulps);
      assertEquals(expected, ScalarKernel.log1pSum(rest), 2 * Math.ulp(expected), "rest " + rest);
    }
    System.out.printf("ScalarKernel.log1pSum: worst %.2f ulp of StrictMath.log1p%n", worst);
  }
}
