package dev.focalsimd.bench;

import dev.focalsimd.FocalLoss;
import dev.focalsimd.Kernel;
import dev.focalsimd.bench.BenchData.Form;
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

/**
 * Class-index targets against dense one-hot targets of the same rows, for every form (issue 4:
 * class indices must not be slower than dense targets). Options as in {@link
 * ForwardBackwardBench}; same settings and forks.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector"})
public class TargetKindBench {

  @Param({"one_vs_all", "softmax", "sigmoid"})
  public String form;

  @Param({"SCALAR", "VECTOR"})
  public String kernel;

  /** dense: N x C one-hot floats; index: N class indices. */
  @Param({"dense", "index"})
  public String targets;

  @Param({"4096x16", "8192x1000", "4096x21", "4096x10"})
  public String shape;

  private FocalLoss loss;
  private BenchData.Batch batch;

  /** The primed losses, kept so that priming is not dead code. */
  public double primed;

  @Setup(Level.Trial)
  public void setup() {
    Form f = Form.parse(form);
    int[] nc = BenchData.parseShape(shape);
    BenchData data = BenchData.generate(nc, f, targets);
    loss = BenchData.loss(f, Kernel.valueOf(kernel), data.alpha);
    batch = data.batch(f, targets);
    primed = batch.prime(loss);
  }

  @Benchmark
  public float forwardBackward() {
    return batch.forwardBackward(loss);
  }
}
