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
 * {@code forwardBackward} as {@link ForwardBackwardBench}, on logits spread over a wider range:
 * uniform in [-spread/2, spread/2) ({@code spread} 3 is the other benchmarks' data). Far from 0,
 * the float kernel's intermediate values (exp(-|x|), its powers in the focal factor) and some
 * results fall below the smallest normal float, 1.2e-38, and on x86 a floating-point multiply or
 * fused multiply-add that makes such a subnormal number (and some instructions that read one) takes
 * a microcode assist (the JVM runs without flush-to-zero; {@code -ffast-math} C code sets it). This
 * benchmark measures that cost, value checks on (the library's default). Run it with {@code java
 * -jar bench/target/bench.jar ExtremeLogitsBench -f 1 -wi 3 -i 3} (about 2 minutes).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector"})
public class ExtremeLogitsBench {

  @Param({"one_vs_all", "softmax", "sigmoid"})
  public String form;

  @Param({"SCALAR", "VECTOR"})
  public String kernel;

  @Param({"3", "60", "200"})
  public float spread;

  @Param({"4096x80"})
  public String shape;

  private FocalLoss loss;
  private BenchData.Batch batch;

  /** The primed losses, kept so that priming is not dead code. */
  public double primed;

  @Setup
  public void setup() {
    Form f = Form.parse(form);
    int[] nc = BenchData.parseShape(shape);
    BenchData data = BenchData.generate(nc, f, f.refTargets(), spread);
    loss = BenchData.loss(f, Kernel.valueOf(kernel), data.alpha, 1, true);
    batch = data.batch(f, f.refTargets());
    primed = batch.prime(loss);
  }

  @Benchmark
  public float forwardBackward() {
    return batch.forwardBackward(loss);
  }
}
