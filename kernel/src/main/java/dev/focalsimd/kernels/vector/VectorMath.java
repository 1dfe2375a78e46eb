package dev.focalsimd.kernels.vector;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.EQ;
import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LT;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;

/**
 * Branch-free, species-generic elementary functions on {@link FloatVector}: lane-wise arithmetic,
 * integer bit operations and {@code compare}/{@code blend} only.
 *
 * <p>{@code VectorOperators.LOG}, {@code EXP}, {@code LOG1P} and {@code EXPM1} are not used: on
 * many CPUs they fall back to per-lane scalar code. Constants are {@code static final} scalars;
 * vectors are built from the argument's own species.
 *
 * <h2>Algorithms</h2>
 *
 * <ul>
 *   <li>{@link #log}: positive subnormals are first scaled by 2<sup>23</sup>. The bits minus
 *       those of &radic;&frac12;, then a shift and a mask, split them into {@code x = 2^k * m}
 *       ({@code k} the signed high bits) with {@code m} in
 *       [&radic;&frac12;, &radic;2); with {@code f = m - 1} (exact) and {@code s = f / (2 + f)},
 *       {@code log(m) = 2 atanh(s) = f - s (f - R(s^2))}, {@code R} the degree-4 minimax
 *       polynomial of fdlibm's {@code logf} (FreeBSD {@code k_logf.h}); {@code k ln2} is added in
 *       two parts ({@code 355/512}, exact in {@code k * 355/512}, plus a correction). One
 *       division and eight multiplications or {@code fma}s, against the fourteen of Cephes's
 *       degree-8 polynomial in {@code f} (still used by {@link #log1p}).
 *   <li>{@link #exp}: {@code k = round(x / ln2)} by adding 1.5&middot;2<sup>23</sup>; {@code r = x
 *       - k ln2} with a two-constant (Cody-Waite) ln2, the first product exact in an {@code fma};
 *       {@code expm1(r) = r + r^2 Q(r)}, {@code Q} a degree-4 polynomial, minimax for the
 *       relative error of {@code exp(r)} on [-ln2/2, ln2/2] (this project's fit, {@code
 *       docs/exp-minimax.py}: 3.1e-9 before its coefficients were rounded to float; Cephes
 *       {@code expf}'s degree 5 is more than float needs), with the low part of {@code r} kept
 *       in the small term; the result is {@code fma(expm1(r), 2^k1, 2^k1) * 2^k2}, {@code k1 +
 *       k2 = k}, the powers of two built with integer shifts. The split keeps both factors
 *       normal, so subnormal results and overflow to +&infin; come out right, and normal results
 *       are rounded once.
 *   <li>{@link #expm1}: the same reduction and polynomial, then {@code 2 * (h (r + r^2 Q) + (h -
 *       1/2))} with {@code h = 2^(k-1)}, which is {@code 2^k exp(r) - 1} with {@code h}
 *       representable up to the overflow threshold; {@code |x| < 2^-25} returns {@code x}.
 *   <li>{@link #expNegAbs}: {@code exp(-|x|)} with {@code -|x|} and the clamp at -104 as integer
 *       operations on the bits (the sign bit set, then a signed min), then as {@link #exp} but
 *       scaled by {@code 2^(k + 64)} (normal for every {@code k} in [-150, 0]) and then by {@code
 *       2^-64}: the same bits as {@link #exp}'s two-factor scaling, in four operations instead of
 *       nine; NaN gives 0. {@link #expNonPositive}: the same for {@code x <= 0}, the clamp by
 *       compare and blend instead (NaN gives NaN).
 *   <li>{@link #log1p}: {@code u = 1 + x} rounded, {@code c = x - (u - 1)} its exact rounding
 *       error, {@code log1p(x) = log(u) + c/u}, {@code log(u)} reduced as in {@link #log} and
 *       then {@code log(1 + f) = f - f^2/2 + f^3 P(f)}, {@code P} the degree-8 minimax polynomial
 *       of Cephes {@code logf}.
 *   <li>{@link #log1pQuotient}: {@code log1p(e)} for {@code e} in [0, 1] as {@code 2
 *       atanh(e / (2 + e))}, the series in {@code s^2 <= 1/9} to {@code s^13}, given the quotient
 *       {@code s} (the caller's division), corrected to first order for its rounding.
 *   <li>{@link #softplus}: {@code max(x, 0) + log1p(e)}, {@code e = exp(-|x|)} by {@link #exp},
 *       and {@code log1p} specialized to [0, 1]: {@code 1 + e = 2^j (1 + f)} with {@code j} 0 or 1,
 *       {@code f = e} exactly for {@code j = 0}, else {@code f = u/2 - 1} for {@code u = 1 + e}
 *       rounded, plus the rounding error of {@code u} as a first-order correction.
 * </ul>
 *
 * <h2>Measured accuracy</h2>
 *
 * Error against {@link Math#log}, {@link Math#exp}, {@link Math#log1p}, {@link Math#expm1}
 * evaluated in {@code double}, in units of {@link Math#ulp(float)} of the reference rounded to
 * float; for subnormal results that unit is {@link Float#MIN_VALUE}, an absolute bound. Maxima over
 * every float of the range ({@code VectorMathTest} with {@code -Dvectormath.exhaustive=true}, JDK
 * 17, 512-bit species); the default test run sweeps every 64th float of the same ranges plus
 * exhaustive sub-ranges and asserts the bound in brackets:
 *
 * <ul>
 *   <li>{@code log}: 0.94 ulp [1] over every positive float, subnormals included;
 *   <li>{@code exp}: 0.88 ulp [1] over [-104, 89]; subnormal results within 0.75 MIN_VALUE;
 *   <li>{@code expm1}: 1.20 ulp [1.5] over [-104, 89];
 *   <li>{@code log1p}: 0.85 ulp [1] over (-1, MAX_VALUE];
 *   <li>{@code log1pQuotient}: 0.89 ulp [1] over [0, 1], with {@code s} computed as the sigmoid
 *       kernel computes it (four roundings), against {@link Math#log1p};
 *   <li>{@code softplus}: 1.65 ulp [2] over [-200, 200], against {@code max(x, 0) +
 *       Math.log1p(Math.exp(-|x|))} in double; subnormal results within 0.75 MIN_VALUE.
 * </ul>
 *
 * Every operation is a correctly rounded IEEE operation ({@code fma} included) applied lane by
 * lane, so the results do not depend on the species (the test checks all of them bit for bit).
 *
 * <h2>Inlining</h2>
 *
 * Each method is a single method body under C2's {@code FreqInlineSize} of 325 bytecodes, or
 * ({@link #exp}, {@link #expNoOverflow}; {@link #expNegAbs}, {@link #expNonPositive}) a clamp
 * around one body, so a
 * hot call is inlined whole or not at all; {@link #softplus} calls {@link #exp} and a {@code
 * log1p} half. But the Vector API expands every
 * operation into hundreds of C2 nodes while parsing, and C2 stops inlining ordinary (not
 * JDK-internal {@code @ForceInline}) methods once a compilation holds about 18,000 nodes ({@code
 * NodeCountInliningCutoff}): one call of any of these functions uses up most of that, so in one
 * compiled loop only the first call (plus a few dozen other vector operations) is inlined; later
 * calls are real calls that box their vectors and allocate. Keep one call per compiled method. (A
 * call through a {@code static final MethodHandle} is inlined late, past the cutoff, but a vector
 * store whose value comes from it is then not intrinsified: it boxes too.)
 */
