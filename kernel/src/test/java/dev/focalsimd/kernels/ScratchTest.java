package dev.focalsimd.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@link Scratch}: a platform thread keeps its own values, as with any ThreadLocal; a virtual
 * thread's call borrows a pooled set, which later calls reuse and no two calls in progress share.
 */
class ScratchTest {

  /** A scratch value that knows whether a call holds it. */
  static final class Marked {
    final AtomicBoolean held = new AtomicBoolean();
  }

  static final Scratch<Marked> MARKED = Scratch.withInitial(Marked::new);

  /** Executors.newVirtualThreadPerTaskExecutor() on JDK 21 and later; null before. */
  static ExecutorService virtualThreadPerTask() {
    try {
      return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor")
          .invoke(null);
    } catch (NoSuchMethodException e) {
      return null;
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  static ExecutorService virtualThreadsOrSkip() {
    ExecutorService pool = virtualThreadPerTask();
    Assumptions.assumeTrue(pool != null, "virtual threads need JDK 21 or later; this is "
        + Runtime.version());
    return pool;
  }

  /** What a test does with a virtual thread per task. */
  interface OnVirtualThreads {
    void run(ExecutorService pool) throws Exception;
  }

  /**
   * body with a virtual-thread-per-task executor, shut down after it (the test skipped before
   * JDK 21).
   */
  static void onVirtualThreads(OnVirtualThreads body) throws Exception {
    ExecutorService pool = virtualThreadsOrSkip();
    try {
      body.run(pool);
    } finally {
      pool.shutdown();
      assertTrue(pool.awaitTermination(1, TimeUnit.MINUTES));
    }
  }

  /** What a call runs while it holds the set that {@link Scratch#enter} lent it (or null). */
  interface InCall<V> {
    V run(Object[] set) throws Exception;
  }

  /** body between {@link Scratch#enter} and {@link Scratch#exit}, as the public calls run. */
  static <V> V inCall(InCall<V> body) throws Exception {
    Object[] set = Scratch.enter();
    try {
      return body.run(set);
    } finally {
      Scratch.exit(set);
    }
  }

  @Test
  void platformThreadsKeepTheirOwnValues() throws Exception {
    assertNull(Scratch.enter(), "no set is lent to a platform thread");
    Marked mine = MARKED.get();
    assertSame(mine, MARKED.get());
    Object[] other = new Object[1];
    Thread t = new Thread(() -> other[0] = MARKED.get());
    t.start();
    t.join();
    assertNotSame(mine, other[0]);
    Scratch.exit(null); // nothing to do
    assertSame(mine, MARKED.get());
  }

  @Test
  void oneVirtualThreadAfterAnotherReuseOneSet() throws Exception {
    onVirtualThreads(pool -> {
      int before = Scratch.created();
      List<Marked> seen = new ArrayList<>();
      for (int i = 0; i < 200; i++) { // one call at a time, each on a new virtual thread
        seen.add(pool.submit(() -> inCall(set -> {
          assertTrue(set != null, "a virtual thread's call is lent a set");
          assertNull(Scratch.enter(), "a call inside a call keeps the outer set");
          return MARKED.get();
        })).get(1, TimeUnit.MINUTES));
      }
      assertTrue(Scratch.created() - before <= 1,
          "sets created for 200 calls one after another: " + (Scratch.created() - before));
      for (Marked m : seen) {
        assertSame(seen.get(0), m, "each call reused the pooled set's value");
      }
      // outside a call a virtual thread has its own value, as with a plain ThreadLocal
      Marked outside = pool.submit(MARKED::get).get(1, TimeUnit.MINUTES);
      assertNotSame(seen.get(0), outside);
    });
  }

  /**
   * The public calls borrow: 300 calls one after another, each on a new virtual thread, create the
   * kernels' scratch once (one set's values), not once per thread (60 KB each, kept while the
   * thread lives: 125 MB for 2,000 parked virtual threads before {@link Scratch}).
   */
  @Test
  void publicCallsOnNewVirtualThreadsCreateScratchOnce() throws Exception {
    onVirtualThreads(pool -> {
      int n = 64;
      int c = 16;
      float[] probs = new float[n * c];
      float[] logits = new float[n * c];
      float[] y = new float[n * c];
      int[] t = new int[n];
      for (int i = 0; i < n * c; i++) {
        probs[i] = (i % 97 + 1) / 99f;
        logits[i] = (i % 13) - 6f;
      }
      for (int r = 0; r < n; r++) {
        t[r] = r % c;
        y[r * c + t[r]] = 1f;
      }
      dev.focalsimd.FocalLoss[] losses = {dev.focalsimd.FocalLoss.oneVsAll().build(),
          dev.focalsimd.FocalLoss.softmax().build(), dev.focalsimd.FocalLoss.sigmoid().build()};
      java.nio.FloatBuffer direct = java.nio.ByteBuffer.allocateDirect(4 * n * c)
          .order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer().put(logits);
      direct.flip();
      Callable<Float> call = () -> {
        float[] g = new float[n * c];
        return losses[0].forwardBackward(probs, y, c, g) + losses[1].forwardBackward(logits, t,
            c, g) + losses[2].forwardBackward(logits, y, c, g)
            + losses[1].forward(direct.duplicate(), java.nio.IntBuffer.wrap(t), c);
      };
      float expected = pool.submit(call).get(1, TimeUnit.MINUTES); // creates the set's values
      int before = Scratch.valuesCreated();
      for (int i = 0; i < 300; i++) {
        assertEquals(expected, pool.submit(call).get(1, TimeUnit.MINUTES));
      }
      int created = Scratch.valuesCreated() - before;
      assertEquals(0, created, "scratch values created by 300 calls after the first");
    });
  }

  static final Scratch<float[]> GROWN = Scratch.withInitial(() -> new float[4],
      Scratch.upTo(a -> a.length));

  /**
   * A set keeps a value no longer than {@link Scratch#POOLED_ELEMENTS}; a longer one is dropped
   * when the call ends and the next borrower creates a new one; platform threads keep theirs.
   */
  @Test
  void pooledSetsDropArraysAboveTheBound() throws Exception {
    onVirtualThreads(pool -> {
      for (int length : new int[] {Scratch.POOLED_ELEMENTS, Scratch.POOLED_ELEMENTS + 1}) {
        pool.submit(() -> inCall(set -> { // one call, which grows the value
          GROWN.set(new float[length]);
          return null;
        })).get(1, TimeUnit.MINUTES);
        // the next call, one after the other: the same set
        int seen = pool.submit(() -> inCall(set -> GROWN.get().length)).get(1, TimeUnit.MINUTES);
        assertEquals(length <= Scratch.POOLED_ELEMENTS ? length : 4, seen, "length " + length);
      }
      float[] big = new float[Scratch.POOLED_ELEMENTS + 1];
      GROWN.set(big); // a platform thread: a plain ThreadLocal
      assertSame(big, GROWN.get());
    });
  }

  /**
   * Through the public API: a one-vs-all call from logits on a row wider than the bound grows the
   * kernel's row scratch, which its set then drops (the next call creates it again: 1 value); a
   * row within the bound leaves it in the set (0 values). Both kernels keep such a row scratch.
   */
  @Test
  void wideRowScratchDoesNotStayInThePool() throws Exception {
    onVirtualThreads(pool -> {
      for (dev.focalsimd.Kernel k : new dev.focalsimd.Kernel[] {dev.focalsimd.Kernel.SCALAR,
          dev.focalsimd.Kernel.AUTO}) {
        dev.focalsimd.FocalLoss loss = dev.focalsimd.FocalLoss.oneVsAll().fromLogits(true)
            .kernel(k).build();
        for (int wide : new int[] {1000, 2 * Scratch.POOLED_ELEMENTS}) {
          Callable<Float> small = () -> loss.forwardBackward(new float[100], new int[1], 100,
              new float[100]);
          pool.submit(small).get(1, TimeUnit.MINUTES); // the set has every value this call needs
          pool.submit(() -> loss.forwardBackward(new float[wide], new int[1], wide,
              new float[wide])).get(1, TimeUnit.MINUTES);
          int before = Scratch.valuesCreated();
          pool.submit(small).get(1, TimeUnit.MINUTES);
          int created = Scratch.valuesCreated() - before;
          assertEquals(wide > Scratch.POOLED_ELEMENTS ? 1 : 0, created,
              k + ": values created after a row of " + wide + " classes");
        }
      }
    });
  }

  @Test
  void virtualThreadCallsInProgressNeverShareAValue() throws Exception {
    int calls = 64;
    onVirtualThreads(pool -> {
      int before = Scratch.created();
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Integer>> futures = new ArrayList<>();
      for (int i = 0; i < calls; i++) {
        Callable<Integer> call = () -> {
          start.await();
          int held = 0;
          for (int round = 0; round < 20; round++) {
            held += inCall(set -> {
              Marked m = MARKED.get();
              assertTrue(m.held.compareAndSet(false, true), "another call holds this value");
              Thread.sleep(1); // parks: another virtual thread runs on this carrier meanwhile
              assertSame(m, MARKED.get(), "the value after parking");
              m.held.set(false);
              return 1;
            });
          }
          return held;
        };
        futures.add(pool.submit(call));
      }
      start.countDown();
      int total = 0;
      for (Future<Integer> f : futures) {
        total += f.get(2, TimeUnit.MINUTES);
      }
      assertEquals(calls * 20, total);
      int created = Scratch.created() - before;
      assertTrue(created <= calls, "sets created for " + calls + " callers: " + created);
    });
  }
}
