package dev.focalsimd;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * Runs the parts of one call on the calling thread and up to {@code parallelism - 1} pool workers.
 * Each part is claimed by whichever thread is free next (one atomic counter), so a worker that
 * is slow to wake or is descheduled costs nothing but its share; and the calling thread works
 * instead of waiting, so {@code parallelism} threads do the work with one thread woken per helper.
 * What a part computes must not depend on the thread that runs it (the callers write each part's
 * result to its own slot and combine the slots in a fixed order).
 *
 * <p>The pools are static, one per helper count, of daemon threads (a {@link ForkJoinPool}'s), so
 * they never keep the JVM alive; the library starts them only for a parallelism above 1.
 */
final class Parallel {

  private static final ConcurrentHashMap<Integer, ForkJoinPool> POOLS = new ConcurrentHashMap<>();

  private Parallel() {}

  /**
   * Calls {@code part.accept(i)} once for every i in [0, parts), on the calling thread and up to
   * parallelism - 1 helpers; returns when every call has returned. An exception from a part is
   * rethrown after every started helper has finished (no helper outlives the call).
   */
  static void forEach(int parallelism, int parts, IntConsumer part) {
    int helpers = Math.min(parallelism, parts) - 1;
    if (helpers <= 0) {
      for (int i = 0; i < parts; i++) {
        part.accept(i);
      }
      return;
    }
    ForkJoinPool pool = POOLS.computeIfAbsent(helpers, ForkJoinPool::new);
    AtomicInteger next = new AtomicInteger();
    Helper[] started = new Helper[helpers];
    for (int h = 0; h < helpers; h++) {
      started[h] = new Helper(next, parts, part);
      pool.execute(started[h]);
    }
    Throwable failure = null;
    try {
      drain(next, parts, part);
    } catch (RuntimeException | Error e) {
      failure = e;
      next.set(parts); // the helpers stop at their next claim
    }
    for (Helper h : started) {
      if (!h.state.compareAndSet(Helper.WAITING, Helper.CANCELLED)) {
        h.join(); // it started: wait until it has no part left
        if (failure == null) {
          failure = h.failure; // the part's own exception, not the pool's wrapped copy
        }
      }
    }
    if (failure instanceof RuntimeException) {
      throw (RuntimeException) failure;
    }
    if (failure != null) {
      throw (Error) failure;
    }
  }

  private static void drain(AtomicInteger next, int parts, IntConsumer part) {
    for (int i = next.getAndIncrement(); i < parts; i = next.getAndIncrement()) {
      part.accept(i);
    }
  }

  /** A pool task that claims parts until none is left; never started once cancelled. */
  private static final class Helper extends RecursiveAction {
    private static final long serialVersionUID = 1L;
    static final int WAITING = 0;
    static final int RUNNING = 1;
    static final int CANCELLED = 2;

    final AtomicInteger state = new AtomicInteger(WAITING);
    private final transient AtomicInteger next;
    private final int parts;
    private final transient IntConsumer part;

    Helper(AtomicInteger next, int parts, IntConsumer part) {
      this.next = next;
      this.parts = parts;
      this.part = part;
    }

    /** What a part threw on this helper, if anything; read after join. */
    transient Throwable failure;

    @Override
    protected void compute() {
      if (state.compareAndSet(WAITING, RUNNING)) {
        try {
          drain(next, parts, part);
        } catch (RuntimeException | Error e) {
          failure = e;
          next.set(parts); // the others stop at their next claim
        }
      }
    }
  }
}
