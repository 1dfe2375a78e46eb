package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * {@code perSample} of one-vs-all on probabilities and the sigmoid, which the vector kernel
 * computes for up to {@code Passes.PER_SAMPLE_BLOCK_CLASSES} classes over many rows at once,
 * a row's elements possibly in two chunks (and, in large batches, in the shorter streaming chunks):
 * class counts below, at and above a vector and that limit, batches that end mid-chunk and batches
 * of {@link FocalLoss#STREAMING_ELEMENTS} or more (and of {@link FocalLoss#PARALLEL_THRESHOLD}).
 * Per-sample losses agree with the scalar kernel within the golden tolerances, sum to the SUM loss,
 * have the same bits for parallelism 1, 2 and 8, and a row's bits do not depend on where its call's
 * chunks start.
 */
class PerSampleTest {

  private static final int[][] SHAPES = {
      {700, 1}, {501, 3}, {333, 7}, {97, 15}, {130, 16}, {77, 17}, {41, 63}, {37, 64},
      {29, 65}, {19_000, 7}, {8_300, 16}, {40_000, 7}, {17_000, 16}};

  private static final RefLoss.Form[] FORMS = {RefLoss.Form.ONE_VS_ALL, RefLoss.Form.SIGMOID};

  @TestFactory
  Stream<DynamicTest> vectorAgreesWithScalarAndSumsToTheSumLoss() {
    List<DynamicTest> tests = new ArrayList<>();
    int k = 0;
    for (int[] shape : SHAPES) {
      for (RefLoss.Form form : FORMS) {
        for (boolean indices : new boolean[] {false, true}) {
          float gamma = new float[] {0f, 2f, 2.5f, 3f}[k % 4];
          Scenario s = new Scenario(form, indices, shape[0], shape[1], gamma, 0, 9100L + k++,
              Scenario.Container.ARRAY);
          tests.add(DynamicTest.dynamicTest(s.toString(), () -> check(s)));
        }
      }
    }
    return tests.stream();
  }

  /**
   * A row's per-sample loss has the same bits wherever the chunks of its call start: the first
   * rows of a streaming batch (256-element chunks, each row's elements where the batch puts them)
   * against the same rows as a call of their own (1024-element chunks).
   */
  @TestFactory
  Stream<DynamicTest> theBitsDoNotDependOnWhereChunksStart() {
    List<DynamicTest> tests = new ArrayList<>();
    int k = 0;
    for (int classes : new int[] {7, 16, 40}) {
      int n = FocalLoss.STREAMING_ELEMENTS / classes + 11;
      for (RefLoss.Form form : FORMS) {
        for (boolean indices : new boolean[] {false, true}) {
          Scenario s = new Scenario(form, indices, n, classes, 2.5f, 0, 9300L + k++,
              Scenario.Container.ARRAY);
          tests.add(DynamicTest.dynamicTest(s.toString(), () -> {
            int rows = 150;
            for (Kernel kernel : GoldenTest.kernels()) {
              FocalLoss loss = s.build(kernel, Reduction.SUM);
              float[] all = new float[s.n];
              float[] head = new float[rows];
              float[] x = java.util.Arrays.copyOf(s.x, rows * s.classes);
              if (s.indices) {
                loss.perSample(s.x, s.t, s.classes, all);
                loss.perSample(x, java.util.Arrays.copyOf(s.t, rows), s.classes, head);
              } else {
                loss.perSample(s.x, s.y, s.classes, all);
                loss.perSample(x, java.util.Arrays.copyOf(s.y, rows * s.classes), s.classes,
                    head);
              }
              for (int r = 0; r < rows; r++) {
                assertEquals(Float.floatToRawIntBits(all[r]), Float.floatToRawIntBits(head[r]),
                    s + " " + kernel + " row " + r + " in the batch vs alone");
              }
            }
          }));
        }
      }
    }
    return tests.stream();
  }

  private static void check(Scenario s) {
    Scenario.Result scalar = s.run(s.build(Kernel.SCALAR, Reduction.SUM));
    for (Kernel kernel : GoldenTest.kernels()) {
      Scenario.Result r = s.run(s.build(kernel, Reduction.SUM));
      PropertyTest.assertFinite(s, kernel, r);
      Tolerance.assertClose(s + " " + kernel + " per-sample", Scenario.toDouble(scalar.perSample),
          r.perSample, Tolerance.LOSS);
      double sum = 0;
      for (float v : r.perSample) {
        sum += v;
      }
      Tolerance.assertClose(s + " " + kernel + " per-sample sum vs SUM", new double[] {sum},
          new float[] {r.loss}, Tolerance.LOSS);
      Scenario.Result one = s.run(s.build(kernel, Reduction.SUM, 1));
      for (int p : new int[] {2, 8}) {
        Scenario.Result par = s.run(s.build(kernel, Reduction.SUM, p));
        for (int i = 0; i < one.perSample.length; i++) {
          assertEquals(Float.floatToRawIntBits(one.perSample[i]),
              Float.floatToRawIntBits(par.perSample[i]),
              s + " " + kernel + " parallelism " + p + " vs 1, row " + i);
        }
      }
    }
  }
}
