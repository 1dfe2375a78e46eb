package dev.focalsimd.bench;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The ceiling that the memory traffic of a {@code forwardBackward} call puts on its speed, one
 * thread: loops that move the bytes of an N x C call and compute next to nothing, on the preferred
 * float species. Melem/s = ops/s x N x C / 10^6, as in {@link ForwardBackwardBench}.
 *
 * <ul>
 *   <li>{@code readTwoWriteOne}: g = x y, the traffic of one-vs-all and the sigmoid with dense
 *       targets (input and targets read, the gradient written: 12 bytes per element);
 *   <li>{@code readOneWriteOne}: g = 2 x, the softmax with class indices (8 bytes per element);
 *   <li>{@code readTwo}: the sum of x + y, the value checks' scan of the input and the dense
 *       targets (8 bytes per element read);
 *   <li>{@code readOne}: the sum of x, their scan with class indices (4 bytes per element).
 * </ul>
 *
 * <p>No kernel and no peer can go faster than these on the same machine and thread; how close a
 * shape comes to them says whether it is bound by memory or by computation. Run it with {@code
 * java -jar bench/target/bench.jar MemoryCeilingBench -f 1 -wi 3 -i 3} (about 2 minutes).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector"})
public class MemoryCeilingBench {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

  @Param({"4096x16", "65536x16", "8192x1000", "16384x80"})
  public String shape;

  float[] x;
  float[] y;
  /** Written by the benchmarks: a field, so the stores are visible and cannot be dropped. */
  public float[] g;

  @Setup
  public void setup() {
    int[] nc = BenchData.parseShape(shape);
    int n = Math.multiplyExact(nc[0], nc[1]);
    x = new float[n];
    y = new float[n];
    g = new float[n];
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(42);
    for (int i = 0; i < n; i++) {
      x[i] = (float) rnd.nextDouble();
      y[i] = rnd.nextInt(nc[1]) == 0 ? 1f : 0f;
    }
  }

  @Benchmark
  public void readTwoWriteOne() {
    readTwoWriteOne(x, y, g);
  }

  @Benchmark
  public void readOneWriteOne() {
    readOneWriteOne(x, g);
  }

  @Benchmark
  public float readTwo() {
    return readTwo(x, y);
  }

  @Benchmark
  public float readOne() {
    return readOne(x);
  }

  /** g = x y over x's length. */
  static void readTwoWriteOne(float[] x, float[] y, float[] g) {
    int i = 0;
    for (int upper = S.loopBound(x.length); i < upper; i += S.length()) {
      FloatVector.fromArray(S, x, i).mul(FloatVector.fromArray(S, y, i)).intoArray(g, i);
    }
    for (; i < x.length; i++) {
      g[i] = x[i] * y[i];
    }
  }

  /** g = 2 x over x's length. */
  static void readOneWriteOne(float[] x, float[] g) {
    int i = 0;
    for (int upper = S.loopBound(x.length); i < upper; i += S.length()) {
      FloatVector v = FloatVector.fromArray(S, x, i);
      v.add(v).intoArray(g, i);
    }
    for (; i < x.length; i++) {
      g[i] = x[i] + x[i];
    }
  }

  /**
   * The sum of x + y over x's length in float, four independent sums, so that the loop waits on
   * loads, not on the additions' latency.
   */
  static float readTwo(float[] x, float[] y) {
    int l = S.length();
    FloatVector a0 = FloatVector.zero(S);
    FloatVector a1 = FloatVector.zero(S);
    FloatVector a2 = FloatVector.zero(S);
    FloatVector a3 = FloatVector.zero(S);
    int i = 0;
    for (int upper = x.length - 2 * l; i <= upper; i += 2 * l) {
      a0 = FloatVector.fromArray(S, x, i).add(a0);
      a1 = FloatVector.fromArray(S, y, i).add(a1);
      a2 = FloatVector.fromArray(S, x, i + l).add(a2);
      a3 = FloatVector.fromArray(S, y, i + l).add(a3);
    }
    float tail = 0;
    for (; i < x.length; i++) {
      tail += x[i] + y[i];
    }
    return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD) + tail;
  }

  /** The sum of x over its length in float, four independent sums. */
  static float readOne(float[] x) {
    int l = S.length();
    FloatVector a0 = FloatVector.zero(S);
    FloatVector a1 = FloatVector.zero(S);
    FloatVector a2 = FloatVector.zero(S);
    FloatVector a3 = FloatVector.zero(S);
    int i = 0;
    for (int upper = x.length - 4 * l; i <= upper; i += 4 * l) {
      a0 = FloatVector.fromArray(S, x, i).add(a0);
      a1 = FloatVector.fromArray(S, x, i + l).add(a1);
      a2 = FloatVector.fromArray(S, x, i + 2 * l).add(a2);
      a3 = FloatVector.fromArray(S, x, i + 3 * l).add(a3);
    }
    float tail = 0;
    for (; i < x.length; i++) {
      tail += x[i];
    }
    return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD) + tail;
  }
}
