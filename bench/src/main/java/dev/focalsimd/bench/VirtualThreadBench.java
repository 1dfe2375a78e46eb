package dev.focalsimd.bench;

import dev.focalsimd.FocalLoss;
import dev.focalsimd.Kernel;
import dev.focalsimd.bench.BenchData.Form;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.TimeUnit;
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
 * {@code forwardBackward} called the way thread-per-task code calls it: each operation starts a
 * new virtual thread that makes one call, and joins it ({@code caller=virtual}); against the
 * same call on JMH's own platform thread ({@code platform}) and a new virtual thread that makes
 * no call ({@code virtualEmpty}, what the thread itself costs). The kernels' scratch is per
 * thread; virtual threads borrow it from a pool for each call ({@code Scratch} in the kernel),
 * where before every new virtual thread created its own (about 60 KB). Virtual threads need JDK
 * 21 or later: on older JDKs the virtual cells fail at setup, saying so. Allocation on virtual
 * threads is not in {@code gc.alloc.rate.norm} (JMH counts its own threads); {@code -prof
 * gc:churn=true} counts it from the collections. Run it with {@code
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -jar bench/target/bench.jar VirtualThreadBench -f 1
 * -wi 3 -i 5 -prof gc:churn=true}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector"})
public class VirtualThreadBench {

  @Param({"one_vs_all", "softmax", "sigmoid"})
  public String form;

  @Param({"64x16", "4096x16"})
  public String shape;

  @Param({"platform", "virtual", "virtualEmpty"})
  public String caller;

  private FocalLoss loss;
  private BenchData.Batch batch;
  /** Thread.startVirtualThread(Runnable), looked up at setup (JDK 21 and later). */
  private MethodHandle startVirtual;
  /** What a virtual thread runs: one call, or nothing. */
  private Runnable body;
  /** The last call's loss, written by the virtual thread, read after the join. */
  private volatile float last;

  /** The primed losses, kept so that priming is not dead code. */
  public double primed;

  @Setup
  public void setup() throws ReflectiveOperationException {
    Form f = Form.parse(form);
    int[] nc = BenchData.parseShape(shape);
    BenchData data = BenchData.generate(nc, f, f.refTargets());
    loss = BenchData.loss(f, Kernel.AUTO, data.alpha);
    batch = data.batch(f, f.refTargets());
    primed = batch.prime(loss);
    if (!caller.equals("platform")) {
      try {
        startVirtual = MethodHandles.publicLookup().findStatic(Thread.class,
            "startVirtualThread", MethodType.methodType(Thread.class, Runnable.class));
      } catch (NoSuchMethodException e) {
        throw new IllegalStateException("caller=" + caller + " needs virtual threads: JDK 21 or"
            + " later; this is " + Runtime.version(), e);
      }
    }
    Runnable call = () -> last = batch.forwardBackward(loss);
    Runnable empty = () -> last = 1f;
    body = caller.equals("virtual") ? call : empty;
  }

  @Benchmark
  public float forwardBackward() throws Throwable {
    if (startVirtual == null) {
      return batch.forwardBackward(loss);
    }
    Thread t = (Thread) startVirtual.invokeExact(body);
    t.join();
    return last;
  }
}
