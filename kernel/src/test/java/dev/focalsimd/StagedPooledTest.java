package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.focalsimd.kernels.Scratch;
import org.junit.jupiter.api.Test;

/** What a pooled set keeps of the buffer path's staging arrays (see {@code Scratch}). */
class StagedPooledTest {

  @Test
  void stagingArraysAboveTheBoundAreDropped() {
    float[] block = new float[BLOCK];
    float[][] s = {block, new float[Scratch.POOLED_ELEMENTS + 1], new float[0],
        new float[Scratch.POOLED_ELEMENTS]};
    float[] atBound = s[3];
    assertSame(s, FocalLoss.Staged.pooled(s));
    assertSame(block, s[0]);
    assertEquals(0, s[1].length);
    assertEquals(0, s[2].length);
    assertSame(atBound, s[3]);
  }

  private static final int BLOCK = FocalLoss.BLOCK_ELEMENTS;
}
