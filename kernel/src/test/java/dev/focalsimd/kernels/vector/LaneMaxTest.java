package dev.focalsimd.kernels.vector;

import static jdk.incubator.vector.VectorOperators.AND;
import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.MAX;
import static jdk.incubator.vector.VectorOperators.XOR;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The rows' maxima as the softmax passes take them, the integer max of order-preserving keys
 * ({@link Passes#maxOfKeys}), give the bits of the JDK's {@code FloatVector.reduceLanes(MAX)} on
 * every vector without NaN: zeros of both signs, subnormals, infinities, the extremes and random
 * floats of every binade, in every lane arrangement tried.
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
        } else if (kind == 2) { // all negative: the flipped keys decide
          v[i] = -Math.abs(Float.intBitsToFloat(rnd.nextInt() & 0x7f7fffff));
        } else { // logits near each other, a few of them equal
          v[i] = (float) rnd.nextInt(-3, 3) * 0.25f;
        }
      }
      FloatVector x = FloatVector.fromArray(Passes.S, v, 0);
      IntVector bits = x.reinterpretAsInts();
      float keyMax = Passes.maxOfKeys(bits.lanewise(XOR, bits.lanewise(ASHR, 31)
          .lanewise(AND, Passes.KEY_FLIP)).reduceLanes(MAX));
      float jdkMax = x.reduceLanes(MAX);
      assertEquals(Float.floatToRawIntBits(jdkMax), Float.floatToRawIntBits(keyMax),
          () -> "max of " + java.util.Arrays.toString(v) + ": keys " + keyMax + ", reduceLanes "
              + jdkMax);
    }
  }
}