public final class VectorMath {

  private VectorMath() {}

  /** ln2 = LN2_HI + LN2_LO; LN2_HI = 355/512 has 9 significant bits, so k * LN2_HI is exact. */
  static final float LN2_HI = 0.693359375f;

  static final float LN2_LO = -2.12194440e-4f;

  // ---- log

  private static final float TWO_P23 = 8388608f;
  /** Bits of sqrt(1/2) rounded down: mantissas span [this, this + 0x7fffff]. */
  static final int SQRT_HALF_BITS = 0x3f3504f3;

  static final int MANT_MASK = 0x007fffff;
  private static final int EXP_BIAS = 127;

  // Cephes logf: log(1+f) = f - f^2/2 + f^3 P(f), f in [sqrt(1/2) - 1, sqrt(2) - 1).
  private static final float LP0 = 7.0376836292e-2f;
  private static final float LP1 = -1.1514610310e-1f;
  private static final float LP2 = 1.1676998740e-1f;
  private static final float LP3 = -1.2420140846e-1f;
  private static final float LP4 = 1.4249322787e-1f;
  private static final float LP5 = -1.6668057665e-1f;
  private static final float LP6 = 2.0000714765e-1f;
  private static final float LP7 = -2.4999993993e-1f;
  private static final float LP8 = 3.3333331174e-1f;

