package dev.focalsimd.kernels;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;
import java.util.function.UnaryOperator;

/**
 * A kernel's per-thread scratch (a {@link ThreadLocal}), lent to virtual threads from a small pool
 * for the length of one public call instead of being created for each thread.
 *
 * <p>On a platform thread a scratch value is created on the thread's first call and kept for the
 * thread's lifetime, as with any {@code ThreadLocal}: a trainer's threads call the kernels again
 * and again, and no call allocates. Virtual threads (JDK 21 and later) are many and short-lived,
 * often one per task: there every call would create the scratch afresh (about 60 KB; 8.4 to 10.4
 * us per call of 64 x 16 elements from a new virtual thread each, against 2.0 to 3.7 us lent, JDK
 * 25) and every live thread would keep it (125 to 140 MB for 2,000 virtual threads parked after one
 * call each, 10 MB lent). On a long-lived virtual thread the loan costs about 30 ns per call.
 * So {@link #enter} lends a virtual thread a set of values from a pool for the call, {@link #get}
 * and {@link #set} use the set's values there, and {@link #exit} returns the set (with what the
 * call created or grew in it) to the pool. The pool keeps at most {@link #POOL_SIZE} sets; a call
 * that finds none takes an empty set, and a set that finds the pool full is dropped. A set going
 * back drops its arrays longer than {@link #POOLED_ELEMENTS} and its references to the caller's
 * arrays (each kind's {@code pooled} function), so that the pool, which lives as long as the JVM,
 * does not keep what one call on a very wide row grew (32 MB for a row of 4,000,000 classes, a
 * tester's find) or a caller's batch.
 *
 * <p>Every scratch value is used by one thread at a time: a set is lent to one call, and the
 * kernels run no user code and take no lock while they hold it (with parallelism above 1 the
 * calling virtual thread may park, waiting for its helpers, which are platform threads with their
 * own scratch; the set stays with the parked thread). Public calls that run inside another (a
 * buffer call that runs the array path) keep the outer call's set. A {@link StackOverflowError}
 * inside a call can leave its set with the thread (the {@code finally} that gives it back overflows
 * too): that thread then keeps the set for its later calls, as every thread did before the pool.
 *
 * @param <T> the scratch value's type
 */
public final class Scratch<T> extends ThreadLocal<T> {

  /** Kinds of scratch at most: one per {@code Scratch} field in the kernels (9 today). */
  private static final int KINDS_MAX = 32;

  /** Kinds registered: each kind's index in a set. */
  private static final AtomicInteger KINDS = new AtomicInteger();

  /** Each kind's {@link #withInitial(Supplier, UnaryOperator) pooled} function, or null. */
  private static final AtomicReferenceArray<UnaryOperator<?>> POOLED =
      new AtomicReferenceArray<>(KINDS_MAX);

  /**
   * The longest scratch array a pooled set keeps (elements): the arrays that grow with the class
   * count (a row's, a block's) are dropped above it when a set goes back to the pool, so that
   * the pool does not hold, for the JVM's lifetime, what one call on a very wide row grew. Rows of
   * up to 65,536 classes and every ordinary block keep theirs.
   */
  public static final int POOLED_ELEMENTS = 1 << 16;

  /** Sets the pool keeps: four per processor, at most 256. */
  static final int POOL_SIZE = Math.min(256, 4 * Runtime.getRuntime().availableProcessors());

  private static final AtomicReferenceArray<Object[]> POOL = new AtomicReferenceArray<>(POOL_SIZE);

  /** Sets created for calls that found the pool empty (for the tests). */
  private static final AtomicInteger CREATED = new AtomicInteger();

  /** Scratch values created, a thread's or a set's (for the tests). */
  private static final AtomicInteger VALUES_CREATED = new AtomicInteger();

  /** The set lent to the virtual thread's call in progress, if any. */
  private static final ThreadLocal<Object[]> LENT = new ThreadLocal<>();

  /** Thread::isVirtual where the JDK has it (21 and later), else a constant false. */
  private static final MethodHandle IS_VIRTUAL = isVirtualHandle();

  private final Supplier<? extends T> initial;
  private final int kind;

  private Scratch(Supplier<? extends T> initial, int kind) {
    this.initial = initial;
    this.kind = kind;
  }

  /**
   * A new kind of per-thread scratch whose first value on a thread (or in a pooled set) is {@code
   * initial.get()}. Called once per kind, from a static initializer.
   *
   * @throws IllegalStateException if more than {@value #KINDS_MAX} kinds are registered
   */
  public static <T> Scratch<T> withInitial(Supplier<? extends T> initial) {
    return withInitial(initial, null);
  }

