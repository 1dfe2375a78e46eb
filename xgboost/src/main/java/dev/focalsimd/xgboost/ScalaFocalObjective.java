package dev.focalsimd.xgboost;

import java.util.List;
import java.util.Objects;
import ml.dmlc.xgboost4j.scala.DMatrix;
import ml.dmlc.xgboost4j.scala.ObjectiveTrait;

/**
 * A {@link FocalObjective} as the Scala API's {@code ObjectiveTrait}, which is what
 * xgboost4j-spark 3.4.0 takes: {@code XGBoostClassifier.setCustomObj(ObjectiveTrait)}
 * (XGBoostParams.scala, param {@code customObj}). On the executors training goes through the Java
 * {@code Booster.update(DMatrix, int, IObjective)}, so the Java method is the one called each
 * round; the Scala one delegates to it. Built for Scala 2.12 ({@code xgboost4j_2.12}).
 */
public final class ScalaFocalObjective implements ObjectiveTrait {

  private static final long serialVersionUID = 1L;

  private final FocalObjective objective;

  private ScalaFocalObjective(FocalObjective objective) {
    this.objective = Objects.requireNonNull(objective, "objective");
  }

  /** Wraps {@code objective} for the Scala API and xgboost4j-spark. */
  public static ScalaFocalObjective of(FocalObjective objective) {
    return new ScalaFocalObjective(objective);
  }

  public FocalObjective objective() {
    return objective;
  }

  @Override
  public scala.collection.immutable.List<float[]> getGradient(float[][] predicts, DMatrix dtrain) {
    List<float[]> r = objective.getGradient(predicts, dtrain.jDMatrix());
    return scala.collection.JavaConverters.asScalaBuffer(r).toList();
  }

  @Override
  public List<float[]> getGradient(float[][] predicts, ml.dmlc.xgboost4j.java.DMatrix dtrain) {
    return objective.getGradient(predicts, dtrain);
  }

  @Override
  public String toString() {
    return "ScalaFocalObjective[" + objective + "]";
  }
}
