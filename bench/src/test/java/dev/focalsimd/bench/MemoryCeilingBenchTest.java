package dev.focalsimd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** MemoryCeilingBench's loops compute what their names say, tails included. */
class MemoryCeilingBenchTest {

  /** 65 elements: vector iterations and a scalar tail at every species up to 512 bits. */
  private static MemoryCeilingBench bench() {
    MemoryCeilingBench b = new MemoryCeilingBench();
    b.shape = "5x13";
    b.setup();
    return b;
  }

  @Test
  void readTwoWriteOneWritesTheProducts() {
    MemoryCeilingBench b = bench();
    b.readTwoWriteOne();
    for (int i = 0; i < b.x.length; i++) {
      assertEquals(b.x[i] * b.y[i], b.g[i], "g[" + i + "]");
    }
  }

  @Test
  void readOneWriteOneWritesTwice() {
    MemoryCeilingBench b = bench();
    b.readOneWriteOne();
    for (int i = 0; i < b.x.length; i++) {
      assertEquals(2 * b.x[i], b.g[i], "g[" + i + "]");
    }
  }

  @Test
  void readTwoSumsBothArrays() {
    MemoryCeilingBench b = bench();
    double expected = 0;
    for (int i = 0; i < b.x.length; i++) {
      expected += b.x[i] + (double) b.y[i];
    }
    // 130 floats in [0, 1] summed in float, in another order
    assertEquals(expected, b.readTwo(), 1e-5 * expected);
  }

  @Test
  void readOneSumsTheInput() {
    MemoryCeilingBench b = bench();
    double expected = 0;
    for (float v : b.x) {
      expected += v;
    }
    // 65 floats in [0, 1] summed in float, in another order
    assertEquals(expected, b.readOne(), 1e-5 * expected);
  }
}
