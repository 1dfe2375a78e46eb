package dev.focalsimd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * VirtualThreadBench's virtual caller computes what the platform caller does, bit for bit (the
 * sum of its calls' losses, in the same order); its empty callers make no call; before JDK 21 the virtual cells fail at setup, naming the JDK.
 */
class VirtualThreadBenchTest {

  private static VirtualThreadBench bench(String form, String caller) throws Exception {
    VirtualThreadBench b = new VirtualThreadBench();
    b.form = form;
    b.shape = "64x16";
    b.caller = caller;
    b.setup();
    return b;
  }

  @Test
  void virtualCallerGivesThePlatformCallersBits() throws Throwable {
    boolean virtualThreads = Runtime.version().feature() >= 21;
    for (String form : new String[] {"one_vs_all", "softmax", "sigmoid"}) {
      float platform = bench(form, "platform").forwardBackward();
      assertTrue(Float.isFinite(platform) && platform > 0, form + ": " + platform);
      if (virtualThreads) {
        float virtual = bench(form, "virtual").forwardBackward();
        assertEquals(Float.floatToRawIntBits(platform), Float.floatToRawIntBits(virtual),
            form + ": " + platform + " on a platform thread, " + virtual + " on a virtual one");
        assertEquals(VirtualThreadBench.CALLS, bench(form, "virtualEmpty").forwardBackward());
      } else {
        IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> bench(form, "virtual"));
        assertTrue(e.getMessage().contains("JDK 21"), e.getMessage());
      }
    }
  }
}