  // fdlibm (FreeBSD k_logf.h): (log(1+s) - log(1-s))/s = 2 + R(s^2), R(z) = z (LG1 + z (LG2 + z
  // (LG3 + z LG4))), minimax for |s| <= 0.1716, error below 2^-34.24.
  static final float LG1 = 0.66666662693f;
  static final float LG2 = 0.40000972152f;
  static final float LG3 = 0.28498786688f;
  static final float LG4 = 0.24279078841f;

  // ---- exp, expm1

  private static final float LOG2E = 1.44269504088896341f;
  /** 1.5 * 2^23: adding it rounds |v| < 2^22 to an integer, which lands in the low bits. */
  private static final float ROUND_MAGIC = 12582912f;

  private static final int ROUND_MAGIC_BITS = 0x4b400000;
  /** exp(x) rounds to 0 below about -103.97 and overflows above about 88.72. */
  private static final float EXP_LO = -104f;

  private static final float EXP_HI = 89f;
  /** expm1(x) rounds to -1 below about -17.33. */
  private static final float EXPM1_LO = -30f;
  /** Below this magnitude expm1(x) rounds to x. */
  private static final float EXPM1_TINY = 0x1p-25f;

  // exp(r) = 1 + r + r^2 Q(r), |r| <= ln2/2: Q of degree 4, minimax for the relative error of
  // exp(r) (docs/exp-minimax.py: Lawson's iteration in double, then rounded to float; 3.1e-9
  // relative before the rounding, 0.05 ulp). EQ0 is the highest power's coefficient.
  private static final float EQ0 = 1.3814540580e-3f;
  private static final float EQ1 = 8.3687454462e-3f;
  private static final float EQ2 = 4.1668388993e-2f;
  private static final float EQ3 = 1.6666521132e-1f;
  private static final float EQ4 = 4.9999994040e-1f;

  private static final float SQRT2 = 1.41421356f;

  /**
   * Natural logarithm, lane-wise. Max error 0.94 ulp (every positive float, subnormals included).
   *
   * <p>Domain: every float. {@code +0} and {@code -0} give {@code -Infinity}, {@code +Infinity}
   * gives {@code +Infinity}, negative inputs and NaN give NaN.
   */
  public static FloatVector log(FloatVector x) {
    VectorMask<Float> sub = x.compare(LT, Float.MIN_NORMAL);
    IntVector ix = x.blend(x.mul(TWO_P23), sub).reinterpretAsInts().sub(SQRT_HALF_BITS);
    FloatVector f = ix.and(MANT_MASK).add(SQRT_HALF_BITS).reinterpretAsFloats().sub(1f);
    FloatVector k =
        ((FloatVector) ix.lanewise(ASHR, 23).convert(I2F, 0))
            .sub(x.broadcast(0f).blend(23f, sub));
    FloatVector s = f.div(f.add(2f));
    FloatVector z = s.mul(s);
    FloatVector r =
        z.fma(LG4, LG3).fma(z, x.broadcast(LG2)).fma(z, x.broadcast(LG1)).mul(z);
    return k.fma(x.broadcast(LN2_HI), s.neg().fma(f.sub(r), k.fma(x.broadcast(LN2_LO), f)))
        .blend(Float.NEGATIVE_INFINITY, x.compare(EQ, 0f))
        .blend(Float.POSITIVE_INFINITY, x.compare(EQ, Float.POSITIVE_INFINITY))
        .blend(Float.NaN, x.compare(GE, 0f).not());
  }

