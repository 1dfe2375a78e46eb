package dev.focalsimd;

import java.util.ArrayList;
import java.util.List;

/**
 * Run by {@link JitTierTest} in a fresh JVM: computes every form and target kind once while the
 * kernels are still interpreted (or C1-compiled), then again after many calls under -Xbatch (C2
 * has compiled them), and compares the bits. Arguments: the kernels to run ({@link Kernel} names;
 * none: every kernel this JVM has); every form runs in each, one after another, so that the code
 * the forms share is compiled with all of their calls in its profile. Exit status 1 if any loss,
 * per-sample loss or gradient value differs.
 */
public final class JitTierMain {
  static final int WARM_CALLS = 1500;

  public static void main(String[] args) {
    List<Kernel> kernels = new ArrayList<>(GoldenTest.kernels());
    if (args.length > 0) {
      List<Kernel> asked = new ArrayList<>();
      for (String a : args) {
        asked.add(Kernel.valueOf(a));
      }
      kernels.retainAll(asked);
    }
    List<Scenario> cases = new ArrayList<>();
    int i = 0;
    for (RefLoss.Form form : RefLoss.Form.values()) {
      for (boolean indices : new boolean[] {false, true}) {
        cases.add(new Scenario(form, indices, 64, 37, Scenario.GAMMAS[i % 8], i, 31 + i,
            Scenario.Container.ARRAY));
        // rows of more than 4096 classes, whose sums go block by block (Passes.ROW_SUM_BLOCK,
        // in the vector kernel): on JDK 25 softmax's took other bits once C2 had compiled it (a
        // reviewer's find)
        cases.add(new Scenario(form, indices, 3, 4099, Scenario.GAMMAS[(i + 4) % 8], i, 61 + i,
            Scenario.Container.ARRAY));
        i++;
      }
    }
    // softmax with class indices and no label smoothing, the path of those block sums, over
    // logits N(0, 2^2) (Scenario's reach 1e4, where one class holds the whole sum and its order
    // shows in no bit)
    Scenario wide = new Scenario(RefLoss.Form.SOFTMAX, true, 20, 4097, 2f, 1, 7,
        Scenario.Container.ARRAY);
    wide.labelSmoothing = 0f;
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(7);
    for (int e = 0; e < wide.x.length; e++) {
      wide.x[e] = (float) (2 * rnd.nextGaussian());
    }
    cases.add(wide);
    List<Scenario.Result> cold = new ArrayList<>();
    for (Kernel k : kernels) {
      for (Scenario s : cases) {
        cold.add(s.run(s.build(k)));
      }
    }
    for (Kernel k : kernels) {
      for (Scenario s : cases) {
        FocalLoss loss = s.build(k);
        for (int w = 0; w < WARM_CALLS; w++) {
          s.run(loss);
        }
      }
    }
    int bad = 0;
    int c = 0;
    for (Kernel k : kernels) {
      for (Scenario s : cases) {
        Scenario.Result a = cold.get(c++);
        Scenario.Result b = s.run(s.build(k));
        int ps = differing(a.perSample, b.perSample);
        int g = differing(a.grad, b.grad);
        boolean loss = Float.floatToRawIntBits(a.loss) != Float.floatToRawIntBits(b.loss);
        String line = k + " " + s + ": loss " + (loss ? "DIFFERS" : "same") + ", per-sample "
            + ps + "/" + a.perSample.length + " differ, gradient " + g + "/" + a.grad.length
            + " differ";
        System.out.println(line);
        if (loss || ps > 0 || g > 0) {
          bad++;
        }
      }
    }
    System.out.println(bad == 0 ? "JitTierMain: same bits cold and warm"
        : "JitTierMain: " + bad + " case(s) give different bits cold and warm");
    System.exit(bad == 0 ? 0 : 1);
  }

  static int differing(float[] a, float[] b) {
    int n = 0;
    for (int i = 0; i < a.length; i++) {
      if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
        n++;
      }
    }
    return n;
  }
}
