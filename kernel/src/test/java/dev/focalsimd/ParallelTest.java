package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.Test;

/** The block runner behind {@link FocalLoss.Builder#parallelism(int)}. */
class ParallelTest {

  @Test
  void everyPartRunsExactlyOnce() {
    for (int parallelism : new int[] {1, 2, 3, 8}) {
      for (int parts : new int[] {1, 2, 7, 64, 1000}) {
        AtomicIntegerArray runs = new AtomicIntegerArray(parts);
        Parallel.forEach(parallelism, parts, runs::incrementAndGet);
        for (int i = 0; i < parts; i++) {
          assertEquals(1, runs.get(i),
              "parallelism " + parallelism + ", part " + i + " of " + parts);
        }
      }
    }
  }

  /**
   * Calls in close succession, whose shares go to workers still waiting after the last call
   * (Parallel.LINGER_NANOS): every part of every call runs exactly once, and none after its call
   * has returned (a share handed to a waiting worker is waited for like a new one).
   */
  @Test
  void callsInCloseSuccessionRunEveryPartOnceAndWithinTheirCall() {
    for (int parallelism : new int[] {2, 3, 8}) {
      AtomicInteger late = new AtomicInteger();
      for (int call = 0; call < 2000; call++) {
        int parts = 1 + call % 13;
        AtomicIntegerArray runs = new AtomicIntegerArray(parts);
        AtomicBoolean returned = new AtomicBoolean();
        IntConsumer part = i -> {
          runs.incrementAndGet(i);
          if (i % 3 == 0) {
            spin(i);
          }
          if (returned.get()) {
            late.incrementAndGet();
          }
        };
        if (call % 2 == 0) {
          Parallel.forEach(parallelism, parts, part);
        } else {
          Parallel.forEach(parallelism, parts, part, () -> true, parts, part);
        }
        returned.set(true);
        for (int i = 0; i < parts; i++) {
          assertEquals(call % 2 == 0 ? 1 : 2, runs.get(i),
              "parallelism " + parallelism + ", call " + call + ", part " + i);
        }
      }
      assertEquals(0, late.get(), "parallelism " + parallelism + ": parts ran after their call");
    }
  }

