package dev.focalsimd.kernels;

import java.lang.System.Logger.Level;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;

/**
 * Chooses the kernel once per JVM, the way Apache Lucene's vectorization provider does: the vector
 * kernel is used only on HotSpot with C2, with {@code jdk.incubator.vector} resolved in the boot
 * layer and a preferred species of at least 128 bits. The vector class is loaded reflectively, so
 * a JVM without the module never touches it. The system property {@value #PROPERTY} ({@code
 * scalar} or {@code vector}) overrides the choice.
 */
public final class KernelProvider {

  /** System property that forces the kernel AUTO resolves to: {@code scalar} or {@code vector}. */
  public static final String PROPERTY = "dev.focalsimd.kernel";

  /** The fix to name wherever the vector kernel is unavailable for want of the module. */
  public static final String FIX = "start the JVM with --add-modules jdk.incubator.vector";

  private static final String VECTOR_CLASS = "dev.focalsimd.kernels.vector.VectorKernel";
  private static final System.Logger LOG = System.getLogger("dev.focalsimd");

  private KernelProvider() {}

  /** What this JVM can do; computed once. */
  public static final class Probe {
    /** The vector kernel, or null where it is unusable. */
    public final FocalKernel vector;
    /** Why the vector kernel is unusable, or null. */
    public final String vectorUnavailableReason;
    /** The preferred species' size in bits, or 0 where the module is not resolved. */
    public final int vectorBitSize;
    /** The kernel AUTO resolves to; null where {@link #autoError} says why there is none. */
    public final FocalKernel auto;
    /**
     * Why AUTO resolves to no kernel (a {@value KernelProvider#PROPERTY} value that is unknown, or
     * {@code vector} where the vector kernel is unavailable), or null.
     */
    public final String autoError;
    /** Whether {@value KernelProvider#PROPERTY} made the choice. */
    public final boolean forced;

    Probe(FocalKernel vector, String reason, int bits, FocalKernel auto, String autoError,
        boolean forced) {
      this.vector = vector;
      this.vectorUnavailableReason = reason;
      this.vectorBitSize = bits;
      this.auto = auto;
      this.autoError = autoError;
      this.forced = forced;
    }

    /**
     * The kernel AUTO resolves to.
     *
     * @throws IllegalStateException with {@link #autoError} where {@value KernelProvider#PROPERTY}
     *     asks for what this JVM cannot give; the explicit SCALAR and VECTOR choices are unaffected
     */
    public FocalKernel auto() {
      if (auto == null) {
        throw new IllegalStateException(autoError);
      }
      return auto;
    }
  }

  private static final class Holder {
    static final Probe PROBE = detect();
  }

  /** The probe of this JVM, computed (and logged) on first use. */
  public static Probe probe() {
    return Holder.PROBE;
  }

  private static Probe detect() {
    String reason = null;
    FocalKernel vector = null;
    int bits = 0;
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      reason = "module jdk.incubator.vector is not resolved; " + FIX;
    } else {
      try {
        Class<?> cls = Class.forName(VECTOR_CLASS);
        bits = (int) MethodHandles.lookup()
            .findStatic(cls, "preferredBitSize", MethodType.methodType(int.class))
            .invoke();
        String jit = jitProblem();
        if (jit != null) {
          reason = jit;
        } else if (bits < 128) {
          reason = "preferred vector size is " + bits + " bits, below 128";
        } else {
          vector = (FocalKernel) MethodHandles.lookup()
              .findStatic(cls, "create", MethodType.methodType(FocalKernel.class))
              .invoke();
        }
      } catch (Throwable t) {
        reason = "vector kernel failed to load: " + t;
      }
    }
    Probe probe = choose(vector, reason, bits, System.getProperty(PROPERTY, ""));
    if (probe.auto == null) {
      LOG.log(Level.ERROR, "focal-simd: " + probe.autoError);
    } else if (probe.auto != vector && probe.forced) {
      LOG.log(Level.INFO,
          "focal-simd: Kernel.AUTO is SCALAR (forced by -D" + PROPERTY + "=scalar)");
    } else if (probe.auto != vector) {
      LOG.log(Level.WARNING, "focal-simd: vector kernel unavailable (" + reason
          + "); Kernel.AUTO is SCALAR");
    } else {
      LOG.log(Level.INFO, "focal-simd: Kernel.AUTO is VECTOR" + (probe.forced ? " (forced)" : "")
          + ", " + bits + "-bit species");
    }
    return probe;
  }

  /**
   * AUTO's kernel from what the JVM offers and the {@value #PROPERTY} value {@code forced}: never
   * throws, so that a bad value fails each AUTO choice with its reason (not the class's
   * initialization, which would leave every later use a NoClassDefFoundError), while SCALAR and
   * an available VECTOR stay usable. The module's fix is in {@code reason} only where the module
   * is missing: where it is resolved and the kernel is off for another reason (no C2, a species
   * below 128 bits), adding the module would not help.
   */
  static Probe choose(FocalKernel vector, String reason, int bits, String forced) {
    String f = forced.trim().toLowerCase(Locale.ROOT);
    switch (f) {
      case "scalar":
        return new Probe(vector, reason, bits, ScalarKernel.INSTANCE, null, true);
      case "vector":
        return vector != null ? new Probe(vector, reason, bits, vector, null, true)
            : new Probe(null, reason, bits, null, "-D" + PROPERTY + "=vector, but the vector "
                + "kernel is unavailable: " + reason, true);
      case "":
        return new Probe(vector, reason, bits, vector != null ? vector : ScalarKernel.INSTANCE,
            null, false);
      default:
        return new Probe(vector, reason, bits, null,
            "-D" + PROPERTY + "=" + forced.trim() + " is not one of: scalar, vector", true);
    }
  }

  /** Why this JVM would run the vector kernel slowly, or null: interpreter only, or no C2. */
  private static String jitProblem() {
    String info = System.getProperty("java.vm.info", "");
    if (info.contains("interpreted mode")) {
      return "the JVM runs in interpreted mode (-Xint)";
    }
    String vm = System.getProperty("java.vm.name", "");
    if (!vm.contains("HotSpot") && !vm.contains("OpenJDK")) {
      return "not a HotSpot JVM (" + vm + ")";
    }
    try {
      List<String> args = ManagementFactory.getRuntimeMXBean().getInputArguments();
      for (String a : args) {
        if (a.startsWith("-XX:TieredStopAtLevel=") && !a.endsWith("=4")) {
          return "C2 is disabled (" + a + ")";
        }
      }
    } catch (RuntimeException | LinkageError e) {
      // java.management absent: assume the default JIT configuration.
    }
    return null;
  }
}
