package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every row length from 1 to 70 (each tail of 8-, 16- and 32-lane loops, and of two vectors
 * unrolled) plus lengths around 128 and 256, for every form and target kind: finite outputs,
 * the double reference (losses and finite-difference gradient) and VECTOR vs SCALAR. Deterministic
 * (fixed seeds), so it complements the random shapes of {@link PropertyTest}.
 */
class LaneTailTest {

  static int[] lengths() {
    List<Integer> c = new ArrayList<>();
    for (int i = 1; i <= 70; i++) {
      c.add(i);
    }
    for (int i : new int[] {127, 128, 129, 255, 256, 257, 300}) {
      c.add(i);
    }
    return c.stream().mapToInt(Integer::intValue).toArray();
  }

  @TestFactory
  Stream<DynamicTest> everyTailLength() {
    List<DynamicTest> tests = new ArrayList<>();
    int k = 0;
    for (int c : lengths()) {
      for (RefLoss.Form form : RefLoss.Form.values()) {
        for (boolean indices : new boolean[] {false, true}) {
          int i = k++;
          float gamma = Scenario.GAMMAS[i % Scenario.GAMMAS.length];
          Scenario.Container container = i % 3 == 0 ? Scenario.Container.HEAP_AT_POSITION
              : Scenario.Container.ARRAY;
          Scenario s = new Scenario(form, indices, 1 + i % 4, c, gamma, i, 1000 + i, container);
          tests.add(DynamicTest.dynamicTest(s.toString(), () -> {
            PropertyTest.checkFiniteAndCorrect(s, true);
            PropertyTest.checkFiniteDifferences(s);
          }));
        }
      }
    }
    return tests.stream();
  }

  /**
   * Softmax with class indices, which the vector kernel computes in groups of one row per lane: row
   * by row where a row is one 16-lane vector (16 classes at 512 bits: maxima reduced across lanes,
   * sums gathered into lanes), class-major otherwise up to 24 classes (rows narrower than a vector
   * too, from 1 class), row by row past that (maxima reduced across lanes, sums gathered into
   * lanes).
   * Row counts around every group size (1 to 40 rows: partial last groups, several groups) and
   * around the 64-row blocks of the row-wise passes (63 to 65 and 129 rows: a partial last block,
   * several blocks; with 300 and 500 classes, blocks of 3 and 2 groups), class counts around 8, 16
   * and 32 lanes, around 24 (the class-major passes' limit) and past 32, each with options drawn
   * from its seed (ignore index, reduction, alpha, gamma).
   */
  @TestFactory
  Stream<DynamicTest> softmaxEveryGroupSize() {
    List<DynamicTest> tests = new ArrayList<>();
    int k = 0;
    for (int c : new int[] {1, 2, 3, 4, 7, 8, 9, 10, 15, 16, 17, 24, 25, 31, 32, 33, 47, 48, 80, 300,
        500}) {
      for (int n : new int[] {1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 40, 63, 64, 65, 129}) {
        int i = k++;
        float gamma = Scenario.GAMMAS[i % Scenario.GAMMAS.length];
        Scenario s = new Scenario(RefLoss.Form.SOFTMAX, true, n, c, gamma, i, 5000 + i,
            i % 4 == 0 ? Scenario.Container.HEAP_AT_POSITION : Scenario.Container.ARRAY);
        tests.add(DynamicTest.dynamicTest(s.toString(), () -> {
          PropertyTest.checkFiniteAndCorrect(s, true);
          PropertyTest.checkFiniteDifferences(s);
        }));
      }
    }
    return tests.stream();
  }

  /**
   * One-vs-all from logits, which the vector kernel computes in class-major groups of L rows up to
   * 64 classes (32 without gathers; the last group overlapping the one before it where the row
   * count is not a multiple of L; wider rows, and batches of fewer than L rows, row by row): row
   * counts around 8, 16 and 32 lanes, class counts around the lane counts and the limits, both
   * target kinds.
   */
  @TestFactory
  Stream<DynamicTest> oneVsAllFromLogitsEveryGroupSize() {
    List<DynamicTest> tests = new ArrayList<>();
    int k = 0;
    for (int c : new int[] {1, 2, 7, 15, 16, 17, 31, 32, 33, 64, 65, 129}) {
      for (int n : new int[] {15, 16, 17, 32, 33, 40}) {
        for (boolean indices : new boolean[] {false, true}) {
          int i = k++;
          float gamma = Scenario.GAMMAS[i % Scenario.GAMMAS.length];
          Scenario s = new Scenario(RefLoss.Form.ONE_VS_ALL_LOGITS, indices, n, c, gamma, i,
              7000 + i, i % 4 == 0 ? Scenario.Container.HEAP_AT_POSITION
                  : Scenario.Container.ARRAY);
          tests.add(DynamicTest.dynamicTest(s.toString(), () -> {
            PropertyTest.checkFiniteAndCorrect(s, true);
            PropertyTest.checkFiniteDifferences(s);
          }));
        }
      }
    }
    return tests.stream();
  }

