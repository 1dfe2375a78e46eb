package dev.focalsimd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
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

  @Test
  void aFailingPartIsRethrownAfterEveryStartedPartHasReturned() {
    RuntimeException boom = new IllegalStateException("part 5");
    AtomicInteger running = new AtomicInteger();
    RuntimeException thrown = assertThrows(RuntimeException.class, () ->
        Parallel.forEach(4, 200, i -> {
          running.incrementAndGet();
          try {
            if (i == 5) {
              throw boom;
            }
            Thread.onSpinWait();
          } finally {
            running.decrementAndGet();
          }
        }));
    assertEquals(0, running.get(), "parts still running when forEach returned");
    assertEquals(boom.getMessage(), thrown.getMessage());
    assertSame(IllegalStateException.class, thrown.getClass());
  }
}
