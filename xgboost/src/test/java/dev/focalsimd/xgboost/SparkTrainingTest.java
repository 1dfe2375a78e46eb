package dev.focalsimd.xgboost;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.focalsimd.FocalLoss;
import dev.focalsimd.Reduction;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The focal objective trained through xgboost4j-spark 3.4.0 ({@code XGBoostClassifier
 * .setCustomObj}) on Spark in local[2] mode with two workers. Compiled and run only with {@code
 * -Pspark}.
 */
class SparkTrainingTest {

  private static SparkSession spark;
  private static Synthetic data;
  private static Dataset<Row> frame;

  @BeforeAll
  static void start() {
    assumeTrue(Runtime.version().feature() < 23, "Spark 3.5 (Hadoop 3.3) needs "
        + "Subject.getSubject, unsupported from JDK 23 on; run this test on JDK 17");
    spark = SparkSession.builder().master("local[2]").appName("focal-simd-xgboost")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate();
    data = Synthetic.imbalanced(77, 4000, 8, 0.05);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < data.rows; i++) {
      double[] f = new double[data.features];
      for (int j = 0; j < f.length; j++) {
        f[j] = data.x[i * data.features + j];
      }
      rows.add(RowFactory.create((long) i, (double) data.labels[i], Vectors.dense(f)));
    }
    StructType schema = new StructType()
        .add("id", DataTypes.LongType)
        .add("label", DataTypes.DoubleType)
        .add("features", SQLDataTypes.VectorType());
    frame = spark.createDataFrame(rows, schema).repartition(2).cache();
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
  }

  /** The same parameters for every model; obj null: the built-in binary:logistic. */
  private static XGBoostClassificationModel fit(FocalObjective obj) {
    // The Scala setters return the erased type parameter (Params) to Java: no chaining.
    XGBoostClassifier c = new XGBoostClassifier();
    c.setNumWorkers(2);
    c.setNumRound(15);
    c.setMaxDepth(3);
    c.setEta(0.3);
    c.setNthread(1);
    c.setSeed(0L);
    c.setObjective("binary:logistic");
    c.setBaseScore(0.5);
    c.setMinChildWeight(0.01);
    if (obj != null) {
      c.setCustomObj(ScalaFocalObjective.of(obj));
    }
    return (XGBoostClassificationModel) c.fit(frame);
  }

  /** Positive-class margins of the model on the training frame, in id order. */
  private static float[] margins(XGBoostClassificationModel model) {
    List<Row> out = model.transform(frame).orderBy("id").select("rawPrediction")
        .collectAsList();
    float[] m = new float[out.size()];
    for (int i = 0; i < m.length; i++) {
      Vector raw = (Vector) out.get(i).get(0);
      m[i] = (float) raw.apply(raw.size() - 1);
    }
    return m;
  }

  @Test
  void focalObjectiveTrainsOnSparkWithTwoWorkers() {
    float[] builtin = margins(fit(null));
    float[] gamma0 = margins(fit(FocalObjective.binary(0f, -1f)));
    float[] gamma2 = margins(fit(FocalObjective.binary(2f, 0.25f)));

    float[] labels = new float[data.rows];
    System.arraycopy(data.labels, 0, labels, 0, labels.length);
    double diff0 = maxDiff(Synthetic.sigmoid(builtin), Synthetic.sigmoid(gamma0));
    double diff2 = maxDiff(Synthetic.sigmoid(builtin), Synthetic.sigmoid(gamma2));
    FocalLoss loss = FocalLoss.sigmoid().gamma(2f).alpha(0.25f).reduction(Reduction.MEAN).build();
    float start = loss.forward(new float[data.rows], labels, 1);
    float trained = loss.forward(gamma2, labels, 1);
    double ap = Synthetic.averagePrecision(Synthetic.sigmoid(gamma2), labels);
    System.out.printf(Locale.ROOT, "xgboost4j-spark local[2], 2 workers, 15 rounds, %d rows:"
        + " gamma 0 vs binary:logistic max |p diff| %.3e; gamma 2 vs binary:logistic %.3e;"
        + " gamma 2 training focal loss %.5f -> %.5f, train PR-AUC %.4f%n", data.rows, diff0,
        diff2, start, trained, ap);
    assertTrue(diff0 <= 1e-5, "gamma 0 on Spark should match binary:logistic: " + diff0);
    assertTrue(diff2 > 1e-3, "gamma 2 trains a different model: " + diff2);
    assertTrue(trained < 0.5 * start, "focal training loss fell: " + start + " -> " + trained);
  }

  private static double maxDiff(float[] a, float[] b) {
    double d = 0;
    for (int i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
    }
    return d;
  }
}