  /**
   * Scenarios the random properties once found failing (on the vector kernel at 128- and 256-bit
   * species; the last at 512 bits), kept as fixed regression cases: softmax with gamma 0 and large
   * gradients, and a dense softmax row whose target holds nearly all the mass.
   */
  @TestFactory
  Stream<DynamicTest> pinnedScenarios() {
    Scenario[] pinned = {
        new Scenario(RefLoss.Form.SOFTMAX, true, 18, 256, 0f, 0, 9009545,
            Scenario.Container.ARRAY),
        new Scenario(RefLoss.Form.SOFTMAX, false, 22, 95, 0f, 0, -951748,
            Scenario.Container.ARRAY),
        // dense softmax in a class-major group, the target holding nearly all the mass: the sum
        // of the exponentials rounded to float cost 2.04e-6 of the loss (limit 2e-6)
        new Scenario(RefLoss.Form.SOFTMAX, false, 1, 2, 0f, 0, 5, Scenario.Container.ARRAY),
    };
    List<DynamicTest> tests = new ArrayList<>();
    for (Scenario s : pinned) {
      tests.add(DynamicTest.dynamicTest(s.toString(), () -> {
        PropertyTest.checkFiniteAndCorrect(s, true);
        PropertyTest.checkFiniteDifferences(s);
      }));
    }
    return tests.stream();
  }

  /**
   * One-vs-all on probabilities: class indices give the same bits (signed zeros included) as their
   * one-hot rows as dense targets, on each kernel (the vector kernel writes each chunk's one-hot
   * targets into its scratch, the dense path reads the caller's): the loss, the gradient and
   * per-sample losses, over tails, chunk boundaries (1024 elements) and a batch past 2^17 elements
   * (shorter chunks), with probabilities at and beyond both clip bounds.
   */
  @TestFactory
  Stream<DynamicTest> oneVsAllIndicesGiveTheBitsOfOneHotRows() {
    List<DynamicTest> tests = new ArrayList<>();
    int[][] shapes = {{1, 16}, {1, 17}, {3, 5}, {15, 16}, {17, 16}, {16, 1}, {33, 2}, {40, 31},
        {9, 33}, {70, 15}, {700, 16}, {130, 80}, {11, 1000}, {8200, 16}};
    for (int[] shape : shapes) {
      for (float gamma : new float[] {0f, 1f, 2f, 3f, 2.5f}) {
        int n = shape[0];
        int c = shape[1];
        tests.add(DynamicTest.dynamicTest(n + "x" + c + " gamma " + gamma,
            () -> checkIndicesAgainstOneHot(n, c, gamma)));
      }
    }
    return tests.stream();
  }

