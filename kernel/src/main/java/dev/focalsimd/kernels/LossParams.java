package dev.focalsimd.kernels;

/**
 * The immutable options of one loss, as the kernels read them. Built once by the public builders,
 * which have already checked every value.
 */
public final class LossParams {
  /** Which loss a {@link LossParams} describes. */
  public enum Form { ONE_VS_ALL, SOFTMAX, SIGMOID }

  /** Padding of the tiled weights: the most float lanes of any vector shape (2048 bits). */
  public static final int TILE_PAD = 64;

  /** {@link #gammaKind} for a gamma that has no multiplication fast path. */
  public static final int GAMMA_GENERAL = -1;

  public final Form form;
  /** Focusing parameter, >= 0. */
  public final float gamma;
  /** 0, 1, 2 or 3 where gamma is that integer (computed by multiplication), else GAMMA_GENERAL. */
  public final int gammaKind;
  /** One-vs-all and softmax: per-class weights, or null for all 1. */
  public final float[] alpha;
  /**
   * {@link #alpha} repeated to length C + {@link #TILE_PAD}: entry j is alpha[j mod C], so a vector
   * of consecutive elements starting in column c reads its weights at c. Null where alpha is.
   */
  public final float[] alphaTiled;
  /** Sigmoid: weight of positives, 1 - it for negatives; negative means no alpha weighting. */
  public final float sigmoidAlpha;
  /**
   * Sigmoid: alpha_t = {@code sigmoidAlphaPos y + sigmoidAlphaNeg (1 - y)} for a target y, alpha y
   * + (1 - alpha) (1 - y), in float as {@code fma(y, sigmoidAlphaPos, fma(-y, sigmoidAlphaNeg,
   * sigmoidAlphaNeg))}: exactly alpha at y = 1 and the float 1 - alpha at y = 0, two terms of one
   * sign in between (no cancellation); without alpha both are 1 and the result is exactly 1 for
   * every y in [0, 1]. Not (1 - alpha) + (2 alpha - 1) y, whose two roundings cancel at y = 1 to
   * alpha plus up to 6e-8 (a relative error of 4e-4 at alpha 1e-4).
   */
  public final float sigmoidAlphaNeg;
  /** Sigmoid: see {@link #sigmoidAlphaNeg}. */
  public final float sigmoidAlphaPos;
  /** Sigmoid: per-class weights multiplying column c, or null for all 1. */
  public final float[] classWeights;
  /**
   * Sigmoid with class weights: w_c alpha_t = y (w_c a) + (1 - y) (w_c b), with a and b {@link
   * #sigmoidAlphaPos} and {@link #sigmoidAlphaNeg}, made as {@code fma(y, pos, fma(y, -neg,
   * neg))} from these three rows: w_c a, w_c b and -(w_c b), each tiled like {@link #alphaTiled}
   * (the weight folded into the constants: two operations per element, where alpha_t times the
   * weight took three). Null without class weights (the constants are broadcast then).
   */
  public final float[] sigmoidPosTiled;
  /** See {@link #sigmoidPosTiled}. */
  public final float[] sigmoidNegTiled;
  /** See {@link #sigmoidPosTiled}. */
  public final float[] sigmoidNegNegTiled;
  /** One-vs-all: clip bounds, epsilon and 1 - epsilon rounded to float. */
  public final float lo;
  public final float hi;
  /** One-vs-all: the input holds logits, softmax is applied per row first. */
  public final boolean fromLogits;
  /** Softmax and sigmoid with class-index targets: rows with this target are skipped. */
  public final int ignoreIndex;
  /** Softmax: targets become y * (1 - ls) + ls / C. */
  public final float labelSmoothing;
  /** Hessian outputs are clamped to at least this value. */
  public final float hessianFloor;
  /**
   * The call's batch is large enough that its data comes from beyond the L2 cache ({@code
   * FocalLoss} decides from N x C alone, see {@link #streaming()}): the vector kernel then runs
   * its passes for one-vs-all on probabilities and the sigmoid over shorter chunks (measured
   * faster there, slower in L2). The loss's last bits depend on it (the chunks' sums are added in
   * another grouping), never on the container, the parallelism or earlier calls.
   */
  public final boolean streaming;
  /** This loss with {@link #streaming} set; itself where it is set. */
  private final LossParams streamingTwin;
  /** {@link #classMajor}'s last result (immutable; a race builds an equal one). */
  private volatile LossParams classMajorTwin;