  /**
   * {@link #withInitial(Supplier)} with what of a value a set takes back to the pool when a
   * virtual thread's call ends: {@code pooled} returns the value (trimmed, say: references to
   * the caller's arrays cleared, arrays above {@link #POOLED_ELEMENTS} dropped) or null (the next
   * borrower creates a new one). Platform threads keep their values as they are.
   */
  public static <T> Scratch<T> withInitial(Supplier<? extends T> initial,
      UnaryOperator<T> pooled) {
    int kind = KINDS.getAndIncrement();
    if (kind >= KINDS_MAX) {
      throw new IllegalStateException("more than " + KINDS_MAX + " kinds of scratch");
    }
    POOLED.set(kind, pooled);
    return new Scratch<>(initial, kind);
  }

  /** An array's pooled function: the array if it is no longer than {@link #POOLED_ELEMENTS}. */
  public static <A> UnaryOperator<A> upTo(ToIntFunction<A> length) {
    return a -> length.applyAsInt(a) <= POOLED_ELEMENTS ? a : null;
  }

  @Override
  protected T initialValue() {
    VALUES_CREATED.incrementAndGet();
    return initial.get();
  }

  /**
   * This thread's value: on a virtual thread in a call, the lent set's (created there on first
   * use); else the thread's own.
   */
  @Override
  @SuppressWarnings("unchecked")
  public T get() {
    Object[] set = lentSet();
    if (set == null) {
      return super.get();
    }
    Object v = set[kind];
    if (v == null) {
      VALUES_CREATED.incrementAndGet();
      v = initial.get();
      set[kind] = v;
    }
    return (T) v;
  }

  /** Replaces this thread's value (a scratch array grown for a call), as {@link #get} finds it. */
  @Override
  public void set(T value) {
    Object[] set = lentSet();
    if (set == null) {
      super.set(value);
    } else {
      set[kind] = value;
    }
  }

  /** The set lent to this virtual thread's call, or null (a platform thread, or no call). */
  private static Object[] lentSet() {
    return isVirtual(Thread.currentThread()) ? LENT.get() : null;
  }

  /**
   * Starts a public call: on a virtual thread outside another call, lends it a set of scratch
   * values and returns the set, which the caller must pass to {@link #exit} in a finally block;
   * else returns null (nothing to do).
   */
  public static Object[] enter() {
    if (!isVirtual(Thread.currentThread()) || LENT.get() != null) {
      return null;
    }
    Object[] set = take();
    LENT.set(set);
    return set;
  }

  /**
   * Ends a public call that {@link #enter} returned {@code set} for: the thread gives the set
   * back (with what the call created or grew in it) to the pool. Nothing for a null set.
   */
  public static void exit(Object[] set) {
    if (set == null) {
      return;
    }
    LENT.set(null); // not remove(): the thread's next call then sets the entry it keeps,
    // where remove() and set() would allocate a map entry per call
    int kinds = Math.min(KINDS.get(), KINDS_MAX);
    for (int i = 0; i < kinds; i++) {
      UnaryOperator<?> pooled = POOLED.get(i);
      if (set[i] != null && pooled != null) {
        set[i] = pooledValue(pooled, set[i]);
      }
    }
    give(set);
  }

  @SuppressWarnings("unchecked")
  private static <T> Object pooledValue(UnaryOperator<T> pooled, Object value) {
    return pooled.apply((T) value);
  }

  private static Object[] take() {
    for (int i = 0; i < POOL_SIZE; i++) {
      Object[] set = POOL.get(i);
      if (set != null && POOL.compareAndSet(i, set, null)) {
        return set;
      }
    }
    CREATED.incrementAndGet();
    return new Object[KINDS_MAX];
  }

  private static void give(Object[] set) {
    for (int i = 0; i < POOL_SIZE; i++) {
      if (POOL.get(i) == null && POOL.compareAndSet(i, null, set)) {
        return;
      }
    }
  }

  /** The sets created so far for calls that found the pool empty (for the tests). */
  static int created() {
    return CREATED.get();
  }

  /** The scratch values created so far, threads' and sets' (for the tests). */
  static int valuesCreated() {
    return VALUES_CREATED.get();
  }

  /** Whether t is a virtual thread: false on JDKs without them. */
  private static boolean isVirtual(Thread t) {
    try {
      return (boolean) IS_VIRTUAL.invokeExact(t);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) { // Thread::isVirtual throws nothing checked
      throw new AssertionError(e);
    }
  }

  private static MethodHandle isVirtualHandle() {
    MethodType type = MethodType.methodType(boolean.class);
    try {
      return MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual", type);
    } catch (NoSuchMethodException | IllegalAccessException e) { // JDK 17 to 20
      return MethodHandles.dropArguments(MethodHandles.constant(boolean.class, false), 0,
          Thread.class);
    }
  }
}
