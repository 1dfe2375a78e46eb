package dev.focalsimd.xgboost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;
import org.junit.jupiter.api.Test;

/** The example of xgboost/README.md, compiled and run so that it stays true. */
class ReadmeExampleTest {

  @Test
  void readmeExampleRuns() throws XGBoostError {
    int rows = 2000;
    int cols = 4;
    float[] features = new float[rows * cols];
    float[] labels = new float[rows];
    Random rnd = new Random(1);
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        features[i * cols + j] = (float) rnd.nextGaussian();
      }
      labels[i] = features[i * cols] + 0.5 * rnd.nextGaussian() > 2.0 ? 1f : 0f; // ~3% positive
    }

    // --- README example begins
    DMatrix train = new DMatrix(features, rows, cols); // row-major float[rows * cols]
    train.setLabel(labels);                             // 0 or 1 (or soft labels in [0, 1])

    Map<String, Object> params = new HashMap<>();
    params.put("objective", "binary:logistic"); // used only for base_score, predict() and the metric
    params.put("base_score", 0.5);              // margin 0 to start from
    params.put("max_depth", 4);
    params.put("eta", 0.1);
    params.put("min_child_weight", 0.01);       // focal Hessians are small: lower the default 1

    FocalObjective focal = FocalObjective.binary(2f, 0.25f); // gamma 2, alpha 0.25
    Booster booster = XGBoost.train(train, params, 50, new HashMap<>(), focal, null);
    float[][] probabilities = booster.predict(train);       // sigmoid of the margins
    // --- README example ends

    assertEquals(rows, probabilities.length);
    for (float[] p : probabilities) {
      assertTrue(p[0] >= 0f && p[0] <= 1f);
    }
    double ap = Synthetic.averagePrecision(column(probabilities), labels);
    assertTrue(ap > 0.1, "PR-AUC " + ap);
  }

  private static float[] column(float[][] a) {
    float[] out = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = a[i][0];
    }
    return out;
  }
}