  /**
   * {@link #log} for positive normal finite inputs only (the kernels' probabilities after the
   * clip, and 1 + e^-|x|): the same algorithm and the same bits there, without the lanes for
   * subnormals, zero, infinity and NaN, so about a quarter fewer operations. Other inputs give
   * unspecified results.
   */
  public static FloatVector logNormal(FloatVector x) {
    IntVector ix = x.reinterpretAsInts().sub(SQRT_HALF_BITS);
    FloatVector f = ix.and(MANT_MASK).add(SQRT_HALF_BITS).reinterpretAsFloats().sub(1f);
    FloatVector k = (FloatVector) ix.lanewise(ASHR, 23).convert(I2F, 0);
    FloatVector s = f.div(f.add(2f));
    FloatVector z = s.mul(s);
    FloatVector r =
        z.fma(LG4, LG3).fma(z, x.broadcast(LG2)).fma(z, x.broadcast(LG1)).mul(z);
    return k.fma(x.broadcast(LN2_HI), s.neg().fma(f.sub(r), k.fma(x.broadcast(LN2_LO), f)));
  }

  /**
   * {@code log(1 + x)}, lane-wise, accurate also for tiny |x|. Max error 0.85 ulp over
   * (-1, MAX_VALUE].
   *
   * <p>Domain: every float. {@code x = -1} gives {@code -Infinity}, {@code x < -1} and NaN give
   * NaN, {@code +Infinity} gives {@code +Infinity}; {@code ±0} and |x| below about 2^-25 give
   * {@code x}.
   */
  public static FloatVector log1p(FloatVector x) {
    FloatVector u = x.add(1f);
    IntVector ix = u.reinterpretAsInts().sub(SQRT_HALF_BITS);
    FloatVector f = ix.and(MANT_MASK).add(SQRT_HALF_BITS).reinterpretAsFloats().sub(1f);
    FloatVector k = (FloatVector) ix.lanewise(ASHR, 23).convert(I2F, 0);
    FloatVector z = f.mul(f);
    // 1 + x = u + c exactly, and log(u + c) = log(u) + c/u to far below an ulp.
    FloatVector y =
        f.fma(LP0, LP1)
            .fma(f, x.broadcast(LP2))
            .fma(f, x.broadcast(LP3))
            .fma(f, x.broadcast(LP4))
            .fma(f, x.broadcast(LP5))
            .fma(f, x.broadcast(LP6))
            .fma(f, x.broadcast(LP7))
            .fma(f, x.broadcast(LP8))
            .mul(f)
            .mul(z)
            .add(x.sub(u.sub(1f)).div(u));
    y = z.fma(x.broadcast(-0.5f), k.fma(x.broadcast(LN2_LO), y));
    return k.fma(x.broadcast(LN2_HI), f.add(y))
        .blend(Float.NEGATIVE_INFINITY, u.compare(EQ, 0f))
        .blend(Float.POSITIVE_INFINITY, u.compare(EQ, Float.POSITIVE_INFINITY))
        .blend(Float.NaN, u.compare(LT, 0f))
        .blend(x, x.compare(EQ, 0f)); // log1p(-0) = -0
  }

  /**
   * Exponential, lane-wise. Max error 0.88 ulp over [-104, 89] (0.75 MIN_VALUE for subnormal
   * results).
   *
   * <p>Domain: every float. {@code x <= -103.972...} and {@code -Infinity} give {@code 0}, results
   * between about -103.97 and -87.34 are subnormal, {@code x >= 88.7228...} gives {@code
   * +Infinity}, NaN gives NaN.
   */
  public static FloatVector exp(FloatVector x) {
    // compare and blend, not max/min: Java's max/min (NaN and -0 rules) cost several
    // instructions each on x86; a NaN compares false and passes through
    return expClamped(
        x.blend(EXP_LO, x.compare(LT, EXP_LO)).blend(EXP_HI, x.compare(GT, EXP_HI)));
  }

