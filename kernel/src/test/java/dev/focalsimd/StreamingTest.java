package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Batches of {@link FocalLoss#STREAMING_ELEMENTS} or more, where the vector kernel runs one-vs-all
 * on probabilities and the sigmoid over shorter chunks ({@code LossParams.streaming}): the property
 * and golden tests' batches are all below it. Vector and scalar agree within the golden
 * tolerances, and the bits depend neither on the container nor on the parallelism.
 */
class StreamingTest {

  /** Above both thresholds: streaming, and split across threads with a parallelism above 1. */
  private static final int C = 80;
  private static final int N = FocalLoss.PARALLEL_THRESHOLD / C + 37;

  private static final RefLoss.Form[] FORMS = {RefLoss.Form.ONE_VS_ALL, RefLoss.Form.SIGMOID};

  @Test
  void theBatchIsAboveBothThresholds() {
    assertTrue((long) N * C >= FocalLoss.STREAMING_ELEMENTS);
    assertTrue((long) N * C >= FocalLoss.PARALLEL_THRESHOLD);
  }

  @Test
  void vectorAgreesWithScalar() {
    for (RefLoss.Form form : FORMS) {
      for (boolean indices : new boolean[] {false, true}) {
        for (float gamma : new float[] {0f, 2f, 3f, 2.5f}) {
          Scenario s = new Scenario(form, indices, N, C, gamma, 1, 777L + (long) (gamma * 10),
              Scenario.Container.ARRAY);
          assertEveryKernelAgreesWithScalar(s);
        }
      }
    }
  }

  /**
   * A streaming batch of one segment whose length is no multiple of the vector kernel's pieces:
   * its last chunk is shorter than the others and its last vector overlaps that chunk, the two
   * pieces where one-vs-all's pipelined passes (each gradient pass also running the next piece's
   * first pass) fall back to the passes one after the other.
   */
  @Test
  void aBatchOfNoRoundLengthAgreesWithScalar() {
    int classes = 33;
    int n = FocalLoss.STREAMING_ELEMENTS / classes + 5;
    assertTrue((long) n * classes >= FocalLoss.STREAMING_ELEMENTS);
    assertTrue((long) n * classes < FocalLoss.PARALLEL_THRESHOLD); // one segment
    assertTrue(n * classes % 256 > 64 && n * classes % 64 != 0); // short chunk and last vector
    for (RefLoss.Form form : FORMS) {
      for (boolean indices : new boolean[] {false, true}) {
        for (float gamma : new float[] {0f, 2f, 3f}) {
          Scenario s = new Scenario(form, indices, n, classes, gamma, 1, 91L + (long) gamma,
              Scenario.Container.ARRAY);
          assertEveryKernelAgreesWithScalar(s);
        }
      }
    }
  }

  /**
   * Every kernel's loss, per-sample losses and gradient on s within the golden tolerances of the
   * scalar kernel's.
   */
  private static void assertEveryKernelAgreesWithScalar(Scenario s) {
    Scenario.Result scalar = s.run(s.build(Kernel.SCALAR));
    for (Kernel k : GoldenTest.kernels()) {
      Scenario.Result r = s.run(s.build(k));
      PropertyTest.assertFinite(s, k, r);
      Tolerance.assertClose(s + " " + k + " loss", new double[] {scalar.loss},
          new float[] {r.loss}, Tolerance.LOSS);
      Tolerance.assertClose(s + " " + k + " per-sample", Scenario.toDouble(scalar.perSample),
          r.perSample, Tolerance.LOSS);
      Tolerance.assertClose(s + " " + k + " gradient", Scenario.toDouble(scalar.grad), r.grad,
          Tolerance.GRAD);
    }
  }

  @Test
  void theBitsDependNeitherOnTheContainerNorOnTheParallelism() {
    Scenario.Container[] others = {Scenario.Container.HEAP_SLICE,
        Scenario.Container.DIRECT_NATIVE};
    for (RefLoss.Form form : FORMS) {
      for (boolean indices : new boolean[] {false, true}) {
        Scenario s = new Scenario(form, indices, N, C, 2f, 1, 4243, Scenario.Container.ARRAY);
        for (Kernel k : GoldenTest.kernels()) {
          Scenario.Result one = s.run(s.build(k, s.reduction, 1));
          for (int p : new int[] {2, 8}) {
            ConcurrencyTest.assertSameBits(one, s.run(s.build(k, s.reduction, p)),
                k + " parallelism " + p + " vs 1, " + s);
          }
          for (Scenario.Container container : others) {
            Scenario viaBuffer = new Scenario(form, indices, N, C, 2f, 1, 4243, container);
            ConcurrencyTest.assertSameBits(one, viaBuffer.run(viaBuffer.build(k)),
                k + " " + container + " vs ARRAY, " + s);
          }
        }
      }
    }
  }
}
