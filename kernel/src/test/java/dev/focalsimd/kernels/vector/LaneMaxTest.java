package dev.focalsimd.kernels.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The rows' maxima as the softmax passes take them, the integer max of order-preserving keys
 * ({@link Passes#maxOfKeys}, the expression its javadoc gives), give the bits of the JDK's {@code
 * FloatVector.reduceLanes(MAX)} on every vector without NaN (zeros of both signs, subnormals,
 * infinities, the extremes, random floats of every binade, negatives only, near ties), and NaN on
 * every vector with a NaN lane, whatever its sign bit: the NaN of 0/0 on x86 has it set, and a row
 * max that dropped it (a reviewer's find in the first version, which had no NaN lanes) left the
 * row's loss finite where the 512-bit row passes gave NaN (then, the exponential of a NaN
 * difference was 0; since the fourth stop of 2026-12-07 it is NaN, and a dropped NaN still makes
 * the row NaN there, but the max stays the JDK's on every vector).
 */
class LaneMaxTest {

  @BeforeAll
  static void vectorModule() {
    assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
        "jdk.incubator.vector is not in the boot layer");
  }

  private static final float[] SPECIAL = {
    -0f, 0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, -Float.MIN_NORMAL, 1f, -1f,
    Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
    Math.nextDown(0f), Math.nextUp(-0f), 0.5f, -0.5f, 1e-30f, -1e-30f, 1e4f, -1e4f
  };

  @Test
  void keysGiveTheFloatMaxOnEveryVectorWithoutNaN() {
    int lanes = Passes.L;
    float[] v = new float[lanes];
    SplittableRandom rnd = new SplittableRandom(20261207);
    for (int trial = 0; trial < 200_000; trial++) {
      int kind = trial % 4;
      for (int i = 0; i < lanes; i++) {
        if (kind == 0) { // special values only: ties of zeros of both signs, infinities
          v[i] = SPECIAL[rnd.nextInt(SPECIAL.length)];
        } else if (kind == 1) { // any non-NaN float, every binade
          float f;
          do {
            f = Float.intBitsToFloat(rnd.nextInt());
          } while (Float.isNaN(f));
          v[i] = f;
        } else if (kind == 2) { // all negative, every exponent: the flipped keys decide
          float f;
          do {
            f = Float.intBitsToFloat(rnd.nextInt() | 0x80000000);
          } while (Float.isNaN(f));
          v[i] = f;
        } else { // logits near each other, a few of them equal
          v[i] = (float) rnd.nextInt(-3, 3) * 0.25f;
        }
      }
      boolean nan = trial % 8 >= 6; // a quarter of each kind's vectors: NaN lanes of both signs
      if (nan) {
        for (int k = 1 + rnd.nextInt(3); k > 0; k--) {
          int payload = 0x7f800001 + rnd.nextInt(0x7fffff);
          v[rnd.nextInt(lanes)] = Float.intBitsToFloat(rnd.nextBoolean() ? payload
              : payload | 0x80000000);
        }
      }
      float keyMax = Vec.keyMax(v);
      float jdkMax = Vec.floatMax(v);
      if (nan) {
        assertTrue(Float.isNaN(keyMax) && Float.isNaN(jdkMax),
            () -> "max of " + java.util.Arrays.toString(v) + ": keys " + keyMax
                + ", reduceLanes " + jdkMax);
        continue;
      }
      assertEquals(Float.floatToRawIntBits(jdkMax), Float.floatToRawIntBits(keyMax),
          () -> "max of " + java.util.Arrays.toString(v) + ": keys " + keyMax + ", reduceLanes "
              + jdkMax);
    }
  }

  /**
   * All Vector API use of this test, so that the class loads (and its test is skipped, saying
   * why) in a JVM without the vector module.
   */
  static final class Vec {
    /** The max of v's first L floats as the kernel takes a row's: {@link Passes#maxOfKeys}. */
    static float keyMax(float[] v) {
      jdk.incubator.vector.IntVector bits =
          jdk.incubator.vector.FloatVector.fromArray(Passes.S, v, 0).reinterpretAsInts();
      return Passes.maxOfKeys(bits.lanewise(XOR, bits.lanewise(ASHR, 31)
          .lanewise(AND, Passes.KEY_FLIP)).blend(Passes.KEY_NAN, bits.lanewise(AND, Passes.KEY_FLIP)
          .compare(GT, Passes.INF_BITS)).reduceLanes(MAX));
    }

    /** The JDK's max of v's first L floats. */
    static float floatMax(float[] v) {
      return jdk.incubator.vector.FloatVector.fromArray(Passes.S, v, 0).reduceLanes(MAX);
    }

    private static final jdk.incubator.vector.VectorOperators.Binary XOR =
        jdk.incubator.vector.VectorOperators.XOR;
    private static final jdk.incubator.vector.VectorOperators.Binary AND =
        jdk.incubator.vector.VectorOperators.AND;
    private static final jdk.incubator.vector.VectorOperators.Binary ASHR =
        jdk.incubator.vector.VectorOperators.ASHR;
    private static final jdk.incubator.vector.VectorOperators.Associative MAX =
        jdk.incubator.vector.VectorOperators.MAX;
    private static final jdk.incubator.vector.VectorOperators.Comparison GT =
        jdk.incubator.vector.VectorOperators.GT;
  }
}
