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
 * Runs every kind of lane-wise operator through the Vector API, once per JVM, before the kernel's
 * own passes run, so that HotSpot's profile of the operator kinds is mixed from its start.
 *
 * <p>Why (JDK 17's C2, found with {@code -XX:+LogCompilation}; docs/performance.md, "fourth
 * stop"). Every unary and binary lane-wise operation goes through {@code VectorOperators.opKind},
 * which casts its operator to the class of its kind (unary, binary, associative). While that
 * cast's profile has seen one kind only, C2 compiles the JDK's own methods that call it (hot while
 * the kernel's loops still run interpreted) on the guess that it is always that kind, and the first
 * operator of another kind takes a {@code class_check} trap: 4 or 5 in all. C2 adds the traps of
 * each method it inlines to the compilation's total, once per inlining, and from {@code
 * -XX:PerMethodTrapLimit} (100) on it compiles type checks with virtual calls, not traps, which
 * box vectors. {@code ovaLogitsJacobian} inlines {@code opKind} 24 times: 96 (no boxing) or 120
 * (8,192,020 bytes per call of one-vs-all from logits at 65536 x 16), by one trap during warm-up.
 * After these rounds the cast takes no trap, and no compilation of the kernel's reaches 3 traps of
 * a kind.
 *
 * <p>Each operator the kernel uses runs once first: the JDK caches an implementation per operator,
 * and a cache's first miss in compiled code is a trap of its own ({@code unstable_if}).
 *
 * <p>The cost: about 30 ms on JDK 17, 35 on JDK 25, once, in the first {@code VectorKernel.create}
 * (some of it the loading of classes that its first call would load). Code of the caller's own
 * that uses the Vector API with one kind of operator before this runs can still set the profile.
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
    VectorMask<Integer> ieq = n.compare(EQ, m).or(n.compare(LT, k))
        .or(n.compare(NE, j).and(n.compare(GE, k)).and(n.compare(LE, m)));
    FloatVector t = h.blend(a, lt).blend(b, eq)
        .add(((FloatVector) n.convert(I2F, 0)).blend(f, ieq.cast(species)));
    return t.reduceLanes(ADD) + t.reduceLanes(MAX) + t.reduceLanes(MIN)
        + n.reinterpretAsFloats().reduceLanes(ADD) + n.reduceLanes(ADD)
        + (t.test(IS_NAN).anyTrue() ? 1f : 0f);
  }
}
