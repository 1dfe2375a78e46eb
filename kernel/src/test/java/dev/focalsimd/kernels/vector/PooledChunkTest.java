package dev.focalsimd.kernels.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.focalsimd.kernels.Scratch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a pooled set keeps of the vector kernel's {@link Passes.Chunk} when a virtual thread's call
 * ends: no caller's array, no other kind's scratch, no array above {@link
 * Scratch#POOLED_ELEMENTS} (a tester's find: one call on a row of 4,000,000 classes left 32 MB in
 * the pool for the JVM's lifetime, 8 sets 256 MB).
 */
class PooledChunkTest {

  @BeforeAll
  static void vectorModule() {
    assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
        "the chunk is the vector kernel's: needs --add-modules jdk.incubator.vector");
  }

  @Test
  void pooledChunkDropsCallerArraysAndWideRowsKeepsTheRest() {
    Passes.Chunk c = new Passes.Chunk();
    float[] caller = new float[10];
    c.x = caller;
    c.y = caller;
    c.grad = caller;
    c.hess = caller;
    c.perSample = caller;
    c.prob = caller;
    c.tArr = new int[3];
    float[] s = c.s;
    c.km = new float[Scratch.POOLED_ELEMENTS + 1];
    c.pad = new float[Scratch.POOLED_ELEMENTS + 1];
    float[] wide = c.row(Scratch.POOLED_ELEMENTS + 1);
    assertEquals(Scratch.POOLED_ELEMENTS + 1, wide.length);
    assertSame(c, c.pooled());
    assertNull(c.x);
    assertNull(c.y);
    assertNull(c.grad);
    assertNull(c.hess);
    assertNull(c.perSample);
    assertNull(c.prob);
    assertNull(c.tArr);
    assertEquals(0, c.km.length);
    assertEquals(0, c.pad.length);
    assertEquals(0, c.row.length);
    assertSame(s, c.s, "the chunk's own scratch stays");

    float[] km = new float[Scratch.POOLED_ELEMENTS];
    c.km = km;
    float[] row = c.row(1000);
    c.pooled();
    assertSame(km, c.km, "an array up to the bound stays");
    assertSame(row, c.row);
  }
}