  /**
   * {@link #exp} for arguments that cannot overflow: the same value, bit for bit, for every
   * {@code x <= 88.72} and NaN (the softmax's {@code z - max} and the sigmoid's {@code -|x|}, which
   * are <= 0), without the upper clamp's compare and blend; above 88.72 the result is undefined.
   */
  public static FloatVector expNoOverflow(FloatVector x) {
    return expClamped(x.blend(EXP_LO, x.compare(LT, EXP_LO)));
  }

  /** Bits of {@link #EXP_LO}; as ints, the bits of a negative float grow with its magnitude. */
  private static final int EXP_LO_BITS = Float.floatToRawIntBits(EXP_LO);

  private static final int SIGN_BIT = 0x80000000;

  /**
   * Added to the bits of {@code t = x log2(e) + 1.5 2^23}, then shifted left by 23: the bits of
   * 2^(k + 64), k = round(x log2(e)), for k in [-150, 0] (the sum's low 9 bits are k + 191, in [41,
   * 191]: a positive normal exponent).
   */
  private static final int SCALE_2_64_ADD = EXP_BIAS + 64 - ROUND_MAGIC_BITS;

  private static final float TWO_M64 = 0x1p-64f;

  /**
   * {@code exp(-|x|)}: the same value as {@link #exp} of {@code -|x|}, bit for bit, for every x but
   * NaN, which gives 0. Cheaper: {@code -|x|} is the bits with the sign set, and the clamp at -104
   * an integer min of the bits (for negative floats the bits as ints are ordered by magnitude), two
   * integer operations instead of a negation and a compare-and-blend; and with k <= 0 the result is
   * scaled by 2^(k + 64), always normal, then by 2^-64, instead of by 2^k as two normal halves:
   * four operations instead of nine, and the same two roundings (the first at the reduced
   * argument's scale, the second exact unless the result is subnormal). For the sigmoid's {@code
   * exp(-|x|)}, whose loss and gradient take x itself too, so that a NaN logit (the checks off)
   * makes them NaN whatever this gives. Softmax's {@code exp(z - max)} is {@link #expNonPositive}:
   * until the fourth stop of 2026-12-07 it was this function, whose 0 for NaN let a NaN logit that
   * the row's max had passed over count as a class of probability 0, a finite loss (an adversarial
   * tester's find; {@code EdgeCaseTest}).
   */
  public static FloatVector expNegAbs(FloatVector x) {
    return expScaled(
        x.reinterpretAsInts().or(SIGN_BIT).min(EXP_LO_BITS).reinterpretAsFloats());
  }

  /**
   * {@code exp(x)} for {@code x <= 0} and NaN: the same bits as {@link #expNegAbs} for every {@code
   * x <= 0}, and NaN for NaN ({@code VectorMathTest}); positive x gives unspecified results. The
   * clamp at -104 by compare and blend (a NaN compares false and passes), in place of {@link
   * #expNegAbs}'s two integer operations (the sign set, the min), which take NaN to -104 and so to
   * 0: as many operations. For softmax's {@code exp(z - max)}, where {@code z - max <= 0} by
   * construction, or NaN where a logit is NaN (the checks off) and the row's max passed it over.
   */
  public static FloatVector expNonPositive(FloatVector x) {
    return expScaled(x.blend(EXP_LO, x.compare(LT, EXP_LO)));
  }

  /** exp of x in [-104, 0] (or NaN), scaled through 2^(k + 64). */
  private static FloatVector expScaled(FloatVector xc) {
    FloatVector t = xc.fma(LOG2E, ROUND_MAGIC);
    FloatVector kf = t.sub(ROUND_MAGIC);
    FloatVector r1 = kf.fma(xc.broadcast(-LN2_HI), xc); // exact
    FloatVector r2 = kf.mul(-LN2_LO);
    FloatVector r = r1.add(r2);
    FloatVector scale =
        t.reinterpretAsInts().add(SCALE_2_64_ADD).lanewise(LSHL, 23).reinterpretAsFloats();
    return r.fma(EQ0, EQ1)
        .fma(r, xc.broadcast(EQ2))
        .fma(r, xc.broadcast(EQ3))
        .fma(r, xc.broadcast(EQ4))
        .fma(r.mul(r), r2)
        .add(r1) // expm1(r1 + r2)
        .fma(scale, scale)
        .mul(TWO_M64);
  }

