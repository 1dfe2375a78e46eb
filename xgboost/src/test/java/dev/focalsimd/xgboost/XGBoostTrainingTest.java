package dev.focalsimd.xgboost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.focalsimd.FocalLoss;
import dev.focalsimd.Reduction;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.IObjective;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;
import org.junit.jupiter.api.Test;

/** Trains real XGBoost4J boosters (one thread) with the focal objective. */
class XGBoostTrainingTest {

  static DMatrix matrix(Synthetic d) throws XGBoostError {
    DMatrix m = new DMatrix(d.x, d.rows, d.features);
    m.setLabel(d.labels);
    return m;
  }

  static Map<String, Object> binaryParams() {
    Map<String, Object> p = new HashMap<>();
    p.put("nthread", 1);
    p.put("seed", 0);
    p.put("max_depth", 4);
    p.put("eta", 0.3);
    p.put("tree_method", "hist");
    // With a custom objective XGBoost uses this objective only for base_score, the prediction
    // transform (sigmoid) and the default metric: gradients come from the custom objective.
    p.put("objective", "binary:logistic");
    p.put("base_score", 0.5); // margin 0: no intercept estimation on either side
    return p;
  }

  /** XGBoost.train with no watches; obj null: the built-in objective of params. */
  static Booster train(DMatrix train, Map<String, Object> params, IObjective obj, int rounds)
      throws XGBoostError {
    return XGBoost.train(train, params, rounds, new HashMap<>(), obj, null);
  }

  static float[] column(float[][] a) {
    float[] out = new float[a.length * a[0].length];
    for (int i = 0; i < a.length; i++) {
      System.arraycopy(a[i], 0, out, i * a[i].length, a[i].length);
    }
    return out;
  }

  @Test
  void gammaZeroAlphaOffTrainsLikeBinaryLogistic() throws XGBoostError {
    Synthetic d = Synthetic.imbalanced(11, 5000, 8, 0.1);
    Synthetic test = Synthetic.imbalanced(12, 3000, 8, 0.1);
    DMatrix train = matrix(d);
    DMatrix eval = matrix(test);
    int rounds = 30;
    Booster builtin = train(train, binaryParams(), null, rounds);
    Booster focal = train(train, binaryParams(), FocalObjective.binary(0f, -1f), rounds);
    float[] pb = column(builtin.predict(eval));
    float[] pf = column(focal.predict(eval));
    float[] mb = column(builtin.predict(eval, true));
    float[] mf = column(focal.predict(eval, true));
    double maxP = 0;
    double maxM = 0;
    for (int i = 0; i < pb.length; i++) {
      maxP = Math.max(maxP, Math.abs(pb[i] - pf[i]));
      maxM = Math.max(maxM, Math.abs(mb[i] - mf[i]));
    }
    System.out.printf(Locale.ROOT, "gamma 0 / alpha off vs binary:logistic, %d rounds, %d test"
        + " rows: max |prediction difference| %.3e (probability), %.3e (margin)%n", rounds,
        pb.length, maxP, maxM);
    assertTrue(maxP <= 1e-5, "max probability difference " + maxP);
    // The margin is compared too, relative to its size, so saturated probabilities hide nothing.
    double maxAbsMargin = 0;
    for (float v : mb) {
      maxAbsMargin = Math.max(maxAbsMargin, Math.abs(v));
    }
    assertTrue(maxM <= 1e-5 * Math.max(1, maxAbsMargin), "max margin difference " + maxM);
  }

  @Test
  void imbalancedDataGammaTwoAgainstLogloss() throws XGBoostError {
    int features = 10;
    Synthetic trainData = Synthetic.imbalanced(2024, 20000, features, 0.015);
    Synthetic testData = Synthetic.imbalanced(2025, 20000, features, 0.015);
    double trainRate = trainData.positives() / (double) trainData.rows;
    double testRate = testData.positives() / (double) testData.rows;
    assertTrue(trainRate >= 0.01 && trainRate <= 0.02, "train positive rate " + trainRate);
    assertTrue(testRate >= 0.01 && testRate <= 0.02, "test positive rate " + testRate);
    DMatrix train = matrix(trainData);
    DMatrix test = matrix(testData);
    int rounds = 100;
    Map<String, Object> params = binaryParams();
    params.put("eta", 0.1);
    // The focal Hessian carries (1 - p_t)^gamma: with the default min_child_weight = 1 (a minimum
    // Hessian sum per leaf) almost no split of a gamma-2 tree qualifies. Same value for all rows.
    params.put("min_child_weight", 0.01);

    String[] names = {"binary:logistic (built-in)", "focal gamma 0, alpha off",
        "focal gamma 2, alpha off", "focal gamma 2, alpha 0.25", "focal gamma 2, alpha 0.75"};
    FocalObjective[] objectives = {null, FocalObjective.binary(0f, -1f),
        FocalObjective.binary(2f, -1f), FocalObjective.binary(2f, 0.25f),
        FocalObjective.binary(2f, 0.75f)};
    StringBuilder table = new StringBuilder();
    table.append(String.format(Locale.ROOT, "imbalanced data: %d train rows (%.2f%% positive),"
        + " %d test rows (%.2f%% positive), %d features, %d rounds, max_depth 4, eta 0.1,"
        + " min_child_weight 0.01, nthread 1%n", trainData.rows, 100 * trainRate, testData.rows,
        100 * testRate, features, rounds));
    table.append("| objective | test PR-AUC | test recall @0.5 | test precision @0.5 |"
        + " test logloss |\n| --- | --- | --- | --- | --- |\n");
    for (int o = 0; o < objectives.length; o++) {
      FocalObjective obj = objectives[o];
      Booster b = train(train, params, obj, rounds);
      float[] margin = column(b.predict(test, true));
      float[] prob = Synthetic.sigmoid(margin);
      double ap = Synthetic.averagePrecision(prob, testData.labels);
      double recall = Synthetic.recall(prob, testData.labels, 0.5);
      double precision = Synthetic.precision(prob, testData.labels, 0.5);
      double logloss = Synthetic.logLoss(margin, testData.labels);
      table.append(String.format(Locale.ROOT, "| %s | %.4f | %.4f | %.4f | %.4f |%n", names[o],
          ap, recall, precision, logloss));
      for (double m : new double[] {ap, recall, precision}) {
        assertTrue(m >= 0 && m <= 1, names[o] + ": metric " + m + " outside [0, 1]");
      }
      assertTrue(Double.isFinite(logloss) && logloss > 0, names[o] + ": logloss " + logloss);
      // Better than the base rate: the model ranks positives above chance.
      assertTrue(ap > 2 * testRate, names[o] + ": PR-AUC " + ap + " not above chance " + testRate);
    }
    System.out.print(table);
  }

