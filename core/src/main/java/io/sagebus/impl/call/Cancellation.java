package io.sagebus.impl.call;

import io.netty.util.concurrent.FastThreadLocal;
import io.sagebus.impl.ThreadStripes;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A cancellation signal that calls listen to: a service invocation's (the calls it makes), a job's
 * (its operators' calls). Cancelled at most once; its listeners then run once, on the cancelling
 * thread (one added while it cancels, on the adding thread). Thread-safe, and lock-free but for
 * {@link #future()}. A call registers while it is in flight and leaves when it has its outcome, so
 * a long-lived signal (a job's) holds only the calls in flight.
 * <p>
 * A listener first takes a free slot of a few, the adding thread's own first (a job's operators each
 * make one sync call at a time, from threads of their own): one compare-and-set to come in and one to
 * leave, on a cache line that the other threads' slots do not share. Only when every slot is taken
 * (many calls in flight from one thread) does it go to a concurrent set, whose shared count every
 * thread's adds and removes would otherwise all update.
 */
public final class Cancellation {

  /** What a listener is told. */
  public interface Listener {
    /**
     * The signal was cancelled.
     *
     * @param reason why
     */
    void cancelled(String reason);
  }

  /** The signal of the operator running on this thread (its job's), for calls made without a service scope. */
  private static final FastThreadLocal<Ambient> AMBIENT = new FastThreadLocal<>();

  /**
   * An operator thread's signal, and the slot its calls take first: handed out in turn as operator threads start,
   * so that a job's instances calling at once each have a slot of their own. (By thread id alone, two of four often
   * shared one; a call then found it taken, and that branch, unseen while the JIT profiled the first calls, sent the
   * whole compiled call path back to the interpreter to be compiled again.)
   */
  private record Ambient(Cancellation signal, int slot) {
  }

  private static final VarHandle LISTENERS;
  private static final VarHandle REASON;
  private static final VarHandle SLOTS;
  private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Listener[].class);
  private static final int SLOT_BITS = 2;
  /** Slots. */
  private static final int SLOT_COUNT = 1 << SLOT_BITS;
  /** Array elements between two slots: 64 bytes or more, so that no two share a cache line. */
  private static final int SPACING = 16;
  /** What {@link #add} returns for a listener that went to the set. */
  private static final int IN_SET = -1;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      LISTENERS = lookup.findVarHandle(Cancellation.class, "listeners", Set.class);
      REASON = lookup.findVarHandle(Cancellation.class, "reason", String.class);
      SLOTS = lookup.findVarHandle(Cancellation.class, "slots", Listener[].class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /**
   * The listeners, made on the first {@link #add}. Lock-free, as the calls of a job's operators, on
   * several threads at once, add and remove themselves once per call: a listener is told by whoever
   * removes it from here first after the reason is set (the canceller, or an {@code add} that came
   * after), so it is told exactly once.
   */
  private volatile Set<Listener> listeners;
  /** The slots ({@code SLOT_COUNT} of them, {@code SPACING} elements apart), made on the first {@link #add}. */
  private volatile Listener[] slots;
  private volatile String reason;
  private Promise<Void> promise;
  /** Operator threads that took this signal as theirs: the next one's first slot. */
  private final AtomicInteger ambientThreads = new AtomicInteger();

  /** A signal not cancelled yet. */
  public Cancellation() {
  }

  /**
   * {@return the signal calls made on this thread outside a service method follow, or {@code null}}
   */
  public static Cancellation ambient() {
    Ambient a = AMBIENT.get();
    return a == null ? null : a.signal;
  }

  /**
   * Sets the signal calls made on this thread outside a service method follow (an operator's thread).
   *
   * @param cancellation the signal, or {@code null} to clear it
   */
  public static void setAmbient(Cancellation cancellation) {
    AMBIENT.set(cancellation == null ? null
      : new Ambient(cancellation, cancellation.ambientThreads.getAndIncrement() & (SLOT_COUNT - 1)));
  }

  /**
   * Cancels: tells every listener once.
   *
   * @param why the reason given to listeners
   * @return {@code true} if this call cancelled it, {@code false} if it was cancelled already
   */
  public boolean cancel(String why) {
    String r = why == null ? "cancelled" : why;
    if (!REASON.compareAndSet(this, (String) null, r)) {
      return false;
    }
    Listener[] s = slots;
    if (s != null) {
      for (int i = 0; i < SLOT_COUNT * SPACING; i += SPACING) {
        Listener l = (Listener) SLOT.getAndSet(s, i, (Listener) null);
        if (l != null) {
          l.cancelled(r);
        }
      }
    }
    Set<Listener> all = listeners;
    if (all != null) {
      for (Listener l : all) {
        if (all.remove(l)) {
          l.cancelled(r);
        }
      }
    }
    Promise<Void> p;
    synchronized (this) {
      p = promise;
    }
    if (p != null) {
      p.tryComplete();
    }
    return true;
  }

  /** {@return whether it was cancelled} */
  public boolean isCancelled() {
    return reason != null;
  }

  /** {@return why it was cancelled, or {@code null}} */
  public String reason() {
    return reason;
  }

  /**
   * Adds a listener, told at once (on this thread) if already cancelled.
   *
   * @param listener the listener
   * @return where it went, for {@link #remove(Listener, int)}
   */
  public int add(Listener listener) {
    String already = reason;
    if (already != null) {
      listener.cancelled(already);
      return IN_SET;
    }
    Listener[] s = slots;
    if (s == null) {
      Listener[] made = new Listener[SLOT_COUNT * SPACING];
      s = SLOTS.compareAndSet(this, (Listener[]) null, made) ? made : slots;
    }
    Ambient a = AMBIENT.get();
    int first = a != null && a.signal == this ? a.slot : ThreadStripes.current(SLOT_BITS);
    for (int k = 0; k < SLOT_COUNT; k++) {
      int i = ((first + k) & (SLOT_COUNT - 1)) * SPACING;
      // A compare-and-set alone: reading the slot first made the JIT assume it always empty, and the first taken
      // slot threw away the compiled call path it is inlined into (ServiceClientImpl.start).
      if (SLOT.compareAndSet(s, i, (Listener) null, listener)) {
        // Cancelled meanwhile: the canceller may have gone past it. Whoever empties the slot tells it.
        already = reason;
        if (already != null && SLOT.compareAndSet(s, i, listener, (Listener) null)) {
          listener.cancelled(already);
        }
        return i;
      }
    }
    Set<Listener> all = listeners;
    if (all == null) {
      Set<Listener> made = ConcurrentHashMap.newKeySet();
      all = LISTENERS.compareAndSet(this, (Set<Listener>) null, made) ? made : listeners;
    }
    all.add(listener);
    // Cancelled meanwhile: the canceller may have gone past it. Whoever removes it tells it.
    already = reason;
    if (already != null && all.remove(listener)) {
      listener.cancelled(already);
    }
    return IN_SET;
  }

  /**
   * Removes a listener (a call that has its outcome).
   *
   * @param listener the listener
   */
  public void remove(Listener listener) {
    Listener[] s = slots;
    if (s != null) {
      for (int i = 0; i < SLOT_COUNT * SPACING; i += SPACING) {
        if (SLOT.getVolatile(s, i) == listener && SLOT.compareAndSet(s, i, listener, (Listener) null)) {
          return;
        }
      }
    }
    Set<Listener> all = listeners;
    if (all != null) {
      all.remove(listener);
    }
  }

  /**
   * Removes a listener from where {@link #add} put it.
   *
   * @param listener the listener
   * @param where    what {@link #add} returned for it
   */
  public void remove(Listener listener, int where) {
    if (where == IN_SET) {
      Set<Listener> all = listeners;
      if (all != null) {
        all.remove(listener);
      }
    } else {
      SLOT.compareAndSet(slots, where, listener, (Listener) null); // else the canceller took it, and tells it
    }
  }

  /** {@return the listeners in it now} */
  int listening() {
    int n = 0;
    Listener[] s = slots;
    if (s != null) {
      for (int i = 0; i < SLOT_COUNT * SPACING; i += SPACING) {
        if (SLOT.getVolatile(s, i) != null) {
          n++;
        }
      }
    }
    Set<Listener> all = listeners;
    return n + (all == null ? 0 : all.size());
  }

  /** {@return a future completed once cancelled} */
  public Future<Void> future() {
    Promise<Void> p;
    synchronized (this) {
      if (promise == null) {
        promise = Promise.promise();
      }
      p = promise;
    }
    if (reason != null) {
      p.tryComplete(); // cancelled before the promise was there for the canceller to complete
    }
    return p.future();
  }
}
