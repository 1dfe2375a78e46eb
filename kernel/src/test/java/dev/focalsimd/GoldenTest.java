package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every golden case ({@link GoldenCase#dir()}) on both kernels, with dense and (where the case
 * has them) class-index targets, through arrays, heap buffers with an offset and direct buffers.
 */
class GoldenTest {

  static List<Kernel> kernels() {
    List<Kernel> k = new ArrayList<>();
    k.add(Kernel.SCALAR);
    if (FocalLoss.platform().vectorAvailable()) {
      k.add(Kernel.VECTOR);
    }
    return k;
  }

  @Test
  void goldenFilesArePresent() {
    assertFalse(GoldenCase.files().isEmpty(), "no golden files in " + GoldenCase.dir());
  }

  @TestFactory
  Stream<DynamicTest> everyGoldenCase() {
    List<DynamicTest> tests = new ArrayList<>();
    for (String file : GoldenCase.files()) {
      GoldenCase g = GoldenCase.load(file);
      for (Kernel k : kernels()) {
        if (g.targetProbs != null && !isSmoothedIndexCase(g)) {
          tests.add(DynamicTest.dynamicTest(g.name + " dense " + k, () -> check(g, k, false)));
        }
        if (g.targets != null) {
          tests.add(DynamicTest.dynamicTest(g.name + " indices " + k, () -> check(g, k, true)));
        }
      }
    }
    return tests.stream();
  }

  /** Label smoothing applies to class indices; a dense target is used as given. */
  private static boolean isSmoothedIndexCase(GoldenCase g) {
    return g.labelSmoothing != null && g.labelSmoothing != 0f;
  }

  static void check(GoldenCase g, Kernel kernel, boolean indices) {
    FocalLoss loss = g.build(kernel);
    int c = g.classes;
    float[] grad = new float[g.input.length];
    float[] perSample = new float[g.batch];
    float reduced;
    if (indices) {
      reduced = loss.forwardBackward(g.input, g.targets, c, grad);
      loss.perSample(g.input, g.targets, c, perSample);
      assertEquals(reduced, loss.forward(g.input, g.targets, c), 0f, "forward == forwardBackward");
    } else {
      reduced = loss.forwardBackward(g.input, g.targetProbs, c, grad);
      loss.perSample(g.input, g.targetProbs, c, perSample);
      assertEquals(reduced, loss.forward(g.input, g.targetProbs, c), 0f,
          "forward == forwardBackward");
    }
    Tolerance.assertClose(g.name + " per-sample", g.expectedPerSample, perSample, Tolerance.LOSS);
    Tolerance.assertClose(g.name + " gradient", g.expectedGrad, grad, Tolerance.GRAD);
    double expected = g.expectedLoss != null ? g.expectedLoss : sum(g.expectedPerSample);
    Tolerance.assertClose(g.name + " loss", new double[] {expected}, new float[] {reduced},
        Tolerance.LOSS);

    // The same call through buffers: a heap buffer with an offset, and direct buffers.
    float[] gradHeap = viaBuffers(loss, g, indices, false);
    float[] gradDirect = viaBuffers(loss, g, indices, true);
    for (int i = 0; i < grad.length; i++) {
      assertEquals(grad[i], gradHeap[i], 0f, "heap buffer gradient [" + i + "]");
      assertEquals(grad[i], gradDirect[i], 0f, "direct buffer gradient [" + i + "]");
    }
  }

  private static float[] viaBuffers(FocalLoss loss, GoldenCase g, boolean indices,
      boolean direct) {
    int n = g.input.length;
    int pad = 3;
    FloatBuffer x = floats(n + pad, direct);
    x.position(pad);
    x.put(g.input);
    x.position(pad);
    FloatBuffer grad = floats(n + pad, direct);
    grad.position(pad);
    float r;
    if (indices) {
      IntBuffer t = direct
          ? ByteBuffer.allocateDirect(4 * (g.batch + pad)).order(ByteOrder.nativeOrder()).asIntBuffer()
          : IntBuffer.wrap(new int[g.batch + pad]);
      t.position(pad);
      t.put(g.targets);
      t.position(pad);
      r = loss.forwardBackward(x, t, g.classes, grad);
      assertEquals(pad, t.position());
    } else {
      FloatBuffer y = floats(n + pad, direct);
      y.position(pad);
      y.put(g.targetProbs);
      y.position(pad);
      r = loss.forwardBackward(x, y, g.classes, grad);
      assertEquals(pad, y.position());
    }
    assertEquals(pad, x.position(), "input position unchanged");
    assertEquals(pad, grad.position(), "gradInput position unchanged");
    float[] out = new float[n];
    grad.get(pad, out, 0, n);
    assumeTrue(Float.isFinite(r));
    return out;
  }

  private static FloatBuffer floats(int n, boolean direct) {
    return direct
        ? ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer()
        : FloatBuffer.wrap(new float[n]);
  }

  private static double sum(double[] a) {
    double s = 0;
    for (double v : a) {
      s += v;
    }
    return s;
  }

  @Test
  void designNoteWorkedExampleWithin1e6() {
    GoldenCase g = GoldenCase.load("seed-example.json");
    for (Kernel k : kernels()) {
      FocalLoss loss = FocalLoss.oneVsAll().alphaFromClassCounts(100, 200, 50, 10).gamma(2f)
          .kernel(k).build();
      float[] ps = new float[8];
      loss.perSample(g.input, g.targets, 4, ps);
      for (int i = 0; i < 8; i++) {
        assertEquals(g.publishedPerSample[i], ps[i], 1e-6, k + " sample " + i);
      }
    }
  }
}