  /** exp of x in [-104, 89] (or NaN). */
  private static FloatVector expClamped(FloatVector xc) {
    FloatVector t = xc.fma(LOG2E, ROUND_MAGIC);
    FloatVector kf = t.sub(ROUND_MAGIC);
    FloatVector r1 = kf.fma(xc.broadcast(-LN2_HI), xc); // exact
    FloatVector r2 = kf.mul(-LN2_LO);
    FloatVector r = r1.add(r2);
    IntVector k = t.reinterpretAsInts().sub(ROUND_MAGIC_BITS);
    IntVector k1 = k.lanewise(ASHR, 1);
    FloatVector s1 = k1.add(EXP_BIAS).lanewise(LSHL, 23).reinterpretAsFloats();
    return r.fma(EQ0, EQ1)
        .fma(r, xc.broadcast(EQ2))
        .fma(r, xc.broadcast(EQ3))
        .fma(r, xc.broadcast(EQ4))
        .fma(r.mul(r), r2)
        .add(r1) // expm1(r1 + r2)
        .fma(s1, s1)
        .mul(k.sub(k1).add(EXP_BIAS).lanewise(LSHL, 23).reinterpretAsFloats());
  }

  /**
   * {@code exp(x) - 1}, lane-wise, accurate also for tiny |x|. Max error 1.20 ulp over
   * [-104, 89].
   *
   * <p>Domain: every float. {@code |x| < 2^-25} (including {@code ±0} and subnormals) gives {@code
   * x}, {@code x <= -17.33...} and {@code -Infinity} give {@code -1}, {@code x >= 88.7228...}
   * gives {@code +Infinity}, NaN gives NaN.
   */
  public static FloatVector expm1(FloatVector x) {
    FloatVector xc = // NaN passes through (see exp)
        x.blend(EXPM1_LO, x.compare(LT, EXPM1_LO)).blend(EXP_HI, x.compare(GT, EXP_HI));
    FloatVector t = xc.fma(LOG2E, ROUND_MAGIC);
    FloatVector kf = t.sub(ROUND_MAGIC);
    FloatVector r1 = kf.fma(x.broadcast(-LN2_HI), xc); // exact
    FloatVector r2 = kf.mul(-LN2_LO);
    FloatVector r = r1.add(r2);
    // h = 2^(k-1): 2 (h (r1 + tail) + h - 1/2) = 2^k exp(r) - 1, h finite up to overflow.
    FloatVector h =
        t.reinterpretAsInts()
            .sub(ROUND_MAGIC_BITS - EXP_BIAS + 1)
            .lanewise(LSHL, 23)
            .reinterpretAsFloats();
    FloatVector tail = // expm1(r1 + r2) - r1
        r.fma(EQ0, EQ1)
            .fma(r, x.broadcast(EQ2))
            .fma(r, x.broadcast(EQ3))
            .fma(r, x.broadcast(EQ4))
            .fma(r.mul(r), r2);
    return h.fma(tail, h.fma(r1, h.sub(0.5f)))
        .mul(2f)
        .blend(x, x.abs().compare(LT, EXPM1_TINY));
  }

  // 2 atanh(s) = 2 s (1 + s^2/3 + s^4/5 + ...): the series' coefficients 1/(2k + 1) up to 1/13
  private static final float AT3 = 1f / 3;
  private static final float AT5 = 1f / 5;
  private static final float AT7 = 1f / 7;
  private static final float AT9 = 1f / 9;
  private static final float AT11 = 1f / 11;
  private static final float AT13 = 1f / 13;

