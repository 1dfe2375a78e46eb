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
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code forwardBackward} called the way thread-per-task code calls it: each invocation starts
 * {@value #CALLS} new virtual threads, each making one call with its own gradient array, and joins
 * them ({@code caller=virtual}); against the same {@value #CALLS} calls one after another on JMH's
 * platform thread ({@code platform}) and {@value #CALLS} new virtual threads that make no call
 * ({@code virtualEmpty}: what starting and joining the threads costs). Scores are per call. The
 * kernels' scratch is per thread; virtual threads borrow it from a pool for each call ({@code
 * Scratch} in the kernel), where before every new virtual thread created its own (about 60 KB).
 * Virtual threads need JDK 21 or later: on older JDKs the virtual cells fail at setup, saying so.
 * On JDK 25, {@code -prof gc}'s {@code gc.alloc.rate.norm} includes what the virtual threads
 * allocate (it agreed with {@code -prof gc:churn=true}, which counts from the collections: about
 * 57 KB per call before the pool, 0.5 KB after, of which 0.35 KB is the thread's own). Run it with
 * {@code /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -jar bench/target/bench.jar VirtualThreadBench
 * -f 1 -wi 3 -i 5 -prof gc}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector"})
public class VirtualThreadBench {

  /** Calls per invocation: threads started together. */
  static final int CALLS = 16;

  @Param({"one_vs_all", "softmax", "sigmoid"})
  public String form;

  @Param({"64x16", "4096x16"})
  public String shape;

  @Param({"platform", "virtual", "virtualEmpty"})
  public String caller;

  private FocalLoss loss;
  /** One batch per call: shared inputs and targets, a gradient array each. */
  private BenchData.Batch[] batches;
  /** Thread.startVirtualThread(Runnable), looked up at setup (JDK 21 and later). */
  private MethodHandle startVirtual;
  /** What each virtual thread runs: its call, or nothing. */
  private Runnable[] bodies;
  private final Thread[] threads = new Thread[CALLS];
  /** Each call's loss, written by its thread, read after the joins. */
  private final float[] results = new float[CALLS];

  /** The primed losses, kept so that priming is not dead code. */
  public double primed;

  @Setup
  public void setup() throws ReflectiveOperationException {
    Form f = Form.parse(form);
    int[] nc = BenchData.parseShape(shape);
    BenchData data = BenchData.generate(nc, f, f.refTargets());
    loss = BenchData.loss(f, Kernel.AUTO, data.alpha);
    batches = new BenchData.Batch[CALLS];
    bodies = new Runnable[CALLS];
    for (int i = 0; i < CALLS; i++) {
      BenchData.Batch b = data.batch(f, f.refTargets());
      batches[i] = b;
      primed += i == 0 ? b.prime(loss) : b.forwardBackward(loss); // the JIT's warm-up once
      int k = i;
      bodies[i] = caller.equals("virtualEmpty") ? () -> results[k] = 1f
          : () -> results[k] = b.forwardBackward(loss);
    }
    if (!caller.equals("platform")) {
      try {
        startVirtual = MethodHandles.publicLookup().findStatic(Thread.class,
            "startVirtualThread", MethodType.methodType(Thread.class, Runnable.class));
      } catch (NoSuchMethodException e) {
        throw new IllegalStateException("caller=" + caller + " needs virtual threads: JDK 21 or"
            + " later; this is " + Runtime.version(), e);
      }
    }
  }

  /** The sum of the {@value #CALLS} calls' losses (of the empty threads: {@value #CALLS}). */
  @Benchmark
  @OperationsPerInvocation(CALLS)
  public float forwardBackward() throws Throwable {
    float sum = 0;
    if (startVirtual == null) {
      for (BenchData.Batch b : batches) {
        sum += b.forwardBackward(loss);
      }
      return sum;
    }
    for (int i = 0; i < CALLS; i++) {
      threads[i] = (Thread) startVirtual.invokeExact(bodies[i]);
    }
    for (int i = 0; i < CALLS; i++) {
      threads[i].join();
      sum += results[i];
    }
    return sum;
  }
}
