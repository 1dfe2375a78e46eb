package dev.focalsimd.xgboost;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.IObjective;
import ml.dmlc.xgboost4j.java.XGBoostError;
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
 * Objective throughput in rows per second (one boosting round's {@code getGradient} over N rows,
 * {@code float[N][K]} margins in, flat gradient and Hessian out): {@link FocalObjective} beside a
 * plain per-row Java objective written the way users write one today ({@link Math#exp}, {@link
 * Math#pow}, {@link Math#log}, one row at a time, double arithmetic). Both read the labels once
 * (the plain one at setup), so neither pays the JNI label copy per round; both compute the same
 * gamma-2 focal gradient and Hessian (checked at setup).
 *
 * <p>Run: {@code mvn -q -o test-compile -pl kernel,xgboost -am}, then {@code java -cp
 * "xgboost/target/test-classes:xgboost/target/classes:<test classpath>" org.openjdk.jmh.Main
 * ObjectiveBench -f 1 -wi 3 -i 5} (see xgboost/README.md for the classpath command).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsPrepend = "--add-modules=jdk.incubator.vector")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ObjectiveBench {

  static final int ROWS = 100_000;

  /** 1: binary (sigmoid), 10: multiclass (softmax). */
  @Param({"1", "10"})
  public int classes;

  private float[][] margins;
  private DMatrix dtrain;
  private IObjective focal;
  private IObjective perRow;

  @Setup
  public void setup() throws XGBoostError {
    Random rnd = new Random(42);
    margins = new float[ROWS][classes];
    float[] labels = new float[ROWS];
    for (int i = 0; i < ROWS; i++) {
      for (int k = 0; k < classes; k++) {
        margins[i][k] = (float) (rnd.nextGaussian() * 3);
      }
      labels[i] = classes == 1 ? (rnd.nextInt(50) == 0 ? 1f : 0f) : rnd.nextInt(classes);
    }
    dtrain = new DMatrix(new float[ROWS], ROWS, 1);
    dtrain.setLabel(labels);
    if (classes == 1) {
      focal = FocalObjective.binary(2f, 0.25f);
      perRow = new PerRowBinary(labels, 2.0, 0.25);
    } else {
      focal = FocalObjective.multiclass(classes, 2f);
      perRow = new PerRowSoftmax(labels, classes, 2.0);
    }
    List<float[]> a = focal.getGradient(margins, dtrain);
    List<float[]> b = perRow.getGradient(margins, dtrain);
    for (int j = 0; j < 2; j++) {
      double err = 0;
      double scale = 0;
      for (int i = 0; i < a.get(j).length; i++) {
        err = Math.max(err, Math.abs(a.get(j)[i] - b.get(j)[i]));
        scale = Math.max(scale, Math.abs(b.get(j)[i]));
      }
      if (!(err <= 1e-4 * scale)) {
        throw new IllegalStateException("the two objectives disagree: " + (j == 0 ? "gradient"
            : "hessian") + " max diff " + err + " (scale " + scale + ")");
      }
    }
  }

  @Benchmark
  @OperationsPerInvocation(ROWS)
  public List<float[]> focalSimd() {
    return focal.getGradient(margins, dtrain);
  }

  @Benchmark
  @OperationsPerInvocation(ROWS)
  public List<float[]> perRowJava() {
    return perRow.getGradient(margins, dtrain);
  }

  /** Binary focal objective as written by hand: p_t per row, the textbook derivatives. */
  static final class PerRowBinary implements IObjective {
    private static final long serialVersionUID = 1L;
    private final float[] labels;
    private final double gamma;
    private final double alpha;

    PerRowBinary(float[] labels, double gamma, double alpha) {
      this.labels = labels;
      this.gamma = gamma;
      this.alpha = alpha;
    }

    @Override
    public List<float[]> getGradient(float[][] predicts, DMatrix dtrain) {
      int n = predicts.length;
      float[] grad = new float[n];
      float[] hess = new float[n];
      for (int i = 0; i < n; i++) {
        double y = labels[i];
        double p = 1.0 / (1.0 + Math.exp(-predicts[i][0]));
        double pt = y == 1 ? p : 1 - p;
        double at = y == 1 ? alpha : 1 - alpha;
        double s = 2 * y - 1;
        double logPt = Math.log(pt);
        // d/dx of -a_t (1 - p_t)^g ln p_t, with dp_t/dx = s p_t (1 - p_t)
        grad[i] = (float) (at * s * (gamma * pt * Math.pow(1 - pt, gamma) * logPt
            - Math.pow(1 - pt, gamma + 1)));
        double h = at * pt * Math.pow(1 - pt, gamma) * (gamma * (1 - pt) * logPt
            - gamma * gamma * pt * logPt + (2 * gamma + 1) * (1 - pt));
        hess[i] = (float) Math.max(h, 0.0);
      }
      return Arrays.asList(grad, hess);
    }
  }

  /** Softmax focal objective as written by hand: softmax per row, then the chain rule. */
  static final class PerRowSoftmax implements IObjective {
    private static final long serialVersionUID = 1L;
    private final float[] labels;
    private final int k;
    private final double gamma;

    PerRowSoftmax(float[] labels, int k, double gamma) {
      this.labels = labels;
      this.k = k;
      this.gamma = gamma;
    }

    @Override
    public List<float[]> getGradient(float[][] predicts, DMatrix dtrain) {
      int n = predicts.length;
      float[] grad = new float[n * k];
      float[] hess = new float[n * k];
      double[] p = new double[k];
      for (int i = 0; i < n; i++) {
        float[] row = predicts[i];
        int t = (int) labels[i];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < k; j++) {
          max = Math.max(max, row[j]);
        }
        double sum = 0;
        for (int j = 0; j < k; j++) {
          p[j] = Math.exp(row[j] - max);
          sum += p[j];
        }
        for (int j = 0; j < k; j++) {
          p[j] /= sum;
        }
        double pt = p[t];
        double u = Math.log(pt);
        double q = 1 - pt;
        double f1 = gamma * pt * Math.pow(q, gamma - 1) * u - Math.pow(q, gamma);
        double f2 = gamma * Math.pow(q, gamma - 1) * pt * (u + 2)
            - gamma * (gamma - 1) * Math.pow(q, gamma - 2) * pt * pt * u;
        for (int j = 0; j < k; j++) {
          double d = (j == t ? 1 : 0) - p[j];
          grad[i * k + j] = (float) (f1 * d);
          double h = f2 * d * d - f1 * p[j] * (1 - p[j]);
          hess[i * k + j] = (float) Math.max(h, 0.0);
        }
      }
      return Arrays.asList(grad, hess);
    }
  }
}
