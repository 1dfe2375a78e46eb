package dev.focalsimd.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.focalsimd.FocalLoss;
import dev.focalsimd.Kernel;
import dev.focalsimd.bench.BenchData.Batch;
import dev.focalsimd.bench.BenchData.Form;
import org.junit.jupiter.api.Test;

/**
 * The benchmarks' data: the logits' spread (ExtremeLogitsBench), the default data, and the batches
 * the benchmarks call.
 */
class BenchDataTest {

  private static final int[] SHAPE = {64, 80};

  @Test
  void logitsAreUniformOverTheSpread() {
    for (float spread : new float[] {3f, 60f, 200f}) {
      float[] z = BenchData.generate(SHAPE, Form.SIGMOID, "dense", spread).logits;
      float lo = Float.POSITIVE_INFINITY;
      float hi = Float.NEGATIVE_INFINITY;
      for (float v : z) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      // 5120 uniform draws: both ends of [-spread/2, spread/2) are reached to within 1%
      assertTrue(lo >= -spread / 2 && lo < -0.49f * spread, spread + ": min " + lo);
      assertTrue(hi < spread / 2 && hi > 0.49f * spread, spread + ": max " + hi);
    }
  }

  @Test
  void theDefaultDataIsSpreadThree() {
    BenchData plain = BenchData.generate(SHAPE, Form.SOFTMAX, "index");
    BenchData three = BenchData.generate(SHAPE, Form.SOFTMAX, "index", 3f);
    assertEquals(3f, BenchData.SPREAD);
    assertArrayEquals(plain.logits, three.logits);
    assertArrayEquals(plain.classIndex, three.classIndex);
    // the same draws scaled: the targets and alpha do not depend on the spread
    BenchData wide = BenchData.generate(SHAPE, Form.SOFTMAX, "index", 200f);
    assertArrayEquals(plain.classIndex, wide.classIndex);
    assertArrayEquals(plain.alpha, wide.alpha);
  }

  @Test
  void aBatchHoldsOneKindOfTargets() {
    BenchData dense = BenchData.generate(SHAPE, Form.ONE_VS_ALL, "dense");
    Batch d = dense.batch(Form.ONE_VS_ALL, "dense");
    assertSame(dense.probabilities, d.input);
    assertSame(dense.oneHot, d.dense);
    assertNull(d.index);
    assertEquals(SHAPE[0] * SHAPE[1], d.grad.length);
    assertEquals(SHAPE[0], d.rows);
    assertEquals(SHAPE[1], d.classes);
    Batch i = dense.batch(Form.SOFTMAX, "index");
    assertSame(dense.logits, i.input);
    assertSame(dense.classIndex, i.index);
    assertNull(i.dense);
    BenchData indices = BenchData.generate(SHAPE, Form.SOFTMAX, "index");
    assertThrows(IllegalArgumentException.class, () -> indices.batch(Form.SOFTMAX, "dense"));
    assertThrows(IllegalArgumentException.class, () -> indices.batch(Form.SOFTMAX, "sparse"));
  }

  @Test
  void aBatchCallsTheLossWithItsTargets() {
    BenchData data = BenchData.generate(SHAPE, Form.SOFTMAX, "dense");
    FocalLoss loss = FocalLoss.softmax().gamma(2f).kernel(Kernel.SCALAR).build();
    Batch byIndex = data.batch(Form.SOFTMAX, "index");
    Batch byDense = data.batch(Form.SOFTMAX, "dense");
    float a = byIndex.forwardBackward(loss);
    float b = byDense.forwardBackward(loss);
    // one-hot rows of the class indices: the same loss and gradient either way
    assertEquals(loss.forwardBackward(data.logits, data.classIndex, SHAPE[1], new float[SHAPE[0]
        * SHAPE[1]]), a);
    assertEquals(a, b, 1e-6f * Math.abs(a));
    assertArrayEquals(byIndex.grad, byDense.grad, 1e-6f);
    assertTrue(byIndex.grad[0] != 0f || byIndex.grad[1] != 0f, "the gradient was written");
  }
}
