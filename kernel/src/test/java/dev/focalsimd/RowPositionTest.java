package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * A row's gradient and per-sample loss have the same bits wherever the row stands in its batch:
 * the batch's rows rotated by one and by three rows give each row the same results, on both
 * kernels, for every form and target kind, with row counts that are not a multiple of any
 * species' lane count (so that rows fall in the vector kernel's last, partial groups) and class
 * counts on both sides of its class-major limits. (SUM, so that the gradient's scale is the same
 * for both orders.)
 *
 * <p>The input that showed a defect: one-vs-all from logits over at most 64 classes (the vector
 * kernel's groups of L rows, one row per lane), 19 x 16 at 512 bits: the 3 rows after the last
 * full group went row by row, by other operations, so a row's gradient changed in its last bits
 * with its place in the batch; and that row path, run once per call, took JDK 17 tens of seconds
 * to compile with C2 (27 KB per call at 65535 x 16 and 128 bits until then; {@link HotLoopMain}).
 * And the sigmoid with class indices and ignored rows: the vector kernel runs the rows between two
 * ignored rows as a batch of their own, and one of fewer elements than a vector went to the scalar
 * kernel, whose last bits differ, so a row's bits depended on its distance to the ignored rows
 * around it (found by this test before it let the sigmoid's rows keep the ignore index; now such a
 * run goes through the vector passes, padded).
 */
class RowPositionTest {

  private static final RefLoss.Form[] FORMS = RefLoss.Form.values();
  private static final int[] ROWS = {5, 19, 37, 67};
  private static final int[] CLASSES = {1, 3, 10, 16, 21, 40, 64, 100};
  private static final int[] SHIFTS = {1, 3};

  @TestFactory
  Stream<DynamicTest> aRowsResultsDoNotDependOnItsPlaceInTheBatch() {
    List<DynamicTest> tests = new ArrayList<>();
    long seed = 12_000;
    for (RefLoss.Form form : FORMS) {
      for (boolean indices : new boolean[] {false, true}) {
        for (int rows : ROWS) {
          for (int classes : CLASSES) {
            for (float gamma : new float[] {2f, 2.5f}) {
              Scenario s = new Scenario(form, indices, rows, classes, gamma, 0, seed++,
                  Scenario.Container.ARRAY);
              tests.add(DynamicTest.dynamicTest(s.toString(), () -> check(s)));
            }
          }
        }
      }
    }
    return tests.stream();
  }

  /**
   * A call shorter than a vector gives its rows the bits that a longer call gives them (a batch's
   * last block, or a batch, can be that short), each against the same rows in a batch of 67 (some
   * ignored), where they stand from row 5 on (other lanes than in the short call);
   * forwardBackward, perSample and gradientHessian where the form has it; dense targets and class
   * indices, gammas 0.5, 2 and 2.5. Forms computed element by element (one-vs-all on
   * probabilities, the sigmoid): rows of 1, 3 and 5 classes, every call of fewer elements than the
   * platform's lane count L. Forms computed row by row (softmax, one-vs-all from logits, whose
   * vector kernel works on groups of L rows): 1, 2, 3 and L - 1 rows of 1 to 64 classes. Until the
   * ninth stop of 2026-12-06 the vector kernel left such sigmoid calls to the scalar kernel, whose
   * last bits differ; until the first stop of 2026-12-07 such one-vs-all calls too (and ran those
   * from logits of L classes or more row by row).
   */
  @TestFactory
  Stream<DynamicTest> aShortCallGivesItsRowsTheBitsOfALongerOne() {
    int lanes = FocalLoss.platform().floatLanes();
    List<DynamicTest> tests = new ArrayList<>();
    long seed = 13_000;
    for (RefLoss.Form form : FORMS) {
      boolean byElement = form == RefLoss.Form.SIGMOID || form == RefLoss.Form.ONE_VS_ALL;
      for (boolean indices : new boolean[] {false, true}) {
        for (int classes : byElement ? new int[] {1, 3, 5} : new int[] {1, 3, 10, 21, 64}) {
          for (float gamma : new float[] {0.5f, 2f, 2.5f}) {
            Scenario s = new Scenario(form, indices, 67, classes, gamma, 0, seed++,
                Scenario.Container.ARRAY);
            IntStream counts = byElement
                ? IntStream.range(1, Math.max(2, (lanes + classes - 1) / classes))
                : IntStream.of(1, 2, 3, lanes - 1).filter(r -> r >= 1).distinct();
            counts.forEach(rows -> tests.add(DynamicTest.dynamicTest(
                s + " " + rows + " rows alone", () -> checkShortCall(s, rows))));
          }
        }
      }
    }
    return tests.stream();
  }

  private static void checkShortCall(Scenario s, int rows) {
    int k = s.classes;
    int[] picked = new int[rows]; // rows not ignored from row 5 on (those rows if too few)
    int m0 = 0;
    for (int r = 5; m0 < rows && r < s.n; r++) {
      if (!s.indices || s.t[r] != s.ignoreIndex) {
        picked[m0++] = r;
      }
    }
    if (m0 < rows) { // (softmax over 1 class: every row's class is the ignore index)
      for (int m = 0; m < rows; m++) {
        picked[m] = 5 + m;
      }
    }
    float[] x = new float[rows * k];
    float[] y = new float[rows * k];
    int[] t = new int[rows];
    for (int m = 0; m < rows; m++) {
      System.arraycopy(s.x, picked[m] * k, x, m * k, k);
      if (s.indices) {
        t[m] = s.t[picked[m]];
      } else {
        System.arraycopy(s.y, picked[m] * k, y, m * k, k);
      }
    }
    for (Kernel kernel : GoldenTest.kernels()) {
      FocalLoss loss = s.build(kernel, Reduction.SUM);
      Outputs full = run(loss, s, 0);
      Outputs fullHessian = hessian(loss, s, 0);
      float[] grad = new float[rows * k];
      float[] perSample = new float[rows];
      float[] hg = new float[rows * k];
      float[] hh = new float[rows * k];
      if (s.indices) {
        loss.forwardBackward(x, t, k, grad);
        loss.perSample(x, t, k, perSample);
        if (fullHessian != null) {
          loss.gradientHessian(x, t, k, hg, hh);
        }
      } else {
        loss.forwardBackward(x, y, k, grad);
        loss.perSample(x, y, k, perSample);
        if (fullHessian != null) {
          loss.gradientHessian(x, y, k, hg, hh);
        }
      }
      for (int m = 0; m < rows; m++) {
        int r = picked[m];
        String where = s + " " + kernel + ": row " + r + " in a call of " + rows + " rows";
        assertEquals(Float.floatToRawIntBits(full.perSample()[r]),
            Float.floatToRawIntBits(perSample[m]),
            where + ", per-sample loss " + full.perSample()[r] + " vs " + perSample[m]);
        assertRowBits(full.grad(), r, grad, m, k, where + ", gradient");
        if (fullHessian != null) {
          assertRowBits(fullHessian.grad(), r, hg, m, k, where + ", gradientHessian's gradient");
          assertRowBits(fullHessian.perSample(), r, hh, m, k,
              where + ", gradientHessian's Hessian");
        }
      }
    }
  }

  private static void check(Scenario s) {
    for (Kernel kernel : GoldenTest.kernels()) {
      FocalLoss loss = s.build(kernel, Reduction.SUM);
      Outputs base = run(loss, s, 0);
      Outputs baseHessian = hessian(loss, s, 0);
      for (int shift : SHIFTS) {
        Outputs moved = run(loss, s, shift);
        Outputs movedHessian = hessian(loss, s, shift);
        for (int r = 0; r < s.n; r++) {
          int from = (r + shift) % s.n; // row r of the rotated batch is row `from` of the batch
          String where = s + " " + kernel + ": row " + from + " at row " + r;
          assertEquals(Float.floatToRawIntBits(base.perSample()[from]),
              Float.floatToRawIntBits(moved.perSample()[r]),
              where + ", per-sample loss " + base.perSample()[from] + " vs " + moved.perSample()[r]);
          assertRowBits(base.grad(), from, moved.grad(), r, s.classes, where + ", gradient");
          if (baseHessian != null) {
            assertRowBits(baseHessian.grad(), from, movedHessian.grad(), r, s.classes,
                where + ", gradientHessian's gradient");
            assertRowBits(baseHessian.perSample(), from, movedHessian.perSample(), r, s.classes,
                where + ", gradientHessian's Hessian");
          }
        }
      }
    }
  }

  private static void assertRowBits(float[] a, int rowA, float[] b, int rowB, int classes,
      String what) {
    for (int c = 0; c < classes; c++) {
      float u = a[rowA * classes + c];
      float v = b[rowB * classes + c];
      assertEquals(Float.floatToRawIntBits(u), Float.floatToRawIntBits(v),
          what + " of class " + c + ": " + u + " vs " + v);
    }
  }

  /**
   * gradientHessian's gradient and Hessian (in perSample's place) of the batch rotated by shift,
   * where the form has it (the sigmoid; softmax with class indices and no label smoothing); else
   * null.
   */
  private static Outputs hessian(FocalLoss loss, Scenario s, int shift) {
    boolean sigmoid = s.form == RefLoss.Form.SIGMOID;
    if (!sigmoid && !(s.form == RefLoss.Form.SOFTMAX && s.indices && s.labelSmoothing == 0f)) {
      return null;
    }
    int n = s.n;
    int k = s.classes;
    float[] x = new float[n * k];
    for (int r = 0; r < n; r++) {
      System.arraycopy(s.x, ((r + shift) % n) * k, x, r * k, k);
    }
    Outputs out = new Outputs(new float[n * k], new float[n * k]);
    if (s.indices) {
      int[] t = new int[n];
      for (int r = 0; r < n; r++) {
        t[r] = s.t[(r + shift) % n];
      }
      loss.gradientHessian(x, t, k, out.grad(), out.perSample());
    } else {
      float[] y = new float[n * k];
      for (int r = 0; r < n; r++) {
        System.arraycopy(s.y, ((r + shift) % n) * k, y, r * k, k);
      }
      loss.gradientHessian(x, y, k, out.grad(), out.perSample());
    }
    return out;
  }

  /** The gradient and per-sample losses of the scenario's batch with its rows rotated by shift. */
  private static Outputs run(FocalLoss loss, Scenario s, int shift) {
    int n = s.n;
    int k = s.classes;
    float[] x = new float[n * k];
    for (int r = 0; r < n; r++) {
      System.arraycopy(s.x, ((r + shift) % n) * k, x, r * k, k);
    }
    Outputs out = new Outputs(new float[n * k], new float[n]);
    if (s.indices) {
      int[] t = new int[n];
      for (int r = 0; r < n; r++) {
        t[r] = s.t[(r + shift) % n];
      }
      loss.forwardBackward(x, t, k, out.grad());
      loss.perSample(x, t, k, out.perSample());
    } else {
      float[] y = new float[n * k];
      for (int r = 0; r < n; r++) {
        System.arraycopy(s.y, ((r + shift) % n) * k, y, r * k, k);
      }
      loss.forwardBackward(x, y, k, out.grad());
      loss.perSample(x, y, k, out.perSample());
    }
    return out;
  }

  private record Outputs(float[] grad, float[] perSample) {}
}
