package dev.focalsimd.kernels.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.focalsimd.kernels.LossParams;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link LossParams#streaming} changes only how the vector kernel groups its loss sums (shorter
 * chunks), never an element's value: on one block of rows the gradient is bitwise the same with it
 * and without, and the loss agrees to a few float roundings of its size.
 */
class StreamingChunkTest {

  @BeforeAll
  static void vectorModule() {
    assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
        "jdk.incubator.vector is not in the boot layer");
  }

  /** One FocalLoss block of 80 classes, with a partial last vector at every species. */
  private static final int ROWS = 203;
  private static final int C = 80;

  @Test
  void oneVsAllGradientIsTheSameBitsAndTheLossAgrees() {
    for (float gamma : new float[] {0f, 1f, 2f, 3f, 0.5f, 2.5f}) {
      check(LossParams.Form.ONE_VS_ALL, gamma, 11);
    }
  }

  @Test
  void sigmoidGradientIsTheSameBitsAndTheLossAgrees() {
    for (float gamma : new float[] {0f, 1f, 2f, 3f, 0.5f, 2.5f}) {
      check(LossParams.Form.SIGMOID, gamma, 12);
    }
  }

  private static void check(LossParams.Form form, float gamma, long seed) {
    LossParams.Builder b = LossParams.builder(form);
    b.gamma = gamma;
    LossParams p = b.build();
    LossParams streaming = p.streaming();
    assertTrue(streaming.streaming && !p.streaming && streaming.streaming() == streaming);
    SplittableRandom rnd = new SplittableRandom(seed);
    int len = ROWS * C + 5; // 5 more rows' worth is not whole: use ROWS x C of it
    float[] x = new float[len];
    float[] y = new float[len];
    int[] t = new int[ROWS];
    for (int i = 0; i < len; i++) {
      x[i] = form == LossParams.Form.ONE_VS_ALL
          ? (float) rnd.nextDouble()
          : (float) (rnd.nextDouble() * 12 - 6);
    }
    for (int r = 0; r < ROWS; r++) {
      t[r] = rnd.nextInt(C);
      y[r * C + t[r]] = 1f;
    }
    dev.focalsimd.kernels.FocalKernel k = VectorKernel.create();
    for (boolean indices : new boolean[] {false, true}) {
      float[] g0 = new float[ROWS * C];
      float[] g1 = new float[ROWS * C];
      double l0;
      double l1;
      if (form == LossParams.Form.ONE_VS_ALL) {
        l0 = indices ? k.oneVsAll(p, x, 0, t, 0, ROWS, C, g0, 0, 0.5f, null, 0)
            : k.oneVsAll(p, x, 0, y, 0, ROWS, C, g0, 0, 0.5f, null, 0);
        l1 = indices ? k.oneVsAll(streaming, x, 0, t, 0, ROWS, C, g1, 0, 0.5f, null, 0)
            : k.oneVsAll(streaming, x, 0, y, 0, ROWS, C, g1, 0, 0.5f, null, 0);
      } else {
        l0 = indices ? k.sigmoid(p, x, 0, t, 0, ROWS, C, g0, 0, 0.5f, null, 0)
            : k.sigmoid(p, x, 0, y, 0, ROWS, C, g0, 0, 0.5f, null, 0);
        l1 = indices ? k.sigmoid(streaming, x, 0, t, 0, ROWS, C, g1, 0, 0.5f, null, 0)
            : k.sigmoid(streaming, x, 0, y, 0, ROWS, C, g1, 0, 0.5f, null, 0);
      }
      String what = form + " gamma " + gamma + (indices ? " indices" : " dense");
      for (int i = 0; i < g0.length; i++) {
        assertEquals(Float.floatToRawIntBits(g0[i]), Float.floatToRawIntBits(g1[i]),
            what + ": gradient[" + i + "] " + g0[i] + " vs " + g1[i]);
      }
      // the same float terms, summed in other groups: a few float roundings of the sum
      assertEquals(l0, l1, 1e-6 * Math.abs(l0), what + ": loss");
    }
  }
}
