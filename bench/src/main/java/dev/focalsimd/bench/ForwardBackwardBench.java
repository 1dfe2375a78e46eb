package dev.focalsimd.bench;

import dev.focalsimd.FocalLoss;
import dev.focalsimd.Kernel;
import dev.focalsimd.bench.BenchData.Form;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * {@code forwardBackward} of each form with the target kind and options of {@code
 * shared/peers/focal_ref.c}: one_vs_all on probabilities with dense one-hot targets and per-class
 * alpha; softmax on logits with class indices and per-class alpha; sigmoid on logits with alpha
 * 0.25 and dense targets; gamma 2, MEAN. One operation is one call over the whole N x C batch:
 * elements per second = ops/s x N x C. The trial setup primes the kernel on a slice of about 1k
 * elements until the JIT has settled (0.2 to 1.2 s, see {@link BenchData#prime}) before JMH's
 * warmup.
 *
 * <p>The annotation settings are the {@code --full} profile's, so a plain JMH command line gets
 * numbers worth publishing. The forks get {@code --add-modules=jdk.incubator.vector} through
 * {@code jvmArgsPrepend}: add JVM flags with {@code -jvmArgsAppend}, since {@code -jvmArgsPrepend} on
 * the command line replaces the annotation's.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector"})
public class ForwardBackwardBench {

  @Param({"one_vs_all", "softmax", "sigmoid"})
  public String form;

  @Param({"SCALAR", "VECTOR"})
  public String kernel;

  /** N x C; 4096x21 has a C that is no multiple of any vector's lane count. */
  @Param({"4096x16", "65536x16", "8192x1000", "16384x80", "4096x21"})
  public String shape;

  /**
   * The value checks ({@code validateValues}): on, the library's default, unless {@code -p
   * validate=false}, which compares like for like with {@code focal_ref.c} (it checks nothing).
   */
  @Param({"true"})
  public boolean validate;

  private Form f;
  private FocalLoss loss;
  /** The heap arrays; null for forwardBackwardDirect, which has the buffers below. */
  private BenchData.Batch batch;
  private int classes;

  private FloatBuffer inputDirect;
  private FloatBuffer denseDirect;
  private IntBuffer indexDirect;
  private FloatBuffer gradDirect;

  /** The primed losses, kept so that priming is not dead code. */
  public double primed;

  @Setup(Level.Trial)
  public void setup(BenchmarkParams params) {
    f = Form.parse(form);
    int[] nc = BenchData.parseShape(shape);
    BenchData data = BenchData.generate(nc, f, f.refTargets());
    classes = nc[1];
    loss = BenchData.loss(f, Kernel.valueOf(kernel), data.alpha, 1, validate);
    batch = data.batch(f, f.refTargets());
    if (!params.getBenchmark().endsWith("Direct")) {
      primed = batch.prime(loss);
    } else {
      int rows = BenchData.primeRows(nc[0], classes);
      int len = rows * classes;
      inputDirect = direct(batch.input);
      denseDirect = batch.dense == null ? null : direct(batch.dense);
      indexDirect = batch.index == null ? null : directInts(batch.index);
      gradDirect = direct(batch.grad);
      batch = null;
      FloatBuffer in = inputDirect.duplicate().limit(len);
      FloatBuffer y = denseDirect == null ? null : denseDirect.duplicate().limit(len);
      IntBuffer t = indexDirect == null ? null : indexDirect.duplicate().limit(rows);
      FloatBuffer g = gradDirect.duplicate().limit(len);
      primed = BenchData.prime(() -> t != null ? loss.forwardBackward(in, t, classes, g)
          : loss.forwardBackward(in, y, classes, g));
    }
  }

  /** forwardBackward over heap arrays. */
  @Benchmark
  public float forwardBackward() {
    return batch.forwardBackward(loss);
  }

  /** forwardBackward over direct (off-heap, native order) FloatBuffer / IntBuffer views. */
  @Benchmark
  public float forwardBackwardDirect() {
    return indexDirect != null
        ? loss.forwardBackward(inputDirect, indexDirect, classes, gradDirect)
        : loss.forwardBackward(inputDirect, denseDirect, classes, gradDirect);
  }

  static FloatBuffer direct(float[] a) {
    FloatBuffer b = ByteBuffer.allocateDirect(a.length * Float.BYTES).order(ByteOrder.nativeOrder())
        .asFloatBuffer();
    b.put(a).flip();
    return b;
  }

  static IntBuffer directInts(int[] a) {
    IntBuffer b = ByteBuffer.allocateDirect(a.length * Integer.BYTES).order(ByteOrder.nativeOrder())
        .asIntBuffer();
    b.put(a).flip();
    return b;
  }
}
