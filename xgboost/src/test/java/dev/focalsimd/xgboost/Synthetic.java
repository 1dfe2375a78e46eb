package dev.focalsimd.xgboost;

import java.util.Random;

/** Seeded synthetic tabular data sets and the metrics the tests report. */
final class Synthetic {

  final int rows;
  final int features;
  final float[] x;
  final float[] labels;

  private Synthetic(int rows, int features, float[] x, float[] labels) {
    this.rows = rows;
    this.features = features;
    this.x = x;
    this.labels = labels;
  }

  /**
   * Binary data with a rare positive class: a nonlinear latent score plus logistic noise,
   * thresholded so that about {@code positiveRate} of the rows are positive.
   */
  static Synthetic imbalanced(long seed, int rows, int features, double positiveRate) {
    Random rnd = new Random(seed);
    float[] x = new float[rows * features];
    double[] score = new double[rows];
    for (int i = 0; i < rows; i++) {
      for (int f = 0; f < features; f++) {
        x[i * features + f] = (float) rnd.nextGaussian();
      }
      score[i] = latent(x, i * features) + logisticNoise(rnd);
    }
    // A threshold from a separate sample of the same distribution, so train and test rows of
    // one seed family share it.
    double threshold = quantile(seed ^ 0x5eedL, features, 1.0 - positiveRate);
    float[] y = new float[rows];
    for (int i = 0; i < rows; i++) {
      y[i] = score[i] > threshold ? 1f : 0f;
    }
    return new Synthetic(rows, features, x, y);
  }

  private static double latent(float[] x, int o) {
    return 1.2 * x[o] + 0.8 * x[o + 1] - 0.6 * x[o + 2] * x[o + 3] + 0.7 * Math.sin(2 * x[o + 4])
        + 0.5 * Math.max(0, x[o + 5]);
  }

  private static double logisticNoise(Random rnd) {
    double u = Math.min(Math.max(rnd.nextDouble(), 1e-12), 1 - 1e-12);
    return 0.4 * Math.log(u / (1 - u));
  }

  private static double quantile(long seed, int features, double q) {
    Random rnd = new Random(seed);
    int m = 200_000;
    double[] s = new double[m];
    float[] row = new float[features];
    for (int i = 0; i < m; i++) {
      for (int f = 0; f < features; f++) {
        row[f] = (float) rnd.nextGaussian();
      }
      s[i] = latent(row, 0) + logisticNoise(rnd);
    }
    java.util.Arrays.sort(s);
    return s[(int) (q * (m - 1))];
  }

  /** K classes from the arg-max of K noisy linear scores. */
  static Synthetic multiclass(long seed, int rows, int features, int classes) {
    Random rnd = new Random(seed);
    double[][] w = new double[classes][features];
    for (double[] wk : w) {
      for (int f = 0; f < features; f++) {
        wk[f] = rnd.nextGaussian();
      }
    }
    float[] x = new float[rows * features];
    float[] y = new float[rows];
    for (int i = 0; i < rows; i++) {
      for (int f = 0; f < features; f++) {
        x[i * features + f] = (float) rnd.nextGaussian();
      }
      int best = 0;
      double bestScore = Double.NEGATIVE_INFINITY;
      for (int k = 0; k < classes; k++) {
        double s = 0.5 * rnd.nextGaussian();
        for (int f = 0; f < features; f++) {
          s += w[k][f] * x[i * features + f];
        }
        if (s > bestScore) {
          bestScore = s;
          best = k;
        }
      }
      y[i] = best;
    }
    return new Synthetic(rows, features, x, y);
  }

  int positives() {
    int p = 0;
    for (float v : labels) {
      p += v > 0.5f ? 1 : 0;
    }
    return p;
  }

  // ------------------------------------------------------------------ metrics

  /** Average precision (area under the precision-recall curve, step-wise), ties broken by order. */
  static double averagePrecision(float[] score, float[] y) {
    Integer[] order = new Integer[score.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> Float.compare(score[b], score[a]));
    int positives = 0;
    for (float v : y) {
      positives += v > 0.5f ? 1 : 0;
    }
    double sum = 0;
    int tp = 0;
    for (int r = 0; r < order.length; r++) {
      if (y[order[r]] > 0.5f) {
        tp++;
        sum += tp / (double) (r + 1);
      }
    }
    return positives == 0 ? 0 : sum / positives;
  }

  /** Recall of the positive class with the decision p > threshold. */
  static double recall(float[] prob, float[] y, double threshold) {
    int tp = 0;
    int pos = 0;
    for (int i = 0; i < y.length; i++) {
      if (y[i] > 0.5f) {
        pos++;
        if (prob[i] > threshold) {
          tp++;
        }
      }
    }
    return pos == 0 ? 0 : tp / (double) pos;
  }

  /** Precision of the positive class with the decision p > threshold (1 where nothing is flagged). */
  static double precision(float[] prob, float[] y, double threshold) {
    int tp = 0;
    int flagged = 0;
    for (int i = 0; i < y.length; i++) {
      if (prob[i] > threshold) {
        flagged++;
        if (y[i] > 0.5f) {
          tp++;
        }
      }
    }
    return flagged == 0 ? 1 : tp / (double) flagged;
  }

  /** Mean binary cross-entropy of probabilities computed from margins (stable in the margin). */
  static double logLoss(float[] margin, float[] y) {
    double s = 0;
    for (int i = 0; i < y.length; i++) {
      double m = margin[i];
      double sp = Math.max(m, 0) + Math.log1p(Math.exp(-Math.abs(m))); // -ln(1 - p)
      s += sp - y[i] * m;
    }
    return s / y.length;
  }

  static float[] sigmoid(float[] margin) {
    float[] p = new float[margin.length];
    for (int i = 0; i < p.length; i++) {
      p[i] = (float) (1.0 / (1.0 + Math.exp(-margin[i])));
    }
    return p;
  }
}
