package dev.focalsimd.kernels.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Accuracy of {@link VectorMath} against {@link Math} evaluated in {@code double}.
 *
 * <p>Error unit: {@link Math#ulp(float)} of the reference rounded to float (for subnormal results
 * that is {@link Float#MIN_VALUE}, an absolute bound). The error is taken against the unrounded
 * double reference, so a correctly rounded result scores at most 0.5.
 *
 * <p>Ranges are swept at every {@value #DEFAULT_STRIDE}th float bit pattern plus exhaustive
 * sub-ranges; {@code -Dvectormath.exhaustive=true} sweeps every float of every range instead
 * (minutes).
 *
 * <p>All Vector API code sits in the nested class {@link Vec}, so that this class still loads (and
 * its tests are skipped) when {@code jdk.incubator.vector} is not in the boot layer. The vector
 * calls use only the preferred species: mixing species in one JVM pollutes the profiles of the
 * shared Vector API code and makes C2 box vectors in later tests, so the all-species check runs in
 * a child JVM.
 */
class VectorMathTest {

  // The bounds asserted here are the ones stated in VectorMath's javadoc.
  static final double MAX_ULP_LOG = 1.0;
  static final double MAX_ULP_EXP = 1.0;
  static final double MAX_ULP_EXPM1 = 1.5;
  static final double MAX_ULP_LOG1P = 1.0;
  static final double MAX_ULP_SOFTPLUS = 2.0;
  static final double MAX_ULP_LOG1P_QUOTIENT = 1.0;
  /** Results that are subnormal: absolute error in units of Float.MIN_VALUE. */
  static final double MAX_SUBNORMAL_ERROR = 1.0;

  /** Chunk size; a multiple of every species length (up to 2048 bits). */
  static final int CHUNK = 1 << 16;

  static final int DEFAULT_STRIDE = 64;
  static final boolean EXHAUSTIVE = Boolean.getBoolean("vectormath.exhaustive");
  static final int STRIDE = EXHAUSTIVE ? 1 : DEFAULT_STRIDE;

  @BeforeAll
  static void requireVectorModule() {
    assumeTrue(
        ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
        "jdk.incubator.vector is not in the boot layer");
  }

  // ---- error measurement

  /** Error of {@code got} against the exact {@code ref}, in ulps of {@code (float) ref}. */
  static double ulpError(float got, double ref) {
    float rf = (float) ref;
    if (Float.isNaN(got) || Double.isNaN(ref)) {
      return Float.isNaN(got) && Double.isNaN(ref) ? 0 : Double.POSITIVE_INFINITY;
    }
    if (got == rf && Float.isInfinite(rf)) {
      return 0;
    }
    // Past the float range, count infinity as 2^128, one ulp above the largest binade's end.
    double g = Float.isInfinite(got) ? Math.copySign(0x1p128, got) : got;
    double r = Double.isInfinite(ref) ? Math.copySign(0x1p128, ref) : ref;
    double ulp = Float.isInfinite(rf) ? Math.ulp(Float.MAX_VALUE) : Math.ulp(rf);
    return Math.abs(g - r) / ulp;
  }

  /** A vector function applied to a whole array (whose length is a multiple of the species'). */
  interface ArrayOp {
    void apply(float[] in, float[] out);
  }

  /** Runs the vector op chunk by chunk over the inputs added, keeping the worst error. */
  static final class Sweep {
    final String name;
    final ArrayOp op;
    final DoubleUnaryOperator ref;
    final float[] in = new float[CHUNK];
    final float[] out = new float[CHUNK];
    int n;
    long count;
    double maxUlp;
    float worstX = Float.NaN;
    float worstGot = Float.NaN;
    double maxSubnormal; // worst error where the float reference is subnormal or zero
    float worstSubX = Float.NaN;

    Sweep(String name, ArrayOp op, DoubleUnaryOperator ref) {
      this.name = name;
      this.op = op;
      this.ref = ref;
    }

    void add(float x) {
      in[n++] = x;
      if (n == CHUNK) {
        flush();
      }
    }

    /** Every stride-th float bit pattern in [loBits, hiBits] (one sign). */
    void bits(int loBits, int hiBits, int stride) {
      for (long b = loBits; b <= hiBits; b += stride) {
        add(Float.intBitsToFloat((int) b));
      }
    }

    /** Every stride-th float bit pattern of each sign in [lo, hi], and both ends. */
    void range(float lo, float hi, int stride) {
      if (lo < 0) {
        float negEnd = hi < 0 ? -hi : 0f;
        bits(
            Float.floatToRawIntBits(negEnd) | 0x80000000,
            Float.floatToRawIntBits(-lo) | 0x80000000,
            stride);
      }
      if (hi >= 0) {
        bits(Float.floatToRawIntBits(Math.max(lo, 0f)), Float.floatToRawIntBits(hi), stride);
      }
      add(lo);
      add(hi);
    }

    void flush() {
      if (n == 0) {
        return;
      }
      int len = n;
      Arrays.fill(in, len, CHUNK, 1f); // pad to whole vectors
      op.apply(in, out);
      for (int i = 0; i < len; i++) {
        float x = in[i];
        float got = out[i];
        double r = ref.applyAsDouble(x);
        double err = ulpError(got, r);
        if (!(err <= maxUlp)) {
          maxUlp = err;
          worstX = x;
          worstGot = got;
        }
        if (Math.abs((float) r) < Float.MIN_NORMAL && !(err <= maxSubnormal)) {
          maxSubnormal = err;
          worstSubX = x;
        }
      }
      count += len;
      n = 0;
    }

    Sweep finish() {
      flush();
      System.out.printf(
          "VectorMath.%s: %d inputs, max error %.4f ulp at x=%s (%a: got %s, ref %s);"
              + " subnormal/zero results: max %.4f MIN_VALUE at x=%s%n",
          name,
          count,
          maxUlp,
          worstX,
          worstX,
          worstGot,
          ref.applyAsDouble(worstX),
          maxSubnormal,
          worstSubX);
      return this;
    }

    void assertBounds(double ulpBound) {
      assertTrue(
          maxUlp <= ulpBound,
          () ->
              String.format(
                  "%s: max error %.4f ulp > %.2f at x=%s (%a): got %s, ref %s",
                  name, maxUlp, ulpBound, worstX, worstX, worstGot, ref.applyAsDouble(worstX)));
      assertTrue(
          maxSubnormal <= MAX_SUBNORMAL_ERROR,
          () ->
              String.format(
                  "%s: subnormal result off by %.4f MIN_VALUE at x=%s",
                  name, maxSubnormal, worstSubX));
    }
  }

  static double softplusRef(double x) {
    return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
  }

  // ---- sweeps

  @Test
  void logAccuracy() {
    Sweep s = new Sweep("log", Vec::log, Math::log);
    if (EXHAUSTIVE) {
      s.bits(1, 0x7f7fffff, 1); // every positive finite float
    } else {
      // Every float in [0.5, 2].
      s.bits(Float.floatToRawIntBits(0.5f), Float.floatToRawIntBits(2f), 1);
      // 2^16 mantissas in every binade, subnormals (exponent field 0) included.
      for (int e = 0; e <= 254; e++) {
        for (int j = 0; j < 1 << 16; j++) {
          int mant = (j << 7) | ((j * 37) & 0x7f);
          if (e != 0 || mant != 0) {
            s.add(Float.intBitsToFloat((e << 23) | mant));
          }
        }
      }
    }
    s.finish().assertBounds(MAX_ULP_LOG);
  }

  /** logNormal is log without the special lanes: the same bits on every positive normal float. */
  @Test
  void logNormalMatchesLogOnNormalFloats() {
    float[] in = new float[CHUNK];
    float[] a = new float[CHUNK];
    float[] b = new float[CHUNK];
    int n = 0;
    for (long bits = Float.floatToRawIntBits(Float.MIN_NORMAL); bits <= 0x7f7fffffL; bits += 997) {
      in[n++] = Float.intBitsToFloat((int) bits);
      if (n == CHUNK || bits + 997 > 0x7f7fffffL) {
        java.util.Arrays.fill(in, n, CHUNK, 1f);
        Vec.log(in, a);
        Vec.logNormal(in, b);
        for (int i = 0; i < n; i++) {
          if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
            fail("logNormal(" + in[i] + ") = " + b[i] + ", log gives " + a[i]);
          }
        }
        n = 0;
      }
    }
  }

  @Test
  void expAccuracy() {
    Sweep s = new Sweep("exp", Vec::exp, Math::exp);
    s.range(-104f, 89f, STRIDE);
    if (!EXHAUSTIVE) {
      // Every float across the underflow and overflow thresholds.
      s.range(-104f, -103.9f, 1);
      s.range(-87.5f, -87.2f, 1);
      s.range(88.6f, 88.8f, 1);
    }
    s.finish().assertBounds(MAX_ULP_EXP);
  }

  /**
   * expNoOverflow gives exp's bits wherever it is defined: every STRIDE-th float from 0 to 88.72
   * and from -0 through -Infinity to the negative NaNs.
   */
  @Test
  void expNoOverflowIsExpBelowOverflow() {
    float[] in = new float[CHUNK];
    float[] want = new float[CHUNK];
    float[] got = new float[CHUNK];
    long top = Float.floatToRawIntBits(88.72f);
    long checked = 0;
    int n = 0;
    for (long b = 0; b <= 0xffff_ffffL; b += b == top - top % STRIDE ? 0x8000_0000L - b : STRIDE) {
      in[n++] = Float.intBitsToFloat((int) b);
      if (n == CHUNK) {
        checked += sameBits(in, want, got, n);
        n = 0;
      }
    }
    checked += sameBits(in, want, got, n);
    assertTrue(checked > 0x8000_0000L / STRIDE, "sampled " + checked);
  }

  /**
   * expNegAbs(x) is exp(-|x|), and expNonPositive(x) is exp(x) for every x <= 0, bit for bit (NaN:
   * 0 and NaN), over every STRIDE-th bit pattern of both signs (NaNs, infinities, zeros, subnormals
   * included) and every float around the clamp at -104 and around 0, of both signs. Softmax takes
   * its exp(z - max) from expNonPositive.
   */
  @Test
  void expNegAbsIsExpOfMinusAbsAndExpNonPositiveIsExp() {
    float[] in = new float[CHUNK];
    int n = 0;
    long checked = 0;
    for (long b = 0; b <= 0xffff_ffffL; b += STRIDE) {
      in[n++] = Float.intBitsToFloat((int) b);
      if (n == CHUNK) {
        checked += sameAsExpOfMinusAbs(in, n);
        n = 0;
      }
    }
    checked += sameAsExpOfMinusAbs(in, n);
    n = 0;
    for (int d = 0; d < CHUNK / 4 - 1; d++) {
      for (int bits : new int[] {Float.floatToRawIntBits(104f) - CHUNK / 8 + d, d}) {
        in[n++] = Float.intBitsToFloat(bits);
        in[n++] = -Float.intBitsToFloat(bits);
      }
    }
    in[n++] = Float.POSITIVE_INFINITY;
    in[n++] = Float.NEGATIVE_INFINITY;
    checked += sameAsExpOfMinusAbs(in, n);
    assertTrue(checked > 0x1_0000_0000L / STRIDE, "checked " + checked);
  }

  /**
   * Asserts, for in[0, n), expNegAbs(x) is exp(-|x|) bit for bit (0 for NaN), and for x <= 0
   * (either zero) expNonPositive(x) is the same bits (NaN for NaN of either sign); returns n.
   */
  private static int sameAsExpOfMinusAbs(float[] in, int n) {
    java.util.Arrays.fill(in, n, CHUNK, 0f);
    float[] negAbs = new float[CHUNK];
    for (int i = 0; i < CHUNK; i++) {
      negAbs[i] = -Math.abs(in[i]);
    }
    float[] want = new float[CHUNK];
    float[] got = new float[CHUNK];
    float[] nonPositive = new float[CHUNK];
    Vec.exp(negAbs, want);
    Vec.expNegAbs(in, got);
    Vec.expNonPositive(in, nonPositive);
    for (int i = 0; i < n; i++) {
      float x = in[i];
      float g = got[i];
      int expected = Float.isNaN(x) ? 0 : Float.floatToRawIntBits(want[i]);
      assertEquals(expected, Float.floatToRawIntBits(g), () -> "expNegAbs(" + x + ") = " + g);
      float e = nonPositive[i];
      if (Float.isNaN(x)) {
        assertTrue(Float.isNaN(e), () -> "expNonPositive(" + x + ") = " + e);
      } else if (x <= 0f) {
        assertEquals(expected, Float.floatToRawIntBits(e),
            () -> "expNonPositive(" + x + ") = " + e);
      }
    }
    return n;
  }

  private static int sameBits(float[] in, float[] want, float[] got, int n) {
    java.util.Arrays.fill(in, n, CHUNK, 0f);
    Vec.exp(in, want);
    Vec.expNoOverflow(in, got);
    for (int i = 0; i < n; i++) {
      float x = in[i];
      assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
          () -> "expNoOverflow(" + x + ") differs from exp");
    }
    return n;
  }

  @Test
  void expm1Accuracy() {
    Sweep s = new Sweep("expm1", Vec::expm1, Math::expm1);
    s.range(-104f, 89f, STRIDE);
    if (!EXHAUSTIVE) {
      // Every float around the reduction boundaries |x| = ln2/2 (k = 0 / +-1) and the overflow.
      s.range(0.33f, 0.36f, 1);
      s.range(-0.36f, -0.33f, 1);
      s.range(88.6f, 88.8f, 1);
    }
    s.finish().assertBounds(MAX_ULP_EXPM1);
  }

  @Test
  void log1pAccuracy() {
    Sweep s = new Sweep("log1p", Vec::log1p, Math::log1p);
    s.range(-1f, 1e6f, STRIDE);
    s.range(1e6f, Float.MAX_VALUE, EXHAUSTIVE ? 1 : 4096);
    if (!EXHAUSTIVE) {
      // Every float just above -1 and around the split points u = sqrt(1/2), sqrt(2).
      s.bits(Float.floatToRawIntBits(-1f) - (1 << 16), Float.floatToRawIntBits(-1f) - 1, 1);
      s.range(-0.3f, -0.29f, 1);
      s.range(0.41f, 0.42f, 1);
    }
    s.finish().assertBounds(MAX_ULP_LOG1P);
  }

  @Test
  void log1pQuotientAccuracy() {
    // x = e in [0, 1], every float with EXHAUSTIVE, else every STRIDE-th; the function gets s =
    // e / (2 + e) computed as the sigmoid kernel computes it (Vec.quotient)
    Sweep s = new Sweep("log1pQuotient", Vec::log1pQuotient, Math::log1p);
    s.range(0f, 1f, STRIDE);
    if (!EXHAUSTIVE) {
      s.range(0.99f, 1f, 1);
      s.bits(0, 1 << 16, 1); // subnormal and tiny e: the result is e
    }
    s.finish().assertBounds(MAX_ULP_LOG1P_QUOTIENT);
  }

  @Test
  void softplusAccuracy() {
    Sweep s = new Sweep("softplus", Vec::softplus, VectorMathTest::softplusRef);
    s.range(-200f, 200f, EXHAUSTIVE ? 1 : 4 * DEFAULT_STRIDE);
    if (!EXHAUSTIVE) {
      s.range(-2f, -0.5f, 16);
      s.range(0.5f, 2f, 16);
    }
    s.finish().assertBounds(MAX_ULP_SOFTPLUS);
  }

  // ---- special values

  static final float NAN = Float.NaN;
  static final float INF = Float.POSITIVE_INFINITY;
  static final float MIN = Float.MIN_VALUE;
  static final float MAX = Float.MAX_VALUE;

  /** Applies op to the given values (padded to whole vectors) and returns the results. */
  static float[] apply(ArrayOp op, float... xs) {
    int len = (xs.length + 63) / 64 * 64; // a multiple of every species length (up to 2048 bits)
    float[] out = new float[len];
    op.apply(Arrays.copyOf(xs, len), out);
    return Arrays.copyOf(out, xs.length);
  }

  /** Exact comparison, including the sign of zero; any NaN matches NaN. */
  static void assertSpecials(String name, ArrayOp op, float[] xs, float[] expected) {
    float[] got = apply(op, xs);
    for (int i = 0; i < xs.length; i++) {
      boolean ok =
          Float.isNaN(expected[i])
              ? Float.isNaN(got[i])
              : Float.floatToIntBits(expected[i]) == Float.floatToIntBits(got[i]);
      if (!ok) {
        fail(String.format("%s(%s) = %s, expected %s", name, xs[i], got[i], expected[i]));
      }
    }
  }

  /** Each result within {@code bound} ulps of the reference. */
  static void assertClose(
      String name, ArrayOp op, DoubleUnaryOperator ref, double bound, float... xs) {
    float[] got = apply(op, xs);
    for (int i = 0; i < xs.length; i++) {
      double err = ulpError(got[i], ref.applyAsDouble(xs[i]));
      assertTrue(err <= bound, name + "(" + xs[i] + ") = " + got[i] + ", " + err + " ulp");
    }
  }

  @Test
  void logSpecials() {
    assertSpecials(
        "log",
        Vec::log,
        new float[] {0f, -0f, INF, -INF, NAN, -1f, -MIN, -MAX, 1f},
        new float[] {-INF, -INF, INF, NAN, NAN, NAN, NAN, NAN, 0f});
    assertClose(
        "log",
        Vec::log,
        Math::log,
        MAX_ULP_LOG,
        MIN,
        2 * MIN,
        Float.MIN_NORMAL,
        Math.nextDown(Float.MIN_NORMAL),
        MAX,
        Math.nextUp(1f),
        Math.nextDown(1f));
  }

  @Test
  void expSpecials() {
    assertSpecials(
        "exp",
        Vec::exp,
        new float[] {
          0f, -0f, -INF, INF, NAN, -104f, -103.98f, -1000f, -MAX, 88.73f, 89f, 1000f, MAX
        },
        new float[] {1f, 1f, 0f, INF, NAN, 0f, 0f, 0f, 0f, INF, INF, INF, INF});
    // Largest finite result, and subnormal results down to MIN_VALUE.
    assertClose("exp", Vec::exp, Math::exp, MAX_ULP_EXP, 88.72f, 88.7228f, -87.34f, -100f);
    float[] got = apply(Vec::exp, -103.27893f, -103.9f, -88f);
    assertEquals(MIN, got[0], "exp(log(MIN_VALUE))");
    assertEquals(MIN, got[1], "exp(-103.9)");
    assertEquals((float) Math.exp(-88), got[2], MIN, "exp(-88)");
  }

  @Test
  void expm1Specials() {
    assertSpecials(
        "expm1",
        Vec::expm1,
        new float[] {
          0f, -0f, -INF, INF, NAN, -30f, -1000f, -MAX, 89f, 1000f, MAX, MIN, -MIN, 1e-10f, -1e-10f,
          1e-30f, Float.MIN_NORMAL
        },
        new float[] {
          0f, -0f, -1f, INF, NAN, -1f, -1f, -1f, INF, INF, INF, MIN, -MIN, 1e-10f, -1e-10f, 1e-30f,
          Float.MIN_NORMAL
        });
    assertClose("expm1", Vec::expm1, Math::expm1, MAX_ULP_EXPM1, 88.72f, -17f, 1e-7f, -1e-7f);
  }

  @Test
  void log1pSpecials() {
    assertSpecials(
        "log1p",
        Vec::log1p,
        new float[] {
          -1f, -1.5f, -INF, -MAX, NAN, INF, 0f, -0f, MIN, -MIN, 1e-10f, -1e-10f, 1e-30f, -1e-30f,
          Float.MIN_NORMAL
        },
        new float[] {
          -INF, NAN, NAN, NAN, NAN, INF, 0f, -0f, MIN, -MIN, 1e-10f, -1e-10f, 1e-30f, -1e-30f,
          Float.MIN_NORMAL
        });
    assertClose(
        "log1p",
        Vec::log1p,
        Math::log1p,
        MAX_ULP_LOG1P,
        MAX,
        Math.nextUp(-1f),
        1e-8f,
        -1e-8f,
        1e-7f,
        -1e-7f);
  }

  @Test
  void softplusSpecials() {
    float ln2 = (float) Math.log(2);
    assertSpecials(
        "softplus",
        Vec::softplus,
        new float[] {-INF, INF, NAN, 200f, -200f, MAX, -MAX, 0f, -0f},
        new float[] {0f, INF, NAN, 200f, 0f, MAX, 0f, ln2, ln2});
    assertEquals((float) Math.exp(-90), apply(Vec::softplus, -90f)[0], MIN, "softplus(-90)");
  }

  // ---- species genericity

  /**
   * Every species gives bit-identical results to the preferred one (all operations are exact
   * IEEE operations), run in a child JVM, see the class comment.
   */
  @Test
  void allSpeciesAgree() throws IOException, InterruptedException {
    Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
    Process p =
        new ProcessBuilder(
                java.toString(),
                "--add-modules=jdk.incubator.vector",
                "-cp",
                System.getProperty("java.class.path"),
                SpeciesCheck.class.getName())
            .redirectErrorStream(true)
            .start();
    String output;
    try (var in = p.getInputStream()) {
      output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM timed out");
    assertEquals(0, p.exitValue(), output);
    assertTrue(output.contains(SpeciesCheck.OK), output);
  }

  /** Main class of the child JVM of {@link #allSpeciesAgree}. */
  static final class SpeciesCheck {
    static final String OK = "all species agree";

    public static void main(String[] args) {
      float[] xs = new float[1 << 10];
      java.util.SplittableRandom rnd = new java.util.SplittableRandom(42);
      for (int i = 0; i < xs.length; i++) {
        xs[i] =
            switch (i % 4) {
              case 0 -> Float.intBitsToFloat(rnd.nextInt()); // anything: NaN, infinities, ...
              case 1 -> (float) rnd.nextDouble(-110, 110);
              case 2 -> (float) rnd.nextDouble(-1, 2);
              default -> (float) Math.scalb(rnd.nextDouble(), -rnd.nextInt(150));
            };
      }
      List<String> bad = Vec.speciesMismatches(xs);
      bad.stream().limit(20).forEach(System.out::println);
      System.out.println(bad.isEmpty() ? OK : bad.size() + " mismatches");
      System.exit(bad.isEmpty() ? 0 : 1);
    }
  }

  /** All Vector API use of this test (see the class comment). */
  static final class Vec {
    static final jdk.incubator.vector.VectorSpecies<Float> S =
        jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;

    static jdk.incubator.vector.FloatVector load(float[] a, int i) {
      return jdk.incubator.vector.FloatVector.fromArray(S, a, i);
    }

    // One monomorphic loop per function, so C2 compiles each with the VectorMath call inlined.

    static void log(float[] in, float[] out) {
      for (int i = 0; i < in.length; i += S.length()) {
        VectorMath.log(load(in, i)).intoArray(out, i);
      }
    }

    static void logNormal(float[] in, float[] out) {
      for (int i = 0; i < in.length; i += S.length()) {
        VectorMath.logNormal(load(in, i)).intoArray(out, i);
      }
    }

    static void exp(float[] in, float[] out) {
      for (int i = 0; i < in.length; i += S.length()) {
        VectorMath.exp(load(in, i)).intoArray(out, i);
      }
    }

    static void expNoOverflow(float[] in, float[] out) {
      for (int i = 0; i < in.length; i += S.length()) {
        VectorMath.expNoOverflow(load(in, i)).intoArray(out, i);
      }
    }

    static void expNegAbs(float[] in, float[] out) {
      for (int i = 0; i < in.length; i += S.length()) {
        VectorMath.expNegAbs(load(in, i)).intoArray(out, i);
      }
    }

    static void expNonPositive(float[] in, float[] out) {
      for (int i = 0; i < in.length; i += S.length()) {
        VectorMath.expNonPositive(load(in, i)).intoArray(out, i);
      }
    }

    static void log1p(float[] in, float[] out) {
      for (int i = 0; i < in.length; i += S.length()) {
        VectorMath.log1p(load(in, i)).intoArray(out, i);
      }
    }

    static void expm1(float[] in, float[] out) {
      for (int i = 0; i < in.length; i += S.length()) {
        VectorMath.expm1(load(in, i)).intoArray(out, i);
      }
    }

    static void log1pQuotient(float[] in, float[] out) {
      for (int i = 0; i < in.length; i += S.length()) {
        jdk.incubator.vector.FloatVector e = load(in, i);
        VectorMath.log1pQuotient(e, quotient(e)).intoArray(out, i);
      }
    }

    /** e / (2 + e) as the sigmoid kernel gets it: e (1 + e) / ((1 + e)(2 + e)), 4 roundings. */
    static jdk.incubator.vector.FloatVector quotient(jdk.incubator.vector.FloatVector e) {
      jdk.incubator.vector.FloatVector w1 = e.add(1f);
      return e.mul(w1).mul(w1.broadcast(1f).div(w1.mul(e.add(2f))));
    }

    static void softplus(float[] in, float[] out) {
      for (int i = 0; i < in.length; i += S.length()) {
        VectorMath.softplus(load(in, i)).intoArray(out, i);
      }
    }

    /** Results with every float species that differ from the preferred species' results. */
    static List<String> speciesMismatches(float[] xs) {
      List<jdk.incubator.vector.VectorSpecies<Float>> all =
          List.of(
              jdk.incubator.vector.FloatVector.SPECIES_64,
              jdk.incubator.vector.FloatVector.SPECIES_128,
              jdk.incubator.vector.FloatVector.SPECIES_256,
              jdk.incubator.vector.FloatVector.SPECIES_512,
              jdk.incubator.vector.FloatVector.SPECIES_MAX);
      List<String> names =
          List.of("log", "exp", "log1p", "expm1", "softplus", "log1pQuotient", "expNegAbs",
              "expNonPositive");
      List<java.util.function.UnaryOperator<jdk.incubator.vector.FloatVector>> fns =
          List.of(
              VectorMath::log,
              VectorMath::exp,
              VectorMath::log1p,
              VectorMath::expm1,
              VectorMath::softplus,
              v -> VectorMath.log1pQuotient(v, quotient(v)),
              VectorMath::expNegAbs,
              VectorMath::expNonPositive);
      List<String> bad = new java.util.ArrayList<>();
      for (int f = 0; f < fns.size(); f++) {
        float[] want = run(S, fns.get(f), xs);
        for (jdk.incubator.vector.VectorSpecies<Float> sp : all) {
          float[] got = run(sp, fns.get(f), xs);
          for (int i = 0; i < xs.length; i++) {
            if (Float.floatToIntBits(got[i]) != Float.floatToIntBits(want[i])) {
              bad.add(
                  String.format(
                      "%s(%s): %s gives %s, %s gives %s", names.get(f), xs[i], sp, got[i], S,
                      want[i]));
            }
          }
        }
      }
      return bad;
    }

    static float[] run(
        jdk.incubator.vector.VectorSpecies<Float> sp,
        java.util.function.UnaryOperator<jdk.incubator.vector.FloatVector> fn,
        float[] xs) {
      float[] out = new float[xs.length];
      for (int i = 0; i < xs.length; i += sp.length()) {
        fn.apply(jdk.incubator.vector.FloatVector.fromArray(sp, xs, i)).intoArray(out, i);
      }
      return out;
    }
  }
}