  private LossParams(Builder b) {
    this.form = b.form;
    this.gamma = b.gamma;
    this.gammaKind = gammaKindOf(b.gamma);
    this.alpha = b.alpha == null ? null : b.alpha.clone();
    this.alphaTiled = tile(this.alpha);
    this.sigmoidAlpha = b.sigmoidAlpha;
    this.sigmoidAlphaNeg = b.sigmoidAlpha >= 0f ? 1f - b.sigmoidAlpha : 1f;
    this.sigmoidAlphaPos = b.sigmoidAlpha >= 0f ? b.sigmoidAlpha : 1f;
    this.classWeights = b.classWeights == null ? null : b.classWeights.clone();
    this.sigmoidPosTiled = tile(scaled(this.classWeights, sigmoidAlphaPos));
    this.sigmoidNegTiled = tile(scaled(this.classWeights, sigmoidAlphaNeg));
    this.sigmoidNegNegTiled = tile(scaled(this.classWeights, -sigmoidAlphaNeg));
    this.lo = b.epsilon;
    this.hi = 1f - b.epsilon;
    this.fromLogits = b.fromLogits;
    this.ignoreIndex = b.ignoreIndex;
    this.labelSmoothing = b.labelSmoothing;
    this.hessianFloor = b.hessianFloor;
    this.streaming = false;
    this.streamingTwin = new LossParams(this, this.alphaTiled, true);
  }

  /**
   * A twin of base: the same options and arrays (never written), but alphaTiled and streaming as
   * given; its own streaming twin ({@link #streaming()} and {@link #classMajor} build them).
   */
  private LossParams(LossParams base, float[] alphaTiled, boolean streaming) {
    this.form = base.form;
    this.gamma = base.gamma;
    this.gammaKind = base.gammaKind;
    this.alpha = base.alpha;
    this.alphaTiled = alphaTiled;
    this.sigmoidAlpha = base.sigmoidAlpha;
    this.sigmoidAlphaNeg = base.sigmoidAlphaNeg;
    this.sigmoidAlphaPos = base.sigmoidAlphaPos;
    this.classWeights = base.classWeights;
    this.sigmoidPosTiled = base.sigmoidPosTiled;
    this.sigmoidNegTiled = base.sigmoidNegTiled;
    this.sigmoidNegNegTiled = base.sigmoidNegNegTiled;
    this.lo = base.lo;
    this.hi = base.hi;
    this.fromLogits = base.fromLogits;
    this.ignoreIndex = base.ignoreIndex;
    this.labelSmoothing = base.labelSmoothing;
    this.hessianFloor = base.hessianFloor;
    this.streaming = streaming;
    this.streamingTwin = this; // a class-major twin is never asked for streaming()
  }

  /**
   * These options for elements in class-major order, {@code lanes} rows per class: {@link
   * #alphaTiled} holds alpha[j] at entries j lanes to (j + 1) lanes - 1 of its first C x lanes,
   * so that a kernel that treats a group of rows transposed to class-major order as one row of C x
   * lanes elements reads each element's weight where it reads a row's. The last one built is kept
   * (calls with one class count allocate nothing after the first); its {@link #streaming()} is
   * itself.
   */
  public LossParams classMajor(int classes, int lanes) {
    if (alpha == null) {
      return this; // every weight 1: nothing to lay out
    }
    LossParams twin = classMajorTwin;
    if (twin == null || twin.alphaTiled.length != classes * lanes + TILE_PAD) {
      float[] t = new float[classes * lanes + TILE_PAD];
      for (int i = 0; i < t.length; i++) {
        t[i] = alphaOf((i / lanes) % classes);
      }
      twin = new LossParams(this, t, streaming);
      classMajorTwin = twin;
    }
    return twin;
  }

  /** These options with {@link #streaming} set (one shared instance per loss, no allocation). */
  public LossParams streaming() {
    return streamingTwin;
  }

  /** w times a, each product rounded to float; null for null. */
  private static float[] scaled(float[] w, float a) {
    if (w == null) {
      return null;
    }
    float[] out = new float[w.length];
    for (int j = 0; j < w.length; j++) {
      out[j] = w[j] * a;
    }
    return out;
  }

  private static float[] tile(float[] w) {
    if (w == null) {
      return null;
    }
    float[] t = new float[w.length + TILE_PAD];
    for (int j = 0; j < t.length; j++) {
      t[j] = w[j % w.length];
    }
    return t;
  }

  static int gammaKindOf(float gamma) {
    if (gamma == 0f || gamma == 1f || gamma == 2f || gamma == 3f) {
      return (int) gamma;
    }
    return GAMMA_GENERAL;
  }

  /** Weight of class c for the one-vs-all and softmax forms. */
  public float alphaOf(int c) {
    return alpha == null ? 1f : alpha[c];
  }

  /** Weight of column c for the sigmoid form. */
  public float classWeightOf(int c) {
    return classWeights == null ? 1f : classWeights[c];
  }

  public static Builder builder(Form form) {
    return new Builder(form);
  }

  /** Mutable holder used by the public builders; values are trusted here. */
  public static final class Builder {
    private final Form form;
    public float gamma = 2f;
    public float[] alpha;
    public float sigmoidAlpha = 0.25f;
    public float[] classWeights;
    public float epsilon = 1e-7f;
    public boolean fromLogits;
    public int ignoreIndex = -100;
    public float labelSmoothing;
    public float hessianFloor = 0f;

    private Builder(Form form) {
      this.form = form;
    }

    public Form form() {
      return form;
    }

    public LossParams build() {
      return new LossParams(this);
    }
  }
}
