package io.sagebus.impl.call;

import io.netty.util.concurrent.FastThreadLocal;
import io.sagebus.impl.ThreadStripes;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
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
 * leave, on a cache line that the other threads' slots do not share. An operator thread whose slot is
 * taken (a {@code mapAsync}'s, with many calls in flight) puts the rest in a block of places of its own,
 * emptied by whichever thread ends the call (the loop that answers it). Only what no slot or block holds
 * goes to a concurrent set, whose shared count every thread's adds and removes all update (with a
 * hundred calls in flight from one operator thread, a tenth of its time and of the answering loop's).
 */
public final class Cancellation implements CancellationSource {

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
   * An operator thread's signal, the slot its calls take first and its {@link Block}. Slots are handed out in turn
   * as operator threads start, so that a job's instances calling at once each have a slot of their own. (By thread id
   * alone, two of four often shared one; a call then found it taken, and that branch, unseen while the JIT profiled
   * the first calls, sent the whole compiled call path back to the interpreter to be compiled again.)
   */
  private static final class Ambient {
    final Cancellation signal;
    final int slot;
    /** Made when its thread first has more than one call in flight (its thread's alone). */
    Block block;

    Ambient(Cancellation signal, int slot) {
      this.signal = signal;
      this.slot = slot;
    }
  }

  /**
   * An operator thread's own listeners, for its many calls in flight at once (a {@code mapAsync}'s): only that thread
   * puts listeners in, into the next free place after the last it took (calls mostly end in the order they start, so
   * that place is usually free); whoever removes one, or the canceller, empties its place. The thread's adds and the
   * answering threads' removes touch places a line or more apart, and no count is shared.
   */
  private static final class Block {
    /** Its places, after a cache line of padding (and followed by one). */
    final Listener[] places = new Listener[BLOCK_SIZE + 2 * SPACING];
    /** Its number in the signal, for {@link #add}'s answer. */
    final int number;
    /** Where its owner looks first for a free place (the owner's alone). */
    int next;

    Block(int number) {
      this.number = number;
    }
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
  /** Places of a {@link Block}: a power of two. */
  private static final int BLOCK_BITS = 8;
  private static final int BLOCK_SIZE = 1 << BLOCK_BITS;
  /** Set in what {@link #add} returns for a listener in a block, with the block's number and the place below it. */
  private static final int IN_BLOCK = 1 << 30;
  private static final Block[] NO_BLOCKS = new Block[0];
  private static final VarHandle AMBIENT_THREADS;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      LISTENERS = lookup.findVarHandle(Cancellation.class, "listeners", Set.class);
      REASON = lookup.findVarHandle(Cancellation.class, "reason", String.class);
      AMBIENT_THREADS = lookup.findVarHandle(Cancellation.class, "ambientThreads", int.class);
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
  private volatile int ambientThreads; // an int, not an AtomicInteger: every invocation makes a signal
  /** The blocks of the operator threads that took this signal as theirs, by number (grows under this signal's lock). */
  private volatile Block[] blocks = NO_BLOCKS;

  /** A signal not cancelled yet. */
  public Cancellation() {
  }

  /** {@return this signal itself} */
  @Override
  public Cancellation cancellation() {
    return this;
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
      : new Ambient(cancellation, (int) AMBIENT_THREADS.getAndAdd(cancellation, 1) & (SLOT_COUNT - 1)));
  }

  /**
   * {@return an ambient signal for threads that take turns (one at a time, each after the last) making one operator's
   * calls, to install with {@link #swapAmbient}}
   *
   * @param cancellation the signal
   */
  public static Object newAmbient(Cancellation cancellation) {
    return new Ambient(cancellation, (int) AMBIENT_THREADS.getAndAdd(cancellation, 1) & (SLOT_COUNT - 1));
  }

  /**
   * Installs on this thread an ambient signal {@link #newAmbient} made, or none.
   *
   * @param ambient what {@link #newAmbient} or this method returned, or {@code null}
   * @return the one it replaces, to install again after
   */
  public static Object swapAmbient(Object ambient) {
    Ambient previous = AMBIENT.get();
    AMBIENT.set((Ambient) ambient);
    return previous;
  }

  /** {@return a new block of this signal's, for an operator thread that takes it as its own} */
  private synchronized Block newBlock() {
    Block[] b = blocks;
    Block made = new Block(b.length);
    Block[] more = Arrays.copyOf(b, b.length + 1);
    more[b.length] = made;
    blocks = more;
    return made;
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
    for (Block b : blocks) {
      for (int i = SPACING; i < SPACING + BLOCK_SIZE; i++) {
        Listener l = (Listener) SLOT.getAndSet(b.places, i, (Listener) null);
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
    boolean own = a != null && a.signal == this;
    int first = own ? a.slot : ThreadStripes.current(SLOT_BITS);
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
      if (own) {
        // Its own slot taken: its thread has calls in flight (a mapAsync's); the others' slots are theirs.
        if (a.block == null) {
          a.block = newBlock();
        }
        int where = addToBlock(a.block, listener);
        if (where >= 0) {
          return where;
        }
        own = false;
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

  /** {@return where the listener went in its thread's block, or -1 when the block is full} */
  private int addToBlock(Block b, Listener listener) {
    Listener[] places = b.places;
    int start = b.next;
    for (int k = 0; k < BLOCK_SIZE; k++) {
      int i = SPACING + ((start + k) & (BLOCK_SIZE - 1));
      if (SLOT.compareAndSet(places, i, (Listener) null, listener)) {
        b.next = i - SPACING + 1;
        // Cancelled meanwhile: the canceller may have gone past it. Whoever empties the place tells it.
        String already = reason;
        if (already != null && SLOT.compareAndSet(places, i, listener, (Listener) null)) {
          listener.cancelled(already);
        }
        return IN_BLOCK | (b.number << BLOCK_BITS) | (i - SPACING);
      }
    }
    return -1;
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
    for (Block b : blocks) {
      for (int i = SPACING; i < SPACING + BLOCK_SIZE; i++) {
        if (SLOT.getVolatile(b.places, i) == listener && SLOT.compareAndSet(b.places, i, listener, (Listener) null)) {
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
   * @return whether it was still in it (else it is told, or was told, that the signal was cancelled)
   */
  public boolean remove(Listener listener, int where) {
    // Not in it any more: whoever took it out (the canceller, or an add that found the signal cancelled) tells it.
    if (where == IN_SET) {
      Set<Listener> all = listeners;
      return all != null && all.remove(listener);
    } else if ((where & IN_BLOCK) != 0) {
      Block b = blocks[(where & ~IN_BLOCK) >>> BLOCK_BITS];
      return SLOT.compareAndSet(b.places, SPACING + (where & (BLOCK_SIZE - 1)), listener, (Listener) null);
    } else {
      return SLOT.compareAndSet(slots, where, listener, (Listener) null);
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
    for (Block b : blocks) {
      for (int i = SPACING; i < SPACING + BLOCK_SIZE; i++) {
        if (SLOT.getVolatile(b.places, i) != null) {
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
