package io.sagebus.impl.call;

import io.netty.util.concurrent.FastThreadLocal;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A cancellation signal that calls listen to: a service invocation's (the calls it makes), a job's
 * (its operators' calls). Cancelled at most once; its listeners then run once, on the cancelling
 * thread (one added while it cancels, on the adding thread). Thread-safe, and lock-free but for
 * {@link #future()}. A call registers while it is in flight and leaves when it has its outcome, so
 * a long-lived signal (a job's) holds only the calls in flight.
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
  private static final FastThreadLocal<Cancellation> AMBIENT = new FastThreadLocal<>();

  private static final VarHandle LISTENERS;
  private static final VarHandle REASON;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      LISTENERS = lookup.findVarHandle(Cancellation.class, "listeners", Set.class);
      REASON = lookup.findVarHandle(Cancellation.class, "reason", String.class);
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
  private volatile String reason;
  private Promise<Void> promise;

  /** A signal not cancelled yet. */
  public Cancellation() {
  }

  /**
   * {@return the signal calls made on this thread outside a service method follow, or {@code null}}
   */
  public static Cancellation ambient() {
    return AMBIENT.get();
  }

  /**
   * Sets the signal calls made on this thread outside a service method follow (an operator's thread).
   *
   * @param cancellation the signal, or {@code null} to clear it
   */
  public static void setAmbient(Cancellation cancellation) {
    AMBIENT.set(cancellation);
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
   */
  public void add(Listener listener) {
    String already = reason;
    if (already != null) {
      listener.cancelled(already);
      return;
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
  }

  /**
   * Removes a listener (a call that has its outcome).
   *
   * @param listener the listener
   */
  public void remove(Listener listener) {
    Set<Listener> all = listeners;
    if (all != null) {
      all.remove(listener);
    }
  }

  /** {@return the listeners in it now} */
  int listening() {
    Set<Listener> all = listeners;
    return all == null ? 0 : all.size();
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
