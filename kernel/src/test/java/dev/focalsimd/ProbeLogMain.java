package dev.focalsimd;

/**
 * Run by {@link ProbeLogTest} in a fresh JVM: builds and calls a {@link Kernel#SCALAR} loss,
 * writes {@link #MARK} to stderr, then builds a {@link Kernel#AUTO} loss. Where the kernel
 * choice's log record appears, relative to the mark, shows which build probed the JVM.
 */
public final class ProbeLogMain {
  static final String MARK = "-- scalar build and call done --";

  public static void main(String[] args) {
    FocalLoss scalar = FocalLoss.sigmoid().kernel(Kernel.SCALAR).build();
    float[] grad = new float[2];
    float loss = scalar.forwardBackward(new float[] {0.5f, -1f}, new float[] {1f, 0f}, 2, grad);
    System.err.println(MARK);
    System.err.flush();
    FocalLoss.sigmoid().build();
    System.out.println("loss " + loss);
  }

  private ProbeLogMain() {}
}
