package dev.focalsimd.xgboost;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.focalsimd.FocalLoss;
import dev.focalsimd.xgboost.FocalObjective.Layout;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import java.util.Random;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoostError;
import org.junit.jupiter.api.Test;

/** The adapter alone: layouts, the label cache, weights, serialization, validation. */
class FocalObjectiveTest {

  static float[][] randomMargins(Random rnd, int n, int k) {
    float[][] m = new float[n][k];
    for (float[] row : m) {
      for (int j = 0; j < k; j++) {
        row[j] = (float) (rnd.nextGaussian() * 3);
      }
    }
    return m;
  }

  static DMatrix dmatrix(int n, float[] labels) throws XGBoostError {
    DMatrix d = new DMatrix(new float[n * 2], n, 2);
    d.setLabel(labels);
    return d;
  }

  @Test
  void classMajorLayoutIsTheTransposeOfSampleMajor() {
    Random rnd = new Random(1);
    int n = 37;
    int k = 10;
    FocalObjective obj = FocalObjective.multiclass(k, 2f);
    float[] labels = new float[n];
    for (int i = 0; i < n; i++) {
      labels[i] = rnd.nextInt(k);
    }
    float[] sampleMajor = new float[n * k];
    for (int i = 0; i < sampleMajor.length; i++) {
      sampleMajor[i] = (float) rnd.nextGaussian() * 4;
    }
    float[] classMajor = new float[n * k];
    for (int i = 0; i < n; i++) {
      for (int c = 0; c < k; c++) {
        classMajor[c * n + i] = sampleMajor[i * k + c]; // written out by hand, not transpose()
      }
    }
    float[] gs = new float[n * k];
    float[] hs = new float[n * k];
    float[] gc = new float[n * k];
    float[] hc = new float[n * k];
    obj.gradientHessian(sampleMajor, labels, Layout.SAMPLE_MAJOR, gs, hs);
    obj.gradientHessian(classMajor, labels, Layout.CLASS_MAJOR, gc, hc);
    for (int i = 0; i < n; i++) {
      for (int c = 0; c < k; c++) {
        assertEquals(gs[i * k + c], gc[c * n + i], 0f, "gradient row " + i + " class " + c);
        assertEquals(hs[i * k + c], hc[c * n + i], 0f, "hessian row " + i + " class " + c);
      }
    }
    // Binary: one value per row, both layouts are the same array.
    FocalObjective bin = FocalObjective.binary(2f, 0.25f);
    float[] y = new float[n];
    for (int i = 0; i < n; i++) {
      y[i] = rnd.nextInt(2);
    }
    float[] m = new float[n];
    System.arraycopy(sampleMajor, 0, m, 0, n);
    float[] g1 = new float[n];
    float[] h1 = new float[n];
    float[] g2 = new float[n];
    float[] h2 = new float[n];
    bin.gradientHessian(m, y, Layout.SAMPLE_MAJOR, g1, h1);
    bin.gradientHessian(m, y, Layout.CLASS_MAJOR, g2, h2);
    assertArrayEquals(g1, g2);
    assertArrayEquals(h1, h2);
  }

  @Test
  void getGradientIsSampleMajorAndMatchesTheKernel() throws XGBoostError {
    Random rnd = new Random(2);
    int n = 50;
    int k = 4;
    float[] labels = new float[n];
    int[] t = new int[n];
    for (int i = 0; i < n; i++) {
      t[i] = rnd.nextInt(k);
      labels[i] = t[i];
    }
    float[][] margins = randomMargins(rnd, n, k);
    FocalObjective obj = FocalObjective.multiclass(k, 1.5f, 1f, 2f, 0.5f, 1f);
    List<float[]> gh = obj.getGradient(margins, dmatrix(n, labels));
    float[] flat = new float[n * k];
    for (int i = 0; i < n; i++) {
      System.arraycopy(margins[i], 0, flat, i * k, k);
    }
    float[] g = new float[n * k];
    float[] h = new float[n * k];
    FocalLoss.softmax().gamma(1.5f).alpha(1f, 2f, 0.5f, 1f).build()
        .gradientHessian(flat, t, k, g, h);
    assertArrayEquals(g, gh.get(0));
    assertArrayEquals(h, gh.get(1));
  }