  /**
   * A calling thread that is interrupted still waits for the helper's parts (they write the
   * caller's outputs), napping rather than spinning (an interrupted thread's park returns at once:
   * the wait used to spin a whole core), and still has its interrupt status when the call returns.
   * Its part holds until the helper has started the other one, which then takes 200 ms, so the
   * caller waits that long for phase 1 to end.
   */
  @Test
  void anInterruptedCallerNapsWhileItWaitsAndKeepsItsInterrupt() {
    Thread caller = Thread.currentThread();
    AtomicBoolean helperStarted = new AtomicBoolean();
    AtomicIntegerArray runs = new AtomicIntegerArray(3);
    long sleepMillis = 200;
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    boolean cpuTime = mx.isCurrentThreadCpuTimeSupported();
    caller.interrupt();
    long cpu0 = cpuTime ? mx.getCurrentThreadCpuTime() : 0;
    try {
      Parallel.forEach(2, 2, i -> {
        runs.incrementAndGet(i);
        if (Thread.currentThread() == caller) {
          long deadline = System.nanoTime() + 5_000_000_000L;
          while (!helperStarted.get() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
          }
        } else {
          helperStarted.set(true);
          try {
            Thread.sleep(sleepMillis);
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        }
      }, () -> {
        runs.incrementAndGet(2);
        return true;
      }, 1, i -> runs.incrementAndGet(2));
    } finally {
      long cpuMillis = cpuTime ? (mx.getCurrentThreadCpuTime() - cpu0) / 1_000_000 : 0;
      assertTrue(Thread.interrupted(), "the caller's interrupt status was lost");
      assertTrue(helperStarted.get(), "the helper never ran a part");
      assertEquals(1, runs.get(0));
      assertEquals(1, runs.get(1));
      assertEquals(2, runs.get(2), "between and the phase-2 part");
      assertTrue(cpuMillis < sleepMillis / 2,
          "the waiting caller used " + cpuMillis + " ms of CPU in a " + sleepMillis + " ms wait");
    }
  }

  @Test
  void aFailingPartIsRethrownAfterEveryStartedPartHasReturned() {
    RuntimeException boom = new IllegalStateException("part 5");
    AtomicInteger running = new AtomicInteger();
    RuntimeException thrown = assertThrows(RuntimeException.class, () ->
        Parallel.forEach(4, 200, failingAt(5, boom, running)));
    assertEquals(0, running.get(), "parts still running when forEach returned");
    assertEquals(boom.getMessage(), thrown.getMessage());
    assertSame(IllegalStateException.class, thrown.getClass());
  }

  @Test
  void twoPhasesRunInOrderWithBetweenAfterEveryFirstPart() {
    for (int parallelism : new int[] {1, 2, 3, 8}) {
      for (int[] parts : new int[][] {{1, 1}, {8, 64}, {64, 7}, {3, 1000}}) {
        AtomicIntegerArray runs1 = new AtomicIntegerArray(parts[0]);
        AtomicIntegerArray runs2 = new AtomicIntegerArray(parts[1]);
        AtomicInteger firstDone = new AtomicInteger();
        AtomicInteger secondStarted = new AtomicInteger();
        int[] seenByBetween = new int[2];
        long[] written = new long[1];
        AtomicLong bad = new AtomicLong();
        String where = "parallelism " + parallelism + ", parts " + parts[0] + " + " + parts[1];
        Parallel.forEach(parallelism, parts[0], i -> {
          if (secondStarted.get() > 0) {
            bad.incrementAndGet();
          }
          spin(i);
          runs1.incrementAndGet(i);
          firstDone.incrementAndGet();
        }, () -> {
          seenByBetween[0] = firstDone.get();
          seenByBetween[1] = secondStarted.get();
          written[0] = 42; // a plain write that every phase-2 part must see
          return true;
        }, parts[1], i -> {
          secondStarted.incrementAndGet();
          if (written[0] != 42) {
            bad.incrementAndGet();
          }
          runs2.incrementAndGet(i);
        });
        assertEquals(parts[0], seenByBetween[0], where + ": phase-1 parts done before between");
        assertEquals(0, seenByBetween[1], where + ": phase-2 parts started before between");
        assertEquals(0, bad.get(), where + ": a phase-1 part after phase 2 began, or a stale read");
        for (int i = 0; i < parts[0]; i++) {
          assertEquals(1, runs1.get(i), where + ", phase-1 part " + i);
        }
        for (int i = 0; i < parts[1]; i++) {
          assertEquals(1, runs2.get(i), where + ", phase-2 part " + i);
        }
      }
    }
  }

  @Test
  void noSecondPhaseWhenBetweenDeclinesOrThrows() {
    for (int parallelism : new int[] {1, 2, 8}) {
      AtomicInteger second = new AtomicInteger();
      Parallel.forEach(parallelism, 16, i -> spin(i), () -> false, 64,
          i -> second.incrementAndGet());
      assertEquals(0, second.get(), "parallelism " + parallelism + ": between returned false");
      IllegalArgumentException bad = new IllegalArgumentException("input[3] = NaN");
      RuntimeException thrown = assertThrows(RuntimeException.class, () -> Parallel.forEach(
          parallelism, 16, i -> spin(i), () -> {
            throw bad;
          }, 64, i -> second.incrementAndGet()));
      assertSame(bad, thrown);
      assertEquals(0, second.get(), "parallelism " + parallelism + ": between threw");
    }
  }

  @Test
  void aFailingFirstPartSkipsBetweenAndTheSecondPhase() {
    for (int parallelism : new int[] {1, 2, 8}) {
      RuntimeException boom = new IllegalStateException("part 5");
      AtomicInteger between = new AtomicInteger();
      AtomicInteger second = new AtomicInteger();
      AtomicInteger running = new AtomicInteger();
      RuntimeException thrown = assertThrows(RuntimeException.class, () -> Parallel.forEach(
          parallelism, 200, failingAt(5, boom, running), () -> {
            between.incrementAndGet();
            return true;
          }, 64, i -> second.incrementAndGet()));
      assertSame(boom, thrown);
      assertEquals(0, running.get(), "parts still running when forEach returned");
      assertEquals(0, between.get(), "between ran after a failed part");
      assertEquals(0, second.get(), "a phase-2 part ran after a failed part");
    }
  }

  @Test
  void aFailingSecondPartIsRethrownAfterEveryStartedPartHasReturned() {
    RuntimeException boom = new IllegalStateException("phase-2 part 9");
    AtomicInteger running = new AtomicInteger();
    RuntimeException thrown = assertThrows(RuntimeException.class, () -> Parallel.forEach(
        4, 8, i -> spin(i), () -> true, 300, failingAt(9, boom, running)));
    assertSame(boom, thrown);
    assertEquals(0, running.get(), "parts still running when forEach returned");
  }

  /**
   * The last phase-1 part (run by whichever thread claims it) throws: between must not run and no
   * phase-2 part may start, even though every other phase-1 part returned (the review's case: a
   * throwing part must not count as done).
   */
  @Test
  void aFailingLastFirstPartSkipsBetween() {
    for (int rep = 0; rep < 200; rep++) {
      for (int parallelism : new int[] {2, 8}) {
        RuntimeException boom = new IllegalStateException("last part");
        AtomicInteger between = new AtomicInteger();
        AtomicInteger second = new AtomicInteger();
        int parts = 8 + rep % 9;
        RuntimeException thrown = assertThrows(RuntimeException.class, () -> Parallel.forEach(
            parallelism, parts, i -> {
              spin(i);
              if (i == parts - 1) {
                throw boom;
              }
            }, () -> {
              between.incrementAndGet();
              return true;
            }, 64, i -> second.incrementAndGet()));
        assertSame(boom, thrown);
        assertEquals(0, between.get(), "between ran after a failed part");
        assertEquals(0, second.get(), "a phase-2 part ran after a failed part");
      }
    }
  }

  @Test
  void parallelismFarAbovePartsStartsOnlyWhatThePartsNeed() {
    AtomicIntegerArray runs = new AtomicIntegerArray(5);
    Parallel.forEach(Integer.MAX_VALUE, 5, runs::incrementAndGet);
    Parallel.forEach(Integer.MAX_VALUE, 3, runs::incrementAndGet, () -> true, 5,
        runs::incrementAndGet);
    for (int i = 0; i < 5; i++) {
      assertEquals(i < 3 ? 3 : 2, runs.get(i), "part " + i);
    }
  }

  /**
   * A part that throws boom at index failAt and otherwise does {@link #spin}, counting in running
   * the parts under way (0 once every started part has returned or thrown).
   */
  private static IntConsumer failingAt(int failAt, RuntimeException boom, AtomicInteger running) {
    return i -> {
      running.incrementAndGet();
      try {
        if (i == failAt) {
          throw boom;
        }
        spin(i);
      } finally {
        running.decrementAndGet();
      }
    };
  }

  /** A little work that varies with i, so that parts end out of order. */
  private static void spin(int i) {
    for (int k = 0; k < (i % 7) * 50; k++) {
      Thread.onSpinWait();
    }
  }

  /**
   * The number of row blocks near 2^31 rows: (n + blockRows - 1) / blockRows overflowed to a
   * negative count for more than 2^31 - 16384 rows of one class, and no block ran (a reviewer's
   * reading); n / blockRows rounded up, against the same in long arithmetic.
   */
  @Test
  void blockCountsDoNotOverflowNearTheLargestArray() {
    for (int n : new int[] {0, 1, 16383, 16384, 16385, Integer.MAX_VALUE - 16384,
        Integer.MAX_VALUE - 16383, Integer.MAX_VALUE - 8, Integer.MAX_VALUE}) {
      for (int blockRows : new int[] {1, 7, 16384}) {
        long expected = (n + (long) blockRows - 1) / blockRows;
        assertEquals(expected, FocalLoss.blockCount(n, blockRows), n + " rows in blocks of "
            + blockRows);
      }
    }
  }
}
