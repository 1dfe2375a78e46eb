package dev.focalsimd.bench;

import dev.focalsimd.FocalLoss;
import dev.focalsimd.Kernel;
import dev.focalsimd.bench.BenchData.Form;
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
 * The vector kernel's {@code forwardBackward} with the options that cost or save time:
 * {@code parallelism} 1 or 2 (threads over fixed blocks of rows, for batches of at least
 * {@link FocalLoss#PARALLEL_THRESHOLD} elements) and {@code validateValues} on or off (the scan for
 * NaN, infinity and targets outside [0, 1] before computing). Shapes of 1M and 8M elements; inputs
 * and options as {@link ForwardBackwardBench}. Run it with
 * {@code java -jar bench/target/bench.jar OptionsBench -f 1 -wi 3 -i 5}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector"})
public class OptionsBench {

  @Param({"one_vs_all", "softmax", "sigmoid"})
  public String form;

  @Param({"65536x16", "8192x1000"})
  public String shape;

  @Param({"1", "2"})
  public int parallelism;

  @Param({"true", "false"})
  public boolean validate;

  private FocalLoss loss;
  private BenchData.Batch batch;

  /** The primed losses, kept so that priming is not dead code. */
  public double primed;

  @Setup
  public void setup() {
    Form f = Form.parse(form);
    int[] nc = BenchData.parseShape(shape);
    BenchData data = BenchData.generate(nc, f, f.refTargets());
    loss = BenchData.loss(f, Kernel.AUTO, data.alpha, parallelism, validate);
    batch = data.batch(f, f.refTargets());
    primed = batch.prime(loss);
  }

  @Benchmark
  public float forwardBackward() {
    return batch.forwardBackward(loss);
  }
}
