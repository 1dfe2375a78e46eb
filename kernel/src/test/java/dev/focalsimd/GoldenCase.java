package dev.focalsimd;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** One golden vector file of ../shared/golden (schema in its README), read with Jackson. */
public final class GoldenCase {
  public String name;
  public String loss;
  public int batch;
  public int classes;
  public float gamma;
  public Double epsilon;
  public String reduction;
  public boolean fromLogits;
  public float[] input;
  public float[] targetProbs;
  public int[] targets;
  public long[] classCounts;
  /** one_vs_all and softmax: per-class weights; sigmoid: a scalar (see {@link #sigmoidAlpha}). */
  public Object alpha;
  public float[] classAlpha;
  public Integer ignoreIndex;
  public Float labelSmoothing;
  public double[] expectedPerSample;
  public Double expectedLoss;
  public double[] expectedGrad;
  public int autogradNan;
  public double[] publishedPerSample;

  private static final ObjectMapper MAPPER = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);

  /** The golden directory: -Dfocalsimd.golden.dir, else ../shared/golden from the repo root. */
  public static Path dir() {
    String p = System.getProperty("focalsimd.golden.dir");
    if (p != null) {
      return Paths.get(p);
    }
    for (Path d = Paths.get("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path g = d.resolve("../shared/golden").normalize();
      if (Files.isDirectory(g)) {
        return g;
      }
    }
    throw new IllegalStateException("golden vectors not found; set -Dfocalsimd.golden.dir");
  }

  public static GoldenCase load(String file) {
    try {
      return MAPPER.readValue(dir().resolve(file).toFile(), GoldenCase.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static List<String> files() {
    try (Stream<Path> s = Files.list(dir())) {
      return s.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".json")).sorted()
          .collect(Collectors.toList());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public float[] alphaArray() {
    if (!(alpha instanceof List)) {
      return null;
    }
    List<?> l = (List<?>) alpha;
    float[] a = new float[l.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = ((Number) l.get(i)).floatValue();
    }
    return a;
  }

  public float sigmoidAlpha() {
    return alpha == null ? 0.25f : ((Number) alpha).floatValue();
  }

  public Reduction reductionEnum() {
    switch (reduction) {
      case "none":
      case "sum":
        return Reduction.SUM;
      case "mean":
        return Reduction.MEAN;
      case "positives":
        return Reduction.POSITIVES;
      default:
        throw new IllegalArgumentException(reduction);
    }
  }

  /** The loss this case describes, on the given kernel. */
  public FocalLoss build(Kernel kernel) {
    switch (loss) {
      case "one_vs_all": {
        FocalLoss.OneVsAllBuilder b = FocalLoss.oneVsAll().gamma(gamma).fromLogits(fromLogits);
        if (epsilon != null) {
          b.epsilon(epsilon.floatValue());
        }
        if (classCounts != null) {
          b.alphaFromClassCounts(classCounts);
        } else if (alphaArray() != null) {
          b.alpha(alphaArray());
        }
        return b.reduction(reductionEnum()).kernel(kernel).build();
      }
      case "softmax": {
        FocalLoss.SoftmaxBuilder b = FocalLoss.softmax().gamma(gamma);
        if (alphaArray() != null) {
          b.alpha(alphaArray());
        }
        if (ignoreIndex != null) {
          b.ignoreIndex(ignoreIndex);
        }
        if (labelSmoothing != null) {
          b.labelSmoothing(labelSmoothing);
        }
        return b.reduction(reductionEnum()).kernel(kernel).build();
      }
      case "sigmoid": {
        FocalLoss.SigmoidBuilder b = FocalLoss.sigmoid().gamma(gamma).alpha(sigmoidAlpha());
        if (classAlpha != null) {
          b.classWeights(classAlpha);
        }
        return b.reduction(reductionEnum()).kernel(kernel).build();
      }
      default:
        throw new IllegalArgumentException(loss);
    }
  }

  @Override
  public String toString() {
    return name;
  }
}
