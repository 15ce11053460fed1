package io.sagebus.cluster;

import io.sagebus.ServiceContext;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * For {@link CancellationIT}, one per node JVM: {@code process} calls the service named by the
 * configuration's {@code next} (if any), without waiting, then sleeps 30 s; {@code probe} reports
 * what {@code process} did in this JVM. Its lines in the node's output mark each start and interrupt.
 */
public class CancelChainService {

  private static final AtomicInteger STARTED = new AtomicInteger();
  private static final AtomicInteger INTERRUPTED = new AtomicInteger();
  private static final AtomicInteger AFTER_SLEEP = new AtomicInteger();
  private static final AtomicInteger INSIDE = new AtomicInteger();
  private static final AtomicLong INTERRUPTED_AT_MILLIS = new AtomicLong();

  private final ServiceContext context;

  /**
   * @param context where it runs; {@code config().next} names the service it calls
   */
  public CancelChainService(ServiceContext context) {
    this.context = context;
  }

  /**
   * @param token anything
   * @return {@code token}, should the sleep ever end
   * @throws InterruptedException when the call is cancelled
   */
  public String process(String token) throws InterruptedException {
    STARTED.incrementAndGet();
    INSIDE.incrementAndGet();
    try {
      String next = context.config().getString("next");
      if (next != null) {
        context.services().callAsync(next, token);
      }
      System.out.println("chain " + context.name() + " started");
      try {
        Thread.sleep(30_000);
      } catch (InterruptedException e) {
        INTERRUPTED_AT_MILLIS.set(System.currentTimeMillis());
        INTERRUPTED.incrementAndGet();
        System.out.println("chain " + context.name() + " interrupted");
        throw e;
      }
      AFTER_SLEEP.incrementAndGet();
      System.out.println("chain " + context.name() + " slept to the end");
      return token;
    } finally {
      INSIDE.decrementAndGet();
    }
  }

  /**
   * {@return what {@code process} did in this JVM: started, interrupted (and when, epoch ms), ran past its
   * sleep, and is inside now}
   */
  public JsonObject probe() {
    return new JsonObject().put("started", STARTED.get()).put("interrupted", INTERRUPTED.get())
      .put("interruptedAtMillis", INTERRUPTED_AT_MILLIS.get()).put("afterSleep", AFTER_SLEEP.get())
      .put("inside", INSIDE.get());
  }
}
