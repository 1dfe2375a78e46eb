package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The value checks find a bad value wherever it is: a NaN or an infinite input, or a dense target
 * outside [0, 1], at every position of batches whose lengths cover every part of the vector
 * kernel's scan loops at every width (eight vectors per iteration from JDK 25 on, four or two
 * before, one at a time, the scalar tail) and the check blocks of 16384 elements (a bad value in
 * the first block, scanned last, and in the last one). The exception names the value's index, and
 * the gradient is left as it was.
 */
class ScanPositionTest {

  /** Lengths up to 300 (every tail of up to eight 32-lane vectors), and around a check block. */
  static int[] lengths() {
    List<Integer> lens = new ArrayList<>();
    for (int len = 1; len <= 300; len++) {
      lens.add(len);
    }
    for (int len : new int[] {16383, 16384, 16385, 33000}) {
      lens.add(len);
    }
    return lens.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Every position for lengths up to 300; for the long ones, positions near each block edge. */
  static int[] positions(int len) {
    List<Integer> pos = new ArrayList<>();
    if (len <= 300) {
      for (int p = 0; p < len; p++) {
        pos.add(p);
      }
    } else {
      for (int p : new int[] {0, 1, 127, 128, 16383, 16384, 16385, len - 2, len - 1}) {
        if (p < len && !pos.contains(p)) {
          pos.add(p);
        }
      }
    }
    return pos.stream().mapToInt(Integer::intValue).toArray();
  }

  @TestFactory
  Stream<DynamicTest> badValueAtEveryPosition() {
    List<DynamicTest> tests = new ArrayList<>();
    for (Kernel kernel : GoldenTest.kernels()) {
      tests.add(DynamicTest.dynamicTest(kernel + " sigmoid, dense targets", () -> sweep(kernel)));
    }
    return tests.stream();
  }

  private static void sweep(Kernel kernel) {
    FocalLoss loss = FocalLoss.sigmoid().kernel(kernel).build();
    float[] badInputs = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
    float[] badTargets = {Float.NaN, 1.5f, -0.25f, Float.POSITIVE_INFINITY};
    int k = 0;
    for (int len : lengths()) {
      float[] x = new float[len];
      float[] y = new float[len];
      for (int i = 0; i < len; i++) {
        x[i] = (i % 7) * 0.5f - 1.5f;
        y[i] = i % 3 == 0 ? 1f : 0f;
      }
      float[] grad = new float[len];
      java.util.Arrays.fill(grad, 7f);
      float[] before = grad.clone();
      for (int p : positions(len)) {
        float keepX = x[p];
        x[p] = badInputs[k++ % badInputs.length];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> loss.forwardBackward(x, y, len, grad), "input bad at " + p + " of " + len);
        assertTrue(e.getMessage().startsWith("input[" + p + "] = "), e.getMessage());
        x[p] = keepX;
        float keepY = y[p];
        y[p] = badTargets[k++ % badTargets.length];
        e = assertThrows(IllegalArgumentException.class,
            () -> loss.forwardBackward(x, y, len, grad), "target bad at " + p + " of " + len);
        assertTrue(e.getMessage().startsWith("targets[" + p + "] = "), e.getMessage());
        y[p] = keepY;
        assertArrayEquals(before, grad, "gradient written at " + p + " of " + len);
      }
    }
  }
}