  @Test
  void gammaTwoTrainingLossFalls() throws XGBoostError {
    Synthetic trainData = Synthetic.imbalanced(7, 5000, 8, 0.015);
    DMatrix train = matrix(trainData);
    FocalObjective obj = FocalObjective.binary(2f, 0.25f);
    Map<String, Object> params = binaryParams();
    params.put("min_child_weight", 0.01);
    FocalLoss loss = FocalLoss.sigmoid().gamma(2f).alpha(0.25f).reduction(Reduction.MEAN)
        .build();
    Booster b = train(train, params, null, 0);
    double[] curve = new double[4];
    int[] at = {0, 5, 20, 60};
    int done = 0;
    for (int c = 0; c < at.length; c++) {
      for (; done < at[c]; done++) {
        b.update(train, done, obj);
      }
      curve[c] = loss.forward(column(b.predict(train, true)), trainData.labels, 1);
    }
    System.out.printf(Locale.ROOT, "binary gamma 2 training focal loss after %s rounds: %s%n",
        java.util.Arrays.toString(at), java.util.Arrays.toString(curve));
    for (int c = 1; c < curve.length; c++) {
      assertTrue(curve[c] < curve[c - 1], "training loss did not fall: "
          + java.util.Arrays.toString(curve));
    }
  }

  @Test
  void multiclassTrainsAndItsTrainingLossFalls() throws XGBoostError {
    int k = 5;
    Synthetic trainData = Synthetic.multiclass(31, 4000, 8, k);
    DMatrix train = matrix(trainData);
    FocalObjective obj = FocalObjective.multiclass(k, 2f, 1f, 1f, 2f, 1f, 0.5f);
    Map<String, Object> params = new HashMap<>();
    params.put("nthread", 1);
    params.put("seed", 0);
    params.put("max_depth", 4);
    params.put("eta", 0.3);
    params.put("num_class", k);
    params.put("objective", "multi:softprob");
    params.put("min_child_weight", 0.01);
    FocalLoss loss = FocalLoss.softmax().gamma(2f).alpha(1f, 1f, 2f, 1f, 0.5f)
        .reduction(Reduction.MEAN).build();
    int[] t = new int[trainData.rows];
    for (int i = 0; i < t.length; i++) {
      t[i] = (int) trainData.labels[i];
    }
    Booster b = train(train, params, null, 0);
    int[] at = {0, 5, 20, 50};
    double[] curve = new double[at.length];
    double[] accuracy = new double[at.length];
    int done = 0;
    for (int c = 0; c < at.length; c++) {
      for (; done < at[c]; done++) {
        b.update(train, done, obj);
      }
      float[][] margins = b.predict(train, true);
      assertEquals(k, margins[0].length, "one margin per class");
      curve[c] = loss.forward(column(margins), t, k);
      int correct = 0;
      for (int i = 0; i < t.length; i++) {
        int best = 0;
        for (int j = 1; j < k; j++) {
          if (margins[i][j] > margins[i][best]) {
            best = j;
          }
        }
        correct += best == t[i] ? 1 : 0;
      }
      accuracy[c] = correct / (double) t.length;
    }
    System.out.printf(Locale.ROOT, "multiclass K=%d gamma 2 training focal loss after %s rounds:"
        + " %s, accuracy %s%n", k, java.util.Arrays.toString(at),
        java.util.Arrays.toString(curve), java.util.Arrays.toString(accuracy));
    for (int c = 1; c < curve.length; c++) {
      assertTrue(curve[c] < curve[c - 1], "training loss did not fall: "
          + java.util.Arrays.toString(curve));
    }
    assertTrue(accuracy[accuracy.length - 1] > 1.5 / k, "accuracy above chance");
  }
}
