package dev.focalsimd.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.focalsimd.bench.BenchData.Form;
import org.junit.jupiter.api.Test;

/** The benchmarks' data: the logits' spread (ExtremeLogitsBench) and the default data. */
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
}