  /**
   * {@code log1p(e)} for {@code e} in [0, 1], lane-wise, given {@code s}, the quotient {@code e /
   * (2 + e)} to within a few roundings: {@code log1p(e) = 2 atanh(s*)} for the exact quotient
   * {@code s*} in [0, 1/3], by the atanh series to {@code s^13} (the first term left out is below
   * 2^-26 relative), plus the first-order correction for {@code s* - s}: {@code (s* - s)(2 + e) =
   * e - 2s - s e} ({@code e - 2s} is exact, {@code 2s} being within [2e/3, e]) and {@code 2
   * atanh'(s) / (2 + e) = 1 / (1 + s)}, taken as {@code 1 - s}. Max error 0.89 ulp over [0, 1]
   * with {@code s} computed as the sigmoid kernel does, from its one division {@code 1 / ((1 +
   * e)(2 + e))}. Cheaper than {@link #log1p} (no exponent split, no division of its own).
   *
   * <p>Domain: e in [0, 1] and s its quotient; NaN gives NaN.
   */
  public static FloatVector log1pQuotient(FloatVector e, FloatVector s) {
    FloatVector u = s.mul(s);
    FloatVector s2 = s.add(s);
    // (s* - s)(2 + e) = e - 2s - s e, e - 2s exact (2s is within [e 2/3, e])
    FloatVector ds = s.neg().fma(e, e.sub(s2));
    FloatVector p =
        u.fma(AT13, AT11)
            .fma(u, s.broadcast(AT9))
            .fma(u, s.broadcast(AT7))
            .fma(u, s.broadcast(AT5))
            .fma(u, s.broadcast(AT3));
    // 2s exact; the small terms summed first, so the result is rounded once more only
    return s2.add(s2.mul(u).fma(p, ds.neg().fma(s, ds)));
  }

  /**
   * {@code log(1 + exp(x))}, lane-wise: {@code max(x, 0) + log1p(exp(-|x|))}. Max error
   * 1.65 ulp over [-200, 200].
   *
   * <p>Domain: every float. {@code -Infinity} gives {@code 0}, {@code +Infinity} gives {@code
   * +Infinity}, NaN gives NaN; below about -103.97 the result underflows to {@code 0}.
   *
   * <p>This is two calls' worth of C2 nodes (see the class comment); it inlines its two halves
   * only while the compilation is small.
   */
  public static FloatVector softplus(FloatVector x) {
    return log1pUnit(exp(x.abs().neg())).add(x.max(0f));
  }

  /** log1p(e) for e in [0, 1] or NaN. */
  private static FloatVector log1pUnit(FloatVector e) {
    // 1 + e = 2^j (1 + f + d), j = 0 or 1. For j = 0, f = e (exact, d = 0); for j = 1, f = u/2 - 1
    // (exact) for u = 1 + e rounded, and d = (e - (u - 1))/2 the rounding error, scaled.
    FloatVector u = e.add(1f);
    VectorMask<Float> big = u.compare(GE, SQRT2);
    FloatVector h = e.broadcast(0f).blend(0.5f, big); // j/2
    FloatVector f = e.blend(u.fma(h, e.broadcast(-1f)), big);
    FloatVector z = f.mul(f);
    // log(1 + f + d) = log(1 + f) + d (1 - f) to well below an ulp (|f| < 0.3 where d != 0).
    FloatVector y =
        f.fma(LP0, LP1)
            .fma(f, e.broadcast(LP2))
            .fma(f, e.broadcast(LP3))
            .fma(f, e.broadcast(LP4))
            .fma(f, e.broadcast(LP5))
            .fma(f, e.broadcast(LP6))
            .fma(f, e.broadcast(LP7))
            .fma(f, e.broadcast(LP8))
            .mul(f)
            .mul(z);
    FloatVector j = h.add(h);
    y = e.sub(u.sub(1f)).mul(h).fma(f.neg().add(1f), y);
    y = z.fma(e.broadcast(-0.5f), j.fma(e.broadcast(LN2_LO), y));
    return j.fma(e.broadcast(LN2_HI), f.add(y));
  }
}
