package dev.focalsimd.modcheck;

import dev.focalsimd.FocalLoss;
import dev.focalsimd.Kernel;
import dev.focalsimd.Platform;
import dev.focalsimd.Reduction;
import java.lang.module.ModuleDescriptor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Uses the kernel jar the way an application does, on the module path or on the class path, and
 * checks what each must give: the named module and its encapsulation, the kernel AUTO chooses, and
 * correct values (issue 3's inputs) through arrays and direct buffers.
 *
 * <p>Usage: {@code Main module|classpath SCALAR|VECTOR}. Exit status 1 on any failure.
 */
public final class Main {
  private static int failures;

  private static void check(boolean ok, String what) {
    System.out.println((ok ? "  ok   " : "  FAIL ") + what);
    if (!ok) {
      failures++;
    }
  }

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    Kernel expected = Kernel.valueOf(args[1]);
    Module m = FocalLoss.class.getModule();
    Platform p = FocalLoss.platform();
    System.out.println("modcheck: " + mode + ", expecting " + expected + "; " + p);

    boolean onModulePath = mode.equals("module");
    check(m.isNamed() == onModulePath, "FocalLoss is in " + (m.isNamed() ? "the named module "
        + m.getName() : "the unnamed module"));
    if (onModulePath) {
      check("dev.focalsimd".equals(m.getName()), "module name dev.focalsimd");
      ModuleDescriptor d = m.getDescriptor();
      Set<String> exports = d.exports().stream().map(ModuleDescriptor.Exports::source)
          .collect(Collectors.toSet());
      check(exports.equals(Set.of("dev.focalsimd")), "exports only dev.focalsimd: " + exports);
      check(d.exports().stream().noneMatch(ModuleDescriptor.Exports::isQualified),
          "no qualified exports");
      check(d.requires().stream().anyMatch(r -> r.name().equals("jdk.incubator.vector")
          && r.modifiers().contains(ModuleDescriptor.Requires.Modifier.STATIC)),
          "requires static jdk.incubator.vector");
    }
    // The internal packages are encapsulated on the module path, plain public on the class path.
    Class<?> internal = Class.forName("dev.focalsimd.kernels.ScalarKernel");
    boolean accessible;
    try {
      internal.getField("INSTANCE").get(null);
      accessible = true;
    } catch (IllegalAccessException e) {
      accessible = false;
    }
    check(accessible != onModulePath, "dev.focalsimd.kernels is "
        + (accessible ? "accessible" : "encapsulated"));

    check(p.autoKernel() == expected, "AUTO chose " + p.autoKernel());
    boolean moduleResolved = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    if (expected == Kernel.VECTOR) {
      check(FocalLoss.softmax().kernel(Kernel.VECTOR).build().kernel() == Kernel.VECTOR,
          "Kernel.VECTOR builds");
    } else if (!moduleResolved) {
      try {
        FocalLoss.softmax().kernel(Kernel.VECTOR).build();
        check(false, "Kernel.VECTOR must fail without the module");
      } catch (IllegalStateException e) {
        check(e.getMessage().contains("--add-modules jdk.incubator.vector"),
            "Kernel.VECTOR fails at build naming the fix: " + e.getMessage());
      }
    }

    for (Kernel k : new Kernel[] {Kernel.AUTO, Kernel.SCALAR}) {
      // Issue 3: softmax, logits [0, 80], target 0, gamma 2, SUM: loss 80, gradient [-1, 1].
      FocalLoss softmax = FocalLoss.softmax().gamma(2f).reduction(Reduction.SUM).kernel(k).build();
      float[] g = new float[2];
      float l = softmax.forwardBackward(new float[] {0f, 80f}, new int[] {0}, 2, g);
      check(Math.abs(l - 80f) <= 1e-4f && Math.abs(g[0] + 1f) <= 1e-6f
          && Math.abs(g[1] - 1f) <= 1e-6f, k + " softmax [0, 80]: " + l + ", [" + g[0] + ", "
          + g[1] + "]");
      // The same through direct buffers at a position.
      FloatBuffer x = direct(3 + 2);
      x.put(3, 0f).put(4, 80f).position(3);
      IntBuffer t = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder()).asIntBuffer();
      t.put(1, 0).position(1).limit(2);
      FloatBuffer gb = direct(3 + 2);
      gb.position(3);
      float lb = softmax.forwardBackward(x, t, 2, gb);
      check(lb == l && gb.get(3) == g[0] && gb.get(4) == g[1] && x.position() == 3
          && gb.position() == 3, k + " direct buffers give the array's bits");
      // Issue 3: sigmoid, x = 1, gamma 0, alpha 0.25, y = 1: 0.0783154.
      FocalLoss sigmoid = FocalLoss.sigmoid().gamma(0f).alpha(0.25f).kernel(k).build();
      float s = sigmoid.forward(new float[] {1f}, new float[] {1f}, 1);
      check(Math.abs(s - 0.0783154f) <= 1e-7f, k + " sigmoid x = 1, y = 1: " + s);
    }
    if (failures > 0) {
      System.out.println("modcheck: " + failures + " FAILED");
      System.exit(1);
    }
    System.out.println("modcheck: all checks passed (" + mode + ")");
  }

  private static FloatBuffer direct(int n) {
    return ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer();
  }
}