  @Test
  void labelsAreReadOncePerDMatrixAndWeightsMultiply() throws XGBoostError {
    int n = 6;
    float[] y = {1, 0, 0, 1, 0, 1};
    DMatrix d = dmatrix(n, y);
    FocalObjective obj = FocalObjective.binary(2f, -1f);
    float[][] m = randomMargins(new Random(3), n, 1);
    float[] g1 = obj.getGradient(m, d).get(0);
    d.setLabel(new float[] {0, 0, 0, 0, 0, 0});
    float[] cached = obj.getGradient(m, d).get(0);
    assertArrayEquals(g1, cached, "second round uses the cached labels");
    obj.clearCache();
    float[] reread = obj.getGradient(m, d).get(0);
    float[] zeros = FocalObjective.binary(2f, -1f).getGradient(m, dmatrix(n, new float[n])).get(0);
    assertArrayEquals(zeros, reread, "clearCache: the new labels are read");
    assertTrue(zeros[0] != g1[0], "label 0 changed from 1 to 0, so its gradient differs");

    DMatrix w = dmatrix(n, y);
    float[] weights = {1, 2, 0, 0.5f, 3, 1};
    w.setWeight(weights);
    FocalObjective fresh = FocalObjective.binary(2f, -1f);
    List<float[]> plain = fresh.getGradient(m, dmatrix(n, y));
    List<float[]> weighted = fresh.getGradient(m, w);
    for (int i = 0; i < n; i++) {
      assertEquals(plain.get(0)[i] * weights[i], weighted.get(0)[i], 0f);
      assertEquals(plain.get(1)[i] * weights[i], weighted.get(1)[i], 0f);
    }
  }

