package io.sagebus.impl.call;

import io.netty.util.concurrent.FastThreadLocal;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A cancellation signal that calls listen to: a service invocation's (the calls it makes), a job's
 * (its operators' calls). Cancelled at most once; its listeners then run once, on the cancelling
 * thread. Thread-safe. A call registers while it is in flight and leaves when it has its outcome, so
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

  private Set<Listener> listeners;
  private String reason;
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
    List<Listener> toTell;
    Promise<Void> p;
    synchronized (this) {
      if (reason != null) {
        return false;
      }
      reason = why == null ? "cancelled" : why;
      toTell = listeners == null ? List.of() : new ArrayList<>(listeners);
      listeners = null;
      p = promise;
    }
    for (Listener l : toTell) {
      l.cancelled(reason);
    }
    if (p != null) {
      p.tryComplete();
    }
    return true;
  }

  /** {@return whether it was cancelled} */
  public synchronized boolean isCancelled() {
    return reason != null;
  }

  /** {@return why it was cancelled, or {@code null}} */
  public synchronized String reason() {
    return reason;
  }

  /**
   * Adds a listener, told at once (on this thread) if already cancelled.
   *
   * @param listener the listener
   */
  public void add(Listener listener) {
    String already;
    synchronized (this) {
      already = reason;
      if (already == null) {
        if (listeners == null) {
          listeners = new LinkedHashSet<>();
        }
        listeners.add(listener);
        return;
      }
    }
    listener.cancelled(already);
  }

  /**
   * Removes a listener (a call that has its outcome).
   *
   * @param listener the listener
   */
  public synchronized void remove(Listener listener) {
    if (listeners != null) {
      listeners.remove(listener);
    }
  }

  /** {@return a future completed once cancelled} */
  public Future<Void> future() {
    synchronized (this) {
      if (promise == null) {
        promise = Promise.promise();
        if (reason == null) {
          return promise.future();
        }
      } else {
        return promise.future();
      }
    }
    promise.tryComplete();
    return promise.future();
  }
}
