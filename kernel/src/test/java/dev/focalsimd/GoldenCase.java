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
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One golden vector file (schema in the golden README), read with Jackson from {@link #dir()}:
 * ../shared/golden, or the vendored copy in testdata/golden.
 */
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

  /** System property naming the golden directory to use; blank or unset: resolved as below. */
  static final String DIR_PROPERTY = "focalsimd.golden.dir";
  /** The project's canonical golden vectors, relative to the repository root. */
  static final String SHARED = "../shared/golden";
  /** The vendored copy of {@link #SHARED} in the repository, relative to its root. */
  static final String VENDORED = "testdata/golden";

  private static final System.Logger LOG = System.getLogger(GoldenCase.class.getName());
  private static volatile boolean logged;

  /**
   * The golden directory, the first of:
   *
   * <ol>
   *   <li>{@code -Dfocalsimd.golden.dir=DIR} when set and not blank (on the mvn command line it
   *       reaches the test JVM: surefire forwards user properties);
   *   <li>{@code ../shared/golden} from the repository root, when it exists: the project's
   *       canonical source, in the workspace beside the checkout;
   *   <li>{@code testdata/golden} in the repository: the vendored byte-for-byte copy of it, used
   *       by a clean clone and on GitHub Actions. {@link GoldenDriftTest} fails when the two
   *       differ; testdata/README.md says how to refresh the copy.
   * </ol>
   *
   * <p>The repository root is the nearest ancestor of the working directory (kernel/ under Maven)
   * holding testdata/golden ({@link #repoRoot()}).
   *
   * @throws IllegalStateException if the property names no directory, or no root is found
   */
  public static Path dir() {
    String p = System.getProperty(DIR_PROPERTY);
    Path d;
    String how;
    if (p != null && !p.isBlank()) {
      d = Paths.get(p).toAbsolutePath().normalize();
      how = "-D" + DIR_PROPERTY;
      if (!Files.isDirectory(d)) {
        throw new IllegalStateException("-D" + DIR_PROPERTY + "=" + p + " is not a directory");
      }
    } else {
      Optional<Path> shared = sharedDir();
      d = shared.orElseGet(GoldenCase::vendoredDir);
      how = shared.isPresent() ? "the canonical " + SHARED : "the vendored copy, " + SHARED
          + " being absent";
    }
    if (!logged) {
      logged = true;
      LOG.log(System.Logger.Level.INFO, "golden vectors: {0} ({1})", d, how);
    }
    return d;
  }

  /**
   * The repository root: the nearest ancestor of the working directory (itself included) that
   * holds {@link #VENDORED}.
   *
   * @throws IllegalStateException if there is none
   */
  static Path repoRoot() {
    Path cwd = Paths.get("").toAbsolutePath();
    for (Path d = cwd; d != null; d = d.getParent()) {
      if (Files.isDirectory(d.resolve(VENDORED))) {
        return d;
      }
    }
    throw new IllegalStateException("golden vectors not found: no ancestor of " + cwd
        + " holds " + VENDORED + "; set -D" + DIR_PROPERTY);
  }

  /** {@link #VENDORED} in the repository (it exists: {@link #repoRoot()} is found by it). */
  static Path vendoredDir() {
    return repoRoot().resolve(VENDORED);
  }

  /** {@link #SHARED} from the repository root, if that directory exists. */
  static Optional<Path> sharedDir() {
    Path g = repoRoot().resolve(SHARED).normalize();
    return Files.isDirectory(g) ? Optional.of(g) : Optional.empty();
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
