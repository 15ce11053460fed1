package io.sagebus.samples;

import io.sagebus.Batched;
import io.sagebus.CallOptions;
import io.sagebus.LocalEnvironment;
import io.sagebus.ServiceCallException;
import io.vertx.core.Future;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Dynamic batching: four callers call a batched method per item, at once; the instance runs the
 * method once with the four items and answers each caller with its element, the empty text
 * failing alone.
 * <p>
 * Prints:
 * <pre>
 * sage -> 4
 * bus -> 3
 * "" -> SERVICE_ERROR java.lang.IllegalArgumentException: empty text
 * batch -> 5
 * invocations: 1
 * </pre>
 */
public final class BatchingSample {

  private BatchingSample() {
  }

  // tag::batching-service[]
  /** A model that is cheaper per item in bulk: one invocation measures many texts. */
  public static class LengthService {
    static final AtomicInteger INVOCATIONS = new AtomicInteger();

    /** Made by Sagebus, one per instance. */
    public LengthService() {
    }

    /**
     * {@return each text's length, in order; an exception in the place of a text that fails alone}
     *
     * @param texts the items of the calls gathered into this batch
     */
    @Batched(maxSize = 4, maxWaitMs = 1000)
    public List<Object> measure(List<String> texts) {
      INVOCATIONS.incrementAndGet();
      List<Object> out = new ArrayList<>();
      for (String text : texts) {
        out.add(text.isEmpty() ? new IllegalArgumentException("empty text") : text.length());
      }
      return out;
    }
  }
  // end::batching-service[]

  /**
   * Runs the sample in a new environment, and closes it.
   *
   * @param out where the answers are printed
   * @throws Exception when a call does not end within 30 s
   */
  public static void run(PrintStream out) throws Exception {
    LengthService.INVOCATIONS.set(0);
    // tag::batching[]
    LocalEnvironment env = LocalEnvironment.create("batching");
    env.registerService("lengths", LengthService.class);
    env.start().await();
    List<String> texts = List.of("sage", "bus", "", "batch");
    List<Future<Integer>> calls = new ArrayList<>();
    for (String text : texts) { // each caller calls per item, all at once
      calls.add(env.services().callAsync("lengths", CallOptions.method("measure"), text));
    }
    Future.join(calls).otherwiseEmpty().await(30, TimeUnit.SECONDS);
    for (int i = 0; i < texts.size(); i++) {
      Future<Integer> call = calls.get(i);
      String text = texts.get(i).isEmpty() ? "\"\"" : texts.get(i);
      if (call.succeeded()) {
        out.println(text + " -> " + call.result());
      } else if (call.cause() instanceof ServiceCallException e) {
        out.println(text + " -> " + e.code() + " " + e.remoteType() + ": " + e.remoteMessage());
      }
    }
    out.println("invocations: " + LengthService.INVOCATIONS.get()); // one batch of four
    env.close().await();
    // end::batching[]
  }
}