  private static void checkIndicesAgainstOneHot(int n, int c, float gamma) {
    float eps = 1e-4f;
    Random rnd = new Random(31L * n + c);
    float[] x = new float[n * c];
    float[] y = new float[n * c];
    int[] t = new int[n];
    float[] edges = {0f, 1f, eps, 1f - eps, eps / 2, 1f - eps / 2, Math.nextUp(eps),
        Math.nextDown(1f - eps), Float.MIN_VALUE};
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextInt(8) == 0 ? edges[rnd.nextInt(edges.length)] : rnd.nextFloat();
    }
    for (int r = 0; r < n; r++) {
      t[r] = rnd.nextInt(c);
      y[r * c + t[r]] = 1f;
    }
    float[] alpha = new float[c];
    for (int j = 0; j < c; j++) {
      alpha[j] = 0.25f + rnd.nextFloat();
    }
    for (Kernel k : GoldenTest.kernels()) {
      FocalLoss loss = FocalLoss.oneVsAll().gamma(gamma).alpha(alpha).epsilon(eps).kernel(k)
          .build();
      String at = k + " " + n + "x" + c + " gamma " + gamma;
      float[] gd = new float[x.length];
      float[] gi = new float[x.length];
      assertEquals(bits(loss.forwardBackward(x, y, c, gd)), bits(loss.forwardBackward(x, t, c, gi)),
          at + " loss");
      assertArrayEquals(bits(gd), bits(gi), at + " gradient");
      assertEquals(bits(loss.forward(x, y, c)), bits(loss.forward(x, t, c)), at + " forward");
      float[] pd = new float[n];
      float[] pi = new float[n];
      loss.perSample(x, y, c, pd);
      loss.perSample(x, t, c, pi);
      assertArrayEquals(bits(pd), bits(pi), at + " per-sample losses");
    }
  }

  /**
   * One-vs-all on probabilities: a row's gradient and per-sample loss have the same bits in a call
   * of that row alone as in the whole batch, on each kernel. The scalar kernel runs whole rows in
   * blocks of 256 elements through loops that C2 vectorizes (rows of more than 256 classes 256
   * columns at a time), and a block of fewer than 64 elements element by element: class counts
   * around those sizes, so that a row alone and the same row in a batch take different paths;
   * every gamma fast path and a general gamma, with and without alpha, one-hot targets as class
   * indices and as dense rows, and soft dense targets.
   */
  @TestFactory
  Stream<DynamicTest> oneVsAllRowBitsDoNotDependOnTheCall() {
    List<DynamicTest> tests = new ArrayList<>();
    for (int c : new int[] {1, 3, 10, 16, 63, 64, 65, 85, 86, 128, 129, 255, 256, 257, 300, 320,
        513, 600}) {
      for (int n : new int[] {2, 5, 26}) {
        int g = 0;
        for (float gamma : new float[] {0f, 1f, 2f, 2.5f, 3f}) {
          boolean withAlpha = g++ % 2 == 0;
          for (Targets targets : Targets.values()) {
            tests.add(DynamicTest.dynamicTest(n + "x" + c + " gamma " + gamma + " " + targets
                + (withAlpha ? " alpha" : ""),
                () -> checkRowsAlone(n, c, gamma, withAlpha, targets)));
          }
        }
      }
    }
    return tests.stream();
  }

  private enum Targets { INDICES, ONE_HOT, SOFT }

  private static void checkRowsAlone(int n, int c, float gamma, boolean withAlpha,
      Targets targets) {
    boolean indices = targets == Targets.INDICES;
    float eps = 1e-4f;
    Random rnd = new Random(17L * n + c);
    float[] x = new float[n * c];
    float[] y = new float[n * c];
    int[] t = new int[n];
    float[] edges = {0f, 1f, eps, 1f - eps, eps / 2, Math.nextUp(eps), Float.MIN_VALUE};
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextInt(8) == 0 ? edges[rnd.nextInt(edges.length)] : rnd.nextFloat();
    }
    for (int r = 0; r < n; r++) {
      t[r] = rnd.nextInt(c);
      y[r * c + t[r]] = 1f;
    }
    if (targets == Targets.SOFT) {
      for (int i = 0; i < y.length; i++) {
        y[i] = rnd.nextInt(4) == 0 ? rnd.nextInt(2) : rnd.nextFloat();
      }
    }
    float[] alpha = new float[c];
    for (int j = 0; j < c; j++) {
      alpha[j] = 0.25f + rnd.nextFloat();
    }
    for (Kernel k : GoldenTest.kernels()) {
      FocalLoss.OneVsAllBuilder b = FocalLoss.oneVsAll().gamma(gamma).epsilon(eps)
          .reduction(Reduction.SUM).kernel(k);
      FocalLoss loss = (withAlpha ? b.alpha(alpha) : b).build();
      float[] grad = new float[x.length];
      float[] perSample = new float[n];
      if (indices) {
        loss.forwardBackward(x, t, c, grad);
        loss.perSample(x, t, c, perSample);
      } else {
        loss.forwardBackward(x, y, c, grad);
        loss.perSample(x, y, c, perSample);
      }
      for (int r = 0; r < n; r++) {
        String at = k + " " + n + "x" + c + " gamma " + gamma + " " + targets
            + (withAlpha ? " alpha" : "") + " row " + r;
        float[] xr = Arrays.copyOfRange(x, r * c, (r + 1) * c);
        float[] gr = new float[c];
        float[] pr = new float[1];
        if (indices) {
          loss.forwardBackward(xr, new int[] {t[r]}, c, gr);
          loss.perSample(xr, new int[] {t[r]}, c, pr);
        } else {
          float[] yr = Arrays.copyOfRange(y, r * c, (r + 1) * c);
          loss.forwardBackward(xr, yr, c, gr);
          loss.perSample(xr, yr, c, pr);
        }
        assertArrayEquals(bits(Arrays.copyOfRange(grad, r * c, (r + 1) * c)), bits(gr),
            at + " gradient");
        assertEquals(bits(perSample[r]), bits(pr[0]), at + " per-sample loss");
      }
    }
  }

  private static int bits(float v) {
    return Float.floatToRawIntBits(v);
  }

  private static int[] bits(float[] a) {
    int[] b = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      b[i] = Float.floatToRawIntBits(a[i]);
    }
    return b;
  }
}