  @Test
  void serializationKeepsTheOptions() throws Exception {
    FocalObjective obj = FocalObjective.multiclass(3, 2.5f, 0.2f, 0.3f, 0.5f)
        .withHessianFloor(1e-4f);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(obj);
      out.writeObject(ScalaFocalObjective.of(obj));
    }
    FocalObjective copy;
    ScalaFocalObjective scalaCopy;
    try (ObjectInputStream in = new ObjectInputStream(
        new ByteArrayInputStream(bytes.toByteArray()))) {
      copy = (FocalObjective) in.readObject();
      scalaCopy = (ScalaFocalObjective) in.readObject();
    }
    Random rnd = new Random(4);
    int n = 20;
    float[] labels = new float[n];
    for (int i = 0; i < n; i++) {
      labels[i] = rnd.nextInt(3);
    }
    float[][] m = randomMargins(rnd, n, 3);
    DMatrix d = dmatrix(n, labels);
    List<float[]> a = obj.getGradient(m, d);
    List<float[]> b = copy.getGradient(m, d);
    List<float[]> c = scalaCopy.getGradient(m, d);
    assertArrayEquals(a.get(0), b.get(0));
    assertArrayEquals(a.get(1), b.get(1));
    assertArrayEquals(a.get(1), c.get(1));
    assertEquals(1e-4f, copy.hessianFloor());
    assertEquals(2.5f, copy.gamma());
  }

  @Test
  void badInputIsRejectedWithClearMessages() throws XGBoostError {
    assertThrows(IllegalArgumentException.class, () -> FocalObjective.binary(-1f, 0.25f));
    assertThrows(IllegalArgumentException.class, () -> FocalObjective.binary(2f, 1.5f));
    assertThrows(IllegalArgumentException.class, () -> FocalObjective.multiclass(1, 2f));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> FocalObjective.multiclass(3, 2f, 1f, 1f));
    assertTrue(e.getMessage().contains("alpha has 2 values"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> FocalObjective.binary(2f, 0.25f).withHessianFloor(Float.NaN));

    FocalObjective multi = FocalObjective.multiclass(3, 2f);
    e = assertThrows(IllegalArgumentException.class, () -> multi.getGradient(
        new float[2][1], dmatrix(2, new float[] {0, 1})));
    assertTrue(e.getMessage().contains("num_class"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> FocalObjective.multiclass(3, 2f)
        .getGradient(new float[2][3], dmatrix(2, new float[] {0, 1.5f})));
    assertTrue(e.getMessage().contains("label[1] = 1.5"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> FocalObjective.binary(2f, -1f)
        .getGradient(new float[2][1], dmatrix(2, new float[] {0, 2})));
    assertTrue(e.getMessage().contains("label[1] = 2.0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> FocalObjective.binary(2f, -1f)
        .getGradient(new float[3][1], dmatrix(2, new float[] {0, 1})));
    assertTrue(e.getMessage().contains("3 rows"), e.getMessage());
    // a null row (an adversarial tester's find: the JVM's own NullPointerException, unnamed)
    float[][] withNullRow = new float[2][];
    withNullRow[0] = new float[1];
    NullPointerException npe = assertThrows(NullPointerException.class, () -> FocalObjective
        .binary(2f, -1f).getGradient(withNullRow, dmatrix(2, new float[] {0, 1})));
    assertEquals("predicts[1] is null", npe.getMessage());
    float[] g = new float[4];
    e = assertThrows(IllegalArgumentException.class, () -> FocalObjective.multiclass(2, 2f)
        .gradientHessian(new float[6], new float[] {0, 1}, Layout.CLASS_MAJOR, g, g));
    assertTrue(e.getMessage().contains("margins has length 6"), e.getMessage());
    // negative infinity is not "alpha off": rejected as the sigmoid builder rejects it
    assertThrows(IllegalArgumentException.class,
        () -> FocalObjective.binary(2f, Float.NEGATIVE_INFINITY));
  }

  /**
   * An adversarial tester's finds: with the class-major layout the objective computed into
   * arrays of its own and copied back, so one array passed as gradient and Hessian was accepted
   * (and held the Hessian), and a NaN margin was named {@code logits[j]} at its index in the
   * transposed copy. Both layouts now reject outputs that are not arrays of their own, writing
   * nothing, and name a bad margin as the caller's {@code margins[j]} (or, through XGBoost,
   * {@code predicts[i][k]}).
   */
  @Test
  void bothLayoutsRejectSharedArraysAndNameBadMarginsAsTheCallerDoes() throws XGBoostError {
    int n = 4;
    int k = 3;
    float[] labels = {0, 2, 1, 0};
    FocalObjective multi = FocalObjective.multiclass(k, 2f);
    for (Layout layout : Layout.values()) {
      float[] margins = new float[n * k];
      for (int j = 0; j < margins.length; j++) {
        margins[j] = 0.3f * j - 1f;
      }
      float[] before = margins.clone();
      float[] shared = new float[n * k];
      java.util.Arrays.fill(shared, 7f);
      for (float[][] out : new float[][][] {{shared, shared}, {margins, shared},
          {shared, margins}}) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> multi.gradientHessian(margins, labels, layout, out[0], out[1]), layout + "");
        assertTrue(e.getMessage().contains("distinct"), e.getMessage());
      }
      assertArrayEquals(before, margins, layout + ": margins written");
      for (float v : shared) {
        assertEquals(7f, v, layout + ": output written");
      }
      margins[5] = Float.NaN;
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> multi.gradientHessian(margins, labels, layout, new float[n * k],
              new float[n * k]));
      assertTrue(e.getMessage().startsWith("margins[5] = NaN"), layout + ": " + e.getMessage());
    }
    float[][] predicts = randomMargins(new Random(3), n, k);
    predicts[2][1] = Float.POSITIVE_INFINITY;
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> multi.getGradient(predicts, dmatrix(n, labels)));
    assertTrue(e.getMessage().startsWith("predicts[2][1] = Infinity"), e.getMessage());
  }
}
