package dev.focalsimd;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * Runs the parts of one call on the calling thread and up to {@code parallelism - 1} pool workers.
 * Parts are claimed by whichever thread is free next (one atomic counter), in runs of consecutive
 * parts that shrink as fewer remain (a thread takes 1/(2 threads) of what is left, at least one
 * part: OpenMP's guided schedule), so a worker that is slow to wake or is descheduled costs
 * nothing but its share, while each thread works through neighbouring rows (contiguous memory
 * for the prefetchers) and claims less often; the calling thread works instead of waiting, so
 * {@code parallelism} threads do the work with one thread woken per helper.
 * What a part computes must not depend on the thread that runs it (the callers write each part's
 * result to its own slot and combine the slots in a fixed order).
 *
 * <p>Waking a parked pool worker takes tens of microseconds on some machines (a median of 47 us
 * on this project's 2-core VM, against about 0.6 us for a worker that is spinning), a share of
 * that a call's work is done by one thread instead of two; so work in two dependent phases (the
 * value checks, then the kernel) runs in {@link #forEach(int, int, IntConsumer, BooleanSupplier,
 * int, IntConsumer) one wake-up}, not two.
 *
 * <p>A worker that has finished its share waits for the next call's, spinning, for about as long
 * as a wake-up costs ({@link #LINGER_NANOS}), before it returns to its pool; a call hands its
 * shares to such waiting workers first, so calls in close succession (a trainer's loop, a
 * benchmark) do not pay a wake-up each. At most (cores - 1) workers wait so at once ({@link
 * #MAX_LINGERING}), so that the calling thread keeps a core.
 *
 * <p>The pools are static, one per number of helpers a call uses (shared by every caller), of
 * daemon threads (a {@link ForkJoinPool}'s, which starts its workers as tasks arrive), so they
 * never keep the JVM alive; the library starts them only for a parallelism above 1.
 */
final class Parallel {

  private static final ConcurrentHashMap<Integer, Pool> POOLS = new ConcurrentHashMap<>();

  private Parallel() {}

  /**
   * Calls {@code part.accept(i)} once for every i in [0, parts), on the calling thread and up to
   * parallelism - 1 helpers; returns when every call has returned. An exception from a part is
   * rethrown after every started helper has finished (no helper outlives the call).
   */
  static void forEach(int parallelism, int parts, IntConsumer part) {
    forEach(parallelism, parts, part, null, 0, null);
  }

  /**
   * Two phases with one wake-up per helper: {@code first.accept(i)} for every i in [0, parts1);
   * once all of them have returned, {@code between} on the calling thread; then, if it returned
   * true, {@code second.accept(i)} for every i in [0, parts2). Helpers that run out of phase-1
   * parts wait for between's outcome instead of returning to the pool (spinning about 20 us, then
   * napping 20 us at a time: the wait lasts the calling thread's last run of phase-1 parts plus
   * between). No phase-2 part starts before {@code between} has returned true, and what between
   * wrote is visible to every phase-2 part. An exception from a part or from between stops the
   * call (no part is claimed after it, and neither between nor any phase-2 part runs after a
   * phase-1 part threw) and is rethrown (the first one recorded, where several threads threw)
   * after every started helper has finished.
   *
   * @param between null for one phase (parts2 and second are then ignored)
   */
  static void forEach(int parallelism, int parts1, IntConsumer first, BooleanSupplier between,
      int parts2, IntConsumer second) {
    Run run = new Run(parts1, first, between != null, between == null ? 0 : parts2, second);
    int helpers = Math.max(0,
        Math.min(Math.min(parallelism, Math.max(parts1, run.parts2)) - 1, MAX_HELPERS));
    run.threads = helpers + 1;
    Share[] started = new Share[helpers];
    try {
      if (helpers > 0) {
        Pool pool = POOLS.computeIfAbsent(helpers, Pool::new);
        for (int h = 0; h < helpers; h++) {
          Share share = new Share(run);
          pool.start(share);
          started[h] = share;
        }
      }
      run.drain(run.next1, parts1, first);
      if (between != null) {
        run.awaitFirstPhase();
        boolean go = run.failure.get() == null && between.getAsBoolean();
        // a compare-and-set: a helper's failure may have set STOP meanwhile
        if (run.gate.compareAndSet(Run.PENDING, go ? Run.GO : Run.STOP) && go) {
          run.drain(run.next2, run.parts2, second);
        }
      }
    } catch (Throwable e) {
      run.fail(e);
    }
    boolean interrupted = false;
    for (Share s : started) {
      if (s != null && !s.state.compareAndSet(Share.WAITING, Share.CANCELLED)) {
        // it started: wait until it has no part left
        for (int spins = 0; s.state.get() != Share.DONE; spins++) {
          interrupted |= Run.pause(spins);
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt(); // the caller's interrupt, kept for the caller
    }
    Throwable failure = run.failure.get(); // the part's own exception
    if (failure instanceof RuntimeException) {
      throw (RuntimeException) failure;
    }
    if (failure instanceof Error) {
      throw (Error) failure;
    }
    if (failure != null) { // a checked exception thrown past the compiler, with or without helpers
      throw new IllegalStateException(failure);
    }
  }

  /** ForkJoinPool's limit on its workers (the calling thread makes one more). */
  static final int MAX_HELPERS = 0x7fff;

  /** One call's shared state: the claim counters, phase 1's completions, the gate. */
  private static final class Run {
    static final int PENDING = 0;
    static final int GO = 1;
    static final int STOP = 2;

    final AtomicInteger next1 = new AtomicInteger();
    final AtomicInteger next2 = new AtomicInteger();
    /** Phase-1 parts that have returned normally. */
    final AtomicInteger done1 = new AtomicInteger();
    final int parts1;
    final IntConsumer first;
    final boolean twoPhases;
    final int parts2;
    final IntConsumer second;
    /** The threads that may claim parts: the calling thread and its helpers. */
    int threads = 1;
    /** Whether phase 2 runs: PENDING until the calling thread has run between, or a failure. */
    final AtomicInteger gate = new AtomicInteger(PENDING);
    /** The first exception a part (or between) threw. */
    final AtomicReference<Throwable> failure = new AtomicReference<>();

    Run(int parts1, IntConsumer first, boolean twoPhases, int parts2, IntConsumer second) {
      this.parts1 = parts1;
      this.first = first;
      this.twoPhases = twoPhases;
      this.parts2 = parts2;
      this.second = second;
    }

    /**
     * Claims and runs runs of parts (see the class comment) until none is left or a stop; a
     * phase-1 part counts as done only once it has returned normally.
     */
    void drain(AtomicInteger next, int parts, IntConsumer part) {
      while (true) {
        int i;
        int n;
        do {
          i = next.get();
          if (i >= parts) {
            return;
          }
          n = Math.max(1, (parts - i) / (2 * threads));
        } while (!next.compareAndSet(i, i + n));
        for (int j = i; j < i + n && gate.get() != STOP; j++) {
          part.accept(j);
          if (next == next1) {
            done1.incrementAndGet();
          }
        }
      }
    }

    /**
     * Records e (if it is the first) and stops the call: every thread stops at its next part or
     * claim, and no phase-2 part starts after this.
     */
    void fail(Throwable e) {
      failure.compareAndSet(null, e);
      gate.set(STOP);
      next1.set(parts1);
      next2.set(parts2);
    }

    /**
     * On the calling thread once its own phase-1 drain has returned (every part claimed): waits
     * until every phase-1 part has returned normally, or a part has failed (its stop may have left
     * parts unclaimed, which never count as done).
     */
    void awaitFirstPhase() {
      boolean interrupted = false;
      for (int spins = 0; done1.get() < parts1 && failure.get() == null; spins++) {
        interrupted |= pause(spins);
      }
      if (interrupted) {
        Thread.currentThread().interrupt(); // the caller's interrupt, kept for the caller
      }
    }

    /** A helper's share: phase 1, then (two phases) the gate, then phase 2. */
    void help() {
      try {
        drain(next1, parts1, first);
        if (!twoPhases) {
          return;
        }
        boolean interrupted = false;
        for (int spins = 0; gate.get() == PENDING; spins++) {
          interrupted |= pause(spins);
        }
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
        if (gate.get() == GO) {
          drain(next2, parts2, second);
        }
      } catch (Throwable e) {
        fail(e);
      }
    }

    /**
     * Spins briefly (the wait is for the end of another thread's part: usually microseconds),
     * then sleeps in short naps: where threads outnumber cores (the JIT's, the GC's, another
     * program's), the thread waited for may need this core to finish its part. Returns whether
     * the thread was interrupted, clearing its interrupt status so that the next nap naps (an
     * interrupted thread's park returns at once, and the wait would spin); the waiting loop sets
     * it again when the wait ends. The wait itself is not cut short: the parts must finish.
     */
    static boolean pause(int spins) {
      if (spins < SPINS) {
        Thread.onSpinWait();
        return false;
      }
      LockSupport.parkNanos(NAP_NANOS);
      return Thread.interrupted();
    }

    /** Spin-waits before a wait naps: about 10 to 50 microseconds of onSpinWait. */
    private static final int SPINS = 1 << 10;
    /** One nap of a wait that outlasted its spins. */
    private static final long NAP_NANOS = 20_000;
  }

  /**
   * How long a pool worker that has finished its share waits, spinning, for the next call's share
   * before it goes back to its pool (where waking it again costs a median of 47 us on this
   * project's 2-core VM, against 0.6 us for a spinning thread): about one wake-up's cost, the spin
   * that costs at most twice the best choice made knowing when the next call comes. Calls that
   * follow one another closely (a trainer's loop over a batch's parts, a benchmark) then find their
   * helpers already running. Two threads at 65536 x 16 (OptionsBench, 2 runs of 3 rounds per build
   * against the build before, ops/s): one-vs-all 1780 and 1895 became 1977 and 1932 with the value
   * checks, 2132 and 2216 became 2308 and 2165 without; the sigmoid 1175 and 1222 became 1440 and
   * 1282 with them, 1482 and 1512 were 1442 and 1507 without.
   */
  static final long LINGER_NANOS = 50_000;

  /**
   * Workers spinning between calls, at most {@link #MAX_LINGERING}: more spinners than cores would
   * keep the calling thread, and the helpers it hands work to, off a core.
   */
  private static final AtomicInteger LINGERING = new AtomicInteger();
  /** One core for the calling thread, the others for lingering workers. */
  private static final int MAX_LINGERING =
      Math.max(0, Runtime.getRuntime().availableProcessors() - 1);

  /** The pool of one number of helpers, and its workers that wait for the next call. */
  private static final class Pool {
    final ForkJoinPool fork;
    /** Workers that finished a share and wait for another (some may have stopped waiting). */
    final ConcurrentLinkedQueue<Idle> idle = new ConcurrentLinkedQueue<>();

    Pool(int helpers) {
      fork = new ForkJoinPool(helpers);
    }

    /** Hands share to a waiting worker, or else to the pool as a new task. */
    void start(Share share) {
      for (Idle w = idle.poll(); w != null; w = idle.poll()) {
        if (w.state.compareAndSet(Idle.WAITING, Idle.TAKEN)) {
          w.share = share;
          return;
        }
      }
      fork.execute(new Worker(this, share));
    }
  }

  /** A worker between two shares: waiting, taken (its next share is coming), or gone. */
  private static final class Idle {
    static final int WAITING = 0;
    static final int TAKEN = 1;
    static final int GONE = 2;

    final AtomicInteger state = new AtomicInteger(WAITING);
    volatile Share share;
  }

  /** One helper's share of one call; never run once cancelled. */
  private static final class Share {
    static final int WAITING = 0;
    static final int RUNNING = 1;
    static final int CANCELLED = 2;
    static final int DONE = 3;

    final AtomicInteger state = new AtomicInteger(WAITING);
    final Run run;

    Share(Run run) {
      this.run = run;
    }
  }

  /**
   * A pool task: runs its share, then, while at most {@link #MAX_LINGERING} workers wait, waits
   * up to {@link #LINGER_NANOS} for another call's share and runs that too, and so on.
   */
  private static final class Worker extends RecursiveAction {
    private static final long serialVersionUID = 1L;
    private final transient Pool pool;
    private final transient Share first;

    Worker(Pool pool, Share first) {
      this.pool = pool;
      this.first = first;
    }

    @Override
    protected void compute() {
      Share s = first;
      while (s != null) {
        Idle w = null;
        boolean ran = s.state.compareAndSet(Share.WAITING, Share.RUNNING);
        try {
          if (ran) {
            s.run.help();
          }
        } finally {
          try {
            // offered before the share is done: a caller that returns on it and calls again at
            // once finds this worker waiting, instead of queueing a task behind its wait
            w = offer();
          } finally {
            if (ran) {
              s.state.set(Share.DONE); // whatever happened: the caller waits for this
            }
          }
        }
        s = w == null ? null : await(w);
      }
    }

    /** This worker as waiting for a share, or null where enough workers wait already. */
    private Idle offer() {
      if (LINGERING.incrementAndGet() > MAX_LINGERING) {
        LINGERING.decrementAndGet();
        return null;
      }
      Idle w = new Idle();
      pool.idle.add(w);
      return w;
    }

    /** The share handed to w, or null once w has waited {@link #LINGER_NANOS} for none. */
    private Share await(Idle w) {
      try {
        long start = System.nanoTime();
        while (true) {
          if (w.state.get() == Idle.TAKEN) {
            Share s;
            while ((s = w.share) == null) { // taken: the caller hands the share next
              Thread.onSpinWait();
            }
            return s;
          }
          if (System.nanoTime() - start > LINGER_NANOS
              && w.state.compareAndSet(Idle.WAITING, Idle.GONE)) {
            pool.idle.remove(w);
            return null;
          }
          Thread.onSpinWait();
        }
      } finally {
        LINGERING.decrementAndGet();
      }
    }
  }
}
