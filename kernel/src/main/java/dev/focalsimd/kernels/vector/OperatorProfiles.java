package dev.focalsimd.kernels.vector;

import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.AND_NOT;
import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.EQ;
import static jdk.incubator.vector.VectorOperators.GE;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.IS_NAN;
import static jdk.incubator.vector.VectorOperators.LE;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LT;
import static jdk.incubator.vector.VectorOperators.MAX;
import static jdk.incubator.vector.VectorOperators.MIN;
import static jdk.incubator.vector.VectorOperators.NE;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Runs every kind of lane-wise operator through the Vector API once per JVM, before the kernel's
 * own loops run, so that HotSpot's type profile of the operator kinds is mixed from its start.
 *
 * <p>Why (JDK 17's C2; found with {@code -XX:+LogCompilation}, docs/performance.md): every unary
 * and binary lane-wise operation goes through {@code VectorOperators.opKind}, which casts its
 * operator to the implementation class of its kind (unary, binary, associative, test). While that
 * cast's profile has seen one kind only, C2 compiles the JDK's own fallback methods (which run hot
 * while the kernel's loops are still interpreted) on the guess that it is always that kind, and the
 * first operator of another kind takes a {@code class_check} trap, four or five in all. C2 adds a
 * method's trap count to a compilation's total each time it inlines the method, and one of the
 * kernel's passes inlines {@code opKind} two dozen times: 24 x 4 = 96 stays under the per-method
 * limit of 100 ({@code -XX:PerMethodTrapLimit}); 24 x 5 = 120 does not, and C2 then compiles the
 * pass's type checks on vectors as virtual calls instead of traps, so the vectors are boxed: 8 to
 * 33 MB per call of one-vs-all from logits at 65536 x 16 in 3 of 16 JVMs under load, every JVM
 * with the limit at 20. With the kinds mixed before any profile exists, no such guess is made and
 * the trap count stays 0.
 *
 * <p>The cost: about {@value #ROUNDS} rounds of a dozen operations on one vector, most of them
 * interpreted, once, when the vector kernel is first used. Code of the caller's own that uses the
 * Vector API with one kind of operator before this runs can still set the profile.
 */
final class OperatorProfiles {

  /** Rounds: enough for the JDK's methods to be compiled with profiling and run mixed after. */
  static final int ROUNDS = 200;

  private OperatorProfiles() {}

  /**
   * Runs every operator the kernel uses once, then the rounds, over the given species (the
   * kernel's); returns a value computed from every result, so that nothing is dead code.
   */
  static float prime(VectorSpecies<Float> species) {
    VectorSpecies<Integer> ints = species.withLanes(int.class);
    FloatVector f = FloatVector.broadcast(species, 1.5f);
    IntVector i = IntVector.broadcast(ints, 3);
    float sink = everyOperator(species, f, i);
    for (int r = 0; r < ROUNDS; r++) {
      sink += kinds(f, i);
    }
    return sink;
  }

  /**
   * One of each operator kind that goes through {@code opKind}, in turn: associative, binary,
   * unary; float and int.
   */
  private static float kinds(FloatVector f, IntVector i) {
    FloatVector a = f.add(f).sub(f).neg().mul(f).div(f).abs().max(f);
    IntVector b = i.and(i).lanewise(ASHR, 1).or(i).lanewise(LSHL, 1).sub(i);
    return a.lane(0) + b.lane(0);
  }

  /**
   * Each operator the kernel uses, once: the JDK keeps a per-operator cache whose first use in
   * compiled code is a trap of its own ({@code unstable_if}).
   */
  private static float everyOperator(VectorSpecies<Float> species, FloatVector f, IntVector i) {
    int lanes = species.length();
    VectorShuffle<Float> half = VectorShuffle.fromOp(species, l -> (l + lanes / 2) % lanes);
    FloatVector a = f.add(f);
    FloatVector b = a.sub(f);
    FloatVector c = b.neg();
    FloatVector d = c.mul(f);
    FloatVector e = d.div(f);
    FloatVector g = e.abs().fma(f, a);
    FloatVector h = g.max(f).min(a).rearrange(half);
    IntVector j = i.and(i);
    IntVector k = j.lanewise(ASHR, 1);
    IntVector m = k.or(i).lanewise(LSHL, 1).max(j);
    IntVector n = m.sub(i).lanewise(AND_NOT, j).add(i).min(k);
    VectorMask<Float> lt = h.compare(LT, a).or(h.compare(LE, b)).and(h.compare(GT, c).not());
    VectorMask<Float> eq = h.compare(EQ, d).or(h.compare(NE, e)).or(h.compare(GE, g));
    VectorMask<Integer> ieq = n.compare(EQ, m).or(n.compare(LT, k));
    FloatVector t = h.blend(a, lt).blend(b, eq)
        .add(((FloatVector) n.convert(I2F, 0)).blend(f, ieq.cast(species)));
    return t.reduceLanes(ADD) + t.reduceLanes(MAX) + t.reduceLanes(MIN)
        + n.reinterpretAsFloats().reduceLanes(ADD) + (t.test(IS_NAN).anyTrue() ? 1f : 0f);
  }
}
