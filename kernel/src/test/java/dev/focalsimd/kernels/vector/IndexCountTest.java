package dev.focalsimd.kernels.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.focalsimd.kernels.FocalKernel;
import dev.focalsimd.kernels.ScalarKernel;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The vector kernel's count of class indices (a vector of indices at a time, then the scalar
 * kernel's loop for the rows after the last whole vector) against the scalar kernel's loop: the
 * same counted and positive rows, and the same first bad row, for every row count around the lane
 * counts and past the 256-row calls of its pass, every kind of bad index at every position class,
 * with and without an ignore index, and the sigmoid's background index C.
 */
class IndexCountTest {

  private static FocalKernel vector;

  @BeforeAll
  static void vectorModule() {
    assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
        "jdk.incubator.vector is not in the boot layer");
    vector = VectorKernel.create();
  }

  /** The ignore index of most cases; {@link #ignoreIndexInsideTheRange} moves it. */
  private static final int IGNORE = -100;

  /** Valid indices: classes [0, upper], about a tenth of them the ignore index where ignorable. */
  private static int[] valid(SplittableRandom r, int off, int rows, int upper, boolean ignorable) {
    int[] t = new int[off + rows + 3];
    java.util.Arrays.fill(t, 0, off, Integer.MIN_VALUE); // outside the range: never read
    java.util.Arrays.fill(t, off + rows, t.length, Integer.MAX_VALUE);
    for (int i = off; i < off + rows; i++) {
      t[i] = ignorable && r.nextInt(10) == 0 ? IGNORE : r.nextInt(upper + 1);
    }
    return t;
  }

  private static void same(int[] t, int off, int rows, int classes, int upper,
      boolean ignorable, String what) {
    long expected = ScalarKernel.INSTANCE.countIndices(t, off, rows, classes, upper, IGNORE,
        ignorable);
    long actual = vector.countIndices(t, off, rows, classes, upper, IGNORE, ignorable);
    assertEquals(expected, actual, () -> what + ": rows " + rows + ", classes " + classes
        + ", upper " + upper + ", ignorable " + ignorable + ", offset " + off);
  }

  @Test
  void validIndicesAreCountedAsByTheScalarKernel() {
    SplittableRandom r = new SplittableRandom(41);
    // 64 and below: the vector pass; 1000: the scalar loop (VectorKernel.INDEX_COUNT_CLASSES)
    for (int classes : new int[] {1, 3, 16, 64, 1000}) {
      for (int upper : new int[] {classes - 1, classes}) { // softmax and one-vs-all; sigmoid
        for (boolean ignorable : new boolean[] {false, true}) {
          for (int rows = 0; rows <= 70; rows++) {
            int off = r.nextInt(5);
            same(valid(r, off, rows, upper, ignorable), off, rows, classes, upper, ignorable,
                "valid");
          }
          int rows = 2 * 16384 + 37; // many calls of the pass, a partial vector after
          same(valid(r, 1, rows, upper, ignorable), 1, rows, classes, upper, ignorable, "valid");
        }
      }
    }
  }

  /**
   * An ignore index that is itself a class (inside [0, C)), or the sigmoid's background index C:
   * such rows count as ignored, not as classes, on both kernels.
   */
  @Test
  void ignoreIndexInsideTheRange() {
    SplittableRandom r = new SplittableRandom(43);
    int classes = 7;
    for (int ignore : new int[] {0, 3, classes - 1, classes}) {
      for (int upper : new int[] {classes - 1, classes}) {
        for (int rows : new int[] {5, 16, 33, 100, 2 * 16384 + 9}) {
          int[] t = new int[rows];
          for (int i = 0; i < rows; i++) {
            t[i] = r.nextInt(upper + 1);
          }
          t[rows - 1] = ignore;
          for (boolean ignorable : new boolean[] {false, true}) {
            long expected = ScalarKernel.INSTANCE.countIndices(t, 0, rows, classes, upper,
                ignore, ignorable);
            long actual = vector.countIndices(t, 0, rows, classes, upper, ignore, ignorable);
            assertEquals(expected, actual, () -> "ignore " + ignore + ", upper " + upper
                + ", rows " + rows + ", ignorable " + ignorable);
          }
        }
      }
    }
  }

  @Test
  void theFirstBadIndexIsFoundAsByTheScalarKernel() {
    SplittableRandom r = new SplittableRandom(42);
    int classes = 16;
    for (int upper : new int[] {classes - 1, classes}) {
      int[] badValues = {-1, upper + 1, Integer.MIN_VALUE, Integer.MAX_VALUE, IGNORE};
      for (boolean ignorable : new boolean[] {false, true}) {
        for (int rows : new int[] {1, 15, 16, 17, 31, 32, 33, 64, 65, 2 * 16384 + 5}) {
          for (int bad : badValues) {
            // first row, inside a vector, last row of a vector, the tail, the last row, a later
            // call of the pass
            for (int at : new int[] {0, 5, 15, 16, rows - 1, rows / 2, 16384 + 3}) {
              if (at >= rows) {
                continue;
              }
              int[] t = valid(r, 2, rows, upper, ignorable);
              t[2 + at] = bad;
              if (at + 7 < rows) {
                t[2 + at + 7] = -5; // a second bad row after the first
              }
              same(t, 2, rows, classes, upper, ignorable, "bad " + bad + " at row " + at);
            }
          }
        }
      }
    }
  }
}
