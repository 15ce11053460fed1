package io.sagebus.impl.call;

import io.netty.util.concurrent.FastThreadLocal;

/** Where a thread keeps the {@link CallScope} of the call it executes. */
final class ThreadScope {

  /**
   * Netty's thread local: an array slot on Vert.x's event-loop threads, where Future-returning
   * service methods and most callers run; a plain ThreadLocal underneath on other threads.
   */
  static final FastThreadLocal<CallScope> CURRENT = new FastThreadLocal<>();

  private ThreadScope() {
  }
}
