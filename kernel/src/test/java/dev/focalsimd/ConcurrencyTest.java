package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * One FocalLoss instance used by 8 threads at once, each with its own arrays or buffers, gives the
 * same bits as sequential calls; and the parallelism option does not change a single bit.
 */
class ConcurrencyTest {

  static final int THREADS = 8;
  static final int ROUNDS = 6;

  /** Forms x target kinds, with the containers each thread uses (arrays and direct buffers). */
  private static List<Scenario> perThread(RefLoss.Form form, boolean indices, int n, int c,
      int reduction) {
    List<Scenario> list = new ArrayList<>();
    Scenario.Container[] containers = Scenario.Container.values();
    for (int i = 0; i < THREADS; i++) {
      // The same options (seed 77) for every thread, its own data (seed 1000 + i).
      list.add(new Scenario(form, indices, n, c, 2.5f, reduction, 77,
          containers[i % containers.length], 1000 + i));
    }
    return list;
  }

  @Test
  void eightThreadsShareOneInstance() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      for (Kernel k : GoldenTest.kernels()) {
        for (RefLoss.Form form : RefLoss.Form.values()) {
          for (boolean indices : new boolean[] {false, true}) {
            // C = 37 rows x 300: several blocks for the staged (direct buffer) path too.
            List<Scenario> data = perThread(form, indices, 300, 37, 1);
            FocalLoss shared = data.get(0).build(k);
            String what = k + " " + form + (indices ? " indices" : " dense");
            runShared(pool, shared, data, ROUNDS, what);
          }
        }
      }
    } finally {
      pool.shutdownNow();
      assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
    }
  }

  @Test
  void eightThreadsShareOneParallelInstance() throws Exception {
    // Above the threshold with parallelism 3: the 8 callers share the instance's worker pool.
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      int c = 64;
      int n = FocalLoss.PARALLEL_THRESHOLD / c + 50;
      for (Kernel k : GoldenTest.kernels()) {
        List<Scenario> data = perThread(RefLoss.Form.SOFTMAX, true, n, c, 1);
        FocalLoss shared = data.get(0).build(k, Reduction.MEAN, 3);
        runShared(pool, shared, data, 3, k + " parallel softmax");
      }
    } finally {
      pool.shutdownNow();
      assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
    }
  }

  /**
   * The same on virtual threads (JDK 21 and later), whose calls borrow pooled scratch ({@code
   * Scratch}): 8 long-lived virtual threads sharing the instance, then every call on a virtual
   * thread of its own, 8 at a time; serial and with parallelism 3.
   */
  @Test
  void virtualThreadsShareOneInstance() throws Exception {
    ExecutorService pool = dev.focalsimd.kernels.ScratchTestAccess.virtualThreadsOrSkip();
    try {
      for (Kernel k : GoldenTest.kernels()) {
        for (RefLoss.Form form : RefLoss.Form.values()) {
          for (boolean indices : new boolean[] {false, true}) {
            List<Scenario> data = perThread(form, indices, 300, 37, 1);
            FocalLoss shared = data.get(0).build(k);
            String what = "virtual threads " + k + " " + form + (indices ? " indices" : " dense");
            runShared(pool, shared, data, ROUNDS, what);
            runPerCall(pool, shared, data, ROUNDS, what + ", a thread per call");
          }
        }
        int c = 64;
        int n = FocalLoss.PARALLEL_THRESHOLD / c + 50;
        List<Scenario> data = perThread(RefLoss.Form.SOFTMAX, true, n, c, 1);
        FocalLoss shared = data.get(0).build(k, Reduction.MEAN, 3);
        runPerCall(pool, shared, data, 2, "virtual threads " + k + " parallel softmax");
      }
    } finally {
      pool.shutdown();
      assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
    }
  }

  /** As runShared, but each call a task of its own (on a virtual thread, a new thread). */
  private static void runPerCall(ExecutorService pool, FocalLoss shared, List<Scenario> data,
      int rounds, String what) throws Exception {
    List<Scenario.Result> sequential = sequential(shared, data, 1);
    for (int round = 0; round < rounds; round++) {
      List<Future<Scenario.Result>> futures = new ArrayList<>();
      for (Scenario s : data) {
        futures.add(pool.submit(() -> s.run(shared)));
      }
      for (int i = 0; i < THREADS; i++) {
        assertSameBits(sequential.get(i), futures.get(i).get(5, TimeUnit.MINUTES),
            what + " thread data " + data.get(i));
      }
    }
  }

  /**
   * Each scenario's result on the calling thread, after warmUps rounds of them all: sequential
   * results after warm-up, so that these tests are about threads; whether the first (interpreted)
   * calls give the same bits as compiled ones is JitTierTest's job.
   */
  private static List<Scenario.Result> sequential(FocalLoss shared, List<Scenario> data,
      int warmUps) {
    for (int w = 0; w < warmUps; w++) {
      for (Scenario s : data) {
        s.run(shared);
      }
    }
    List<Scenario.Result> results = new ArrayList<>();
    for (Scenario s : data) {
      results.add(s.run(shared));
    }
    return results;
  }

  private static void runShared(ExecutorService pool, FocalLoss shared, List<Scenario> data,
      int rounds, String what) throws Exception {
    List<Scenario.Result> sequential = sequential(shared, data, 3);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<Integer>> futures = new ArrayList<>();
    for (int i = 0; i < THREADS; i++) {
      Scenario s = data.get(i);
      Scenario.Result expected = sequential.get(i);
      futures.add(pool.submit(() -> {
        start.await();
        for (int round = 0; round < rounds; round++) {
          Scenario.Result r = s.run(shared);
          assertSameBits(expected, r, what + " thread data " + s);
        }
        return rounds;
      }));
    }
    start.countDown();
    int total = 0;
    for (Future<Integer> f : futures) {
      total += f.get(5, TimeUnit.MINUTES);
    }
    assertEquals(THREADS * rounds, total);
  }

  @Test
  void parallelismDoesNotChangeABit() {
    int c = 100;
    int n = FocalLoss.PARALLEL_THRESHOLD / c + 123; // above the threshold, a ragged last block
    assertTrue((long) n * c >= FocalLoss.PARALLEL_THRESHOLD);
    for (Kernel k : GoldenTest.kernels()) {
      for (RefLoss.Form form : RefLoss.Form.values()) {
        for (boolean indices : new boolean[] {false, true}) {
          // Arrays, direct big-endian buffers (staged block by block, in parallel parts since
          // an adversarial tester found them on the calling thread alone), and for one form a
          // sliced heap buffer (offsets into the backing array); each container's bits the
          // arrays' too.
          Scenario.Container[] containers = form == RefLoss.Form.SIGMOID
              ? new Scenario.Container[] {Scenario.Container.ARRAY, Scenario.Container.HEAP_SLICE,
                  Scenario.Container.DIRECT_BIG_ENDIAN}
              : new Scenario.Container[] {Scenario.Container.ARRAY,
                  Scenario.Container.DIRECT_BIG_ENDIAN};
          Scenario.Result arrays = null;
          for (Scenario.Container container : containers) {
            Scenario s = new Scenario(form, indices, n, c, 0.5f, 1, 4242, container);
            FocalLoss serial = s.build(k, s.reduction, 1);
            s.run(serial); // warm-up (see runShared)
            Scenario.Result one = s.run(serial);
            if (arrays == null) {
              arrays = one;
            } else {
              assertSameBits(arrays, one, k + " " + container + " vs arrays, " + s);
            }
            for (int p : new int[] {2, 8}) {
              Scenario.Result r = s.run(s.build(k, s.reduction, p));
              assertSameBits(one, r, k + " parallelism " + p + " vs 1, " + s
                  + " (if JitTierTest fails too, suspect JIT-dependent bits, not threads)");
            }
          }
        }
      }
    }
  }

  static void assertSameBits(Scenario.Result expected, Scenario.Result actual, String what) {
    Scenario.assertSameBits(expected.loss, actual.loss, what + " loss");
    for (int i = 0; i < expected.grad.length; i++) {
      if (Float.floatToRawIntBits(expected.grad[i]) != Float.floatToRawIntBits(actual.grad[i])) {
        throw new AssertionError(what + " gradient[" + i + "]: " + expected.grad[i] + " != "
            + actual.grad[i]);
      }
    }
    for (int i = 0; i < expected.perSample.length; i++) {
      if (Float.floatToRawIntBits(expected.perSample[i])
          != Float.floatToRawIntBits(actual.perSample[i])) {
        throw new AssertionError(what + " per-sample[" + i + "]: " + expected.perSample[i]
            + " != " + actual.perSample[i]);
      }
    }
  }
}
