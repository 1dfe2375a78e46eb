package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

/**
 * A fixed sample of {@link DifferentialFuzz}'s random configurations (seeds 1 to 200, small
 * shapes: every form, target kind and option, VECTOR against SCALAR and both against the float64
 * reference, reductions, parallelism bit for bit, gradientHessian, failed calls leaving the outputs
 * untouched), in every CI pass that has the vector kernel: no failure. Longer runs are by hand (its
 * javadoc).
 */
class DifferentialFuzzTest {

  @Test
  void aFixedSampleOfRandomConfigurationsHasNoFailure() {
    assumeTrue(FocalLoss.platform().vectorAvailable(), "the fuzzer compares VECTOR with SCALAR");
    int done = DifferentialFuzz.runCases(1, 200, "small", 600);
    assertEquals(200, done, "cases run");
    assertEquals(0, DifferentialFuzz.failures,
        "failures (their FAIL lines are in the test output): " + DifferentialFuzz.FAILKEYS);
  }
}
