package dev.focalsimd.bench;

import dev.focalsimd.FocalLoss;
import dev.focalsimd.Kernel;
import dev.focalsimd.bench.BenchData.Form;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
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
 * The vector kernel's {@code forwardBackward} (checks on, as {@link ForwardBackwardBench}) in JVMs
 * whose history differs, which is where a JIT-compiled Vector API loop can lose its intrinsics and
 * allocate a vector per operation. Run it with {@code -prof gc} and read {@code
 * gc.alloc.rate.norm}:
 * {@code java -jar bench/target/bench.jar JitHistoryBench -f 1 -wi 3 -i 3 -prof gc}.
 *
 * <p>{@code history}, what runs before JMH's warmup:
 * <ul>
 *   <li>{@code primed}: as {@link ForwardBackwardBench}: calls on small copies of the batch's
 *       first rows, so that the passes are compiled before the first full call;
 *   <li>{@code cold}: nothing: the first call, as a trainer's first step, is the full batch
 *       (long loops in the interpreter and on-stack-replacement compilations first);
 *   <li>{@code species}: as {@code primed}, after Vector API code on the 64-, 128- and 256-bit
 *       species (another library in the same JVM using other vector sizes).
 * </ul>
 * On JDK 17, C2 types a vector that was chosen on two paths (a ternary, a loop's accumulator) as
 * FloatVector rather than its exact class and calls its operations through the Vector API's
 * JVM-wide type profiles; the kernels never do that (see VectorKernel's class comment), which
 * {@code cold} checks (the sigmoid allocated 191 MB per call at 8192x1000 before). Code on other
 * species makes the profiles behind the kernels' reinterpreting casts polymorphic as well, and
 * JDK 17 then boxes in the kernels too: {@code species} measures that known limitation (JDK 25
 * is not affected).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector"})
public class JitHistoryBench {

  @Param({"one_vs_all", "softmax", "sigmoid"})
  public String form;

  @Param({"16384x80", "8192x1000"})
  public String shape;

  @Param({"primed", "cold", "species"})
  public String history;

  private FocalLoss loss;
  private BenchData.Batch batch;

  /** What the setup computed, kept so that none of it is dead code. */
  public double kept;

  @Setup
  public void setup() {
    if (!history.equals("primed") && !history.equals("cold") && !history.equals("species")) {
      throw new IllegalArgumentException("history = " + history
          + ", expected primed, cold or species");
    }
    if (history.equals("species")) {
      kept += otherSpecies();
    }
    Form f = Form.parse(form);
    int[] nc = BenchData.parseShape(shape);
    BenchData data = BenchData.generate(nc, f, f.refTargets());
    loss = BenchData.loss(f, Kernel.VECTOR, data.alpha, 1, true);
    batch = data.batch(f, f.refTargets());
    if (!history.equals("cold")) {
      kept += batch.prime(loss);
    }
  }

  @Benchmark
  public float forwardBackward() {
    return batch.forwardBackward(loss);
  }

  /** Common FloatVector and IntVector operations on the 64-, 128- and 256-bit species. */
  private static double otherSpecies() {
    List<VectorSpecies<Float>> species = List.of(FloatVector.SPECIES_64, FloatVector.SPECIES_128,
        FloatVector.SPECIES_256);
    float[] a = new float[64];
    double sum = 0;
    for (int k = 0; k < 20_000; k++) {
      for (VectorSpecies<Float> s : species) {
        FloatVector v = FloatVector.fromArray(s, a, 0).add(1f);
        FloatVector w = v.add(v).sub(v).mul(v).fma(v, v).div(v).max(v).min(v).neg().abs()
            .add(v.blend(v, v.compare(VectorOperators.LT, 0f)));
        IntVector i = w.reinterpretAsInts().add(1).sub(1).and(3).or(1)
            .lanewise(VectorOperators.AND_NOT, 2).lanewise(VectorOperators.ASHR, 1).max(0).min(7);
        sum += w.reduceLanes(VectorOperators.ADD) + i.reduceLanes(VectorOperators.ADD);
        w.intoArray(a, 0);
      }
    }
    return sum;
  }
}
