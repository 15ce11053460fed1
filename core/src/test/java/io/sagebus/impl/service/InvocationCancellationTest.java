package io.sagebus.impl.service;

import io.sagebus.impl.call.Cancellation;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An invocation makes its cancellation signal only when something needs it (a nested call, a method asking), and a
 * cancel that comes before, after or while the signal is made reaches it: the calls of a cancelled call are
 * cancelled whatever the order.
 */
class InvocationCancellationTest {

  private static Invocation invocation() {
    return new Invocation(null, "svc", "process", null, System.nanoTime(), 0, "r-1", true, null, null);
  }

  @Test
  void aCancelBeforeTheSignalIsMadeReachesItAsItIsMade() {
    Invocation inv = invocation();
    inv.cancelCalls("cancelled by the caller");
    Cancellation signal = inv.cancellation();
    assertThat(signal.isCancelled()).isTrue();
    assertThat(signal.reason()).isEqualTo("cancelled by the caller");
    assertThat(inv.cancellation()).isSameAs(signal);
  }

  @Test
  void aCancelAfterTheSignalWasMadeCancelsThatSignal() {
    Invocation inv = invocation();
    Cancellation signal = inv.cancellation();
    assertThat(signal.isCancelled()).isFalse();
    assertThat(inv.cancellation()).isSameAs(signal);
    inv.cancelCalls("the service is stopping");
    assertThat(signal.isCancelled()).isTrue();
    assertThat(inv.cancellation()).isSameAs(signal);
  }

  @Test
  void aCancelRacingTheSignalsMakersAlwaysReachesTheOneSignalTheyAllGet() throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(3);
    try {
      for (int i = 0; i < 2_000; i++) {
        Invocation inv = invocation();
        CyclicBarrier start = new CyclicBarrier(3);
        CompletableFuture<Cancellation> a = CompletableFuture.supplyAsync(() -> {
          await(start);
          return inv.cancellation();
        }, threads);
        CompletableFuture<Cancellation> b = CompletableFuture.supplyAsync(() -> {
          await(start);
          return inv.cancellation();
        }, threads);
        CompletableFuture<Void> cancel = CompletableFuture.runAsync(() -> {
          await(start);
          inv.cancelCalls("cancelled");
        }, threads);
        Cancellation first = a.get(10, TimeUnit.SECONDS);
        Cancellation second = b.get(10, TimeUnit.SECONDS);
        cancel.get(10, TimeUnit.SECONDS);
        assertThat(second).as("round %d", i).isSameAs(first);
        assertThat(first.isCancelled()).as("round %d", i).isTrue();
      }
    } finally {
      threads.shutdownNow();
    }
  }

  private static void await(CyclicBarrier barrier) {
    try {
      barrier.await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
