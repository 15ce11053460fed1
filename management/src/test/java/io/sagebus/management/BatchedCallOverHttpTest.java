package io.sagebus.management;

import io.sagebus.BatchPolicy;
import io.sagebus.LocalEnvironment;
import io.sagebus.ServiceOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

import static io.sagebus.management.Http.json;
import static org.assertj.core.api.Assertions.assertThat;

/** HTTP callers of a batched method call it per item, and their calls share one invocation. */
class BatchedCallOverHttpTest {

  private static final String TOKEN = "batched-token-for-tests-0123456789";

  private LocalEnvironment env;
  private ManagementServer server;
  private Http http;

  /** Doubles its items; records every batch. */
  public static class Doubler {
    final Queue<List<Integer>> batches;

    Doubler(Queue<List<Integer>> batches) {
      this.batches = batches;
    }

    /**
     * {@return each item doubled}
     *
     * @param items the batch
     */
    public List<Integer> twice(List<Integer> items) {
      batches.add(List.copyOf(items));
      return items.stream().map(i -> i * 2).toList();
    }
  }

  @AfterEach
  void tearDown() {
    if (http != null) {
      http.close();
    }
    if (server != null) {
      server.close().await();
    }
    if (env != null) {
      env.close().await();
    }
  }

  @Test
  void concurrentHttpCallsOfABatchedMethodShareOneInvocation() throws Exception {
    Queue<List<Integer>> batches = new ConcurrentLinkedQueue<>();
    env = LocalEnvironment.create("batched-http");
    env.registerService("doubler", () -> new Doubler(batches), new ServiceOptions()
      .setBatching("twice", BatchPolicy.create(4, Duration.ofSeconds(20))));
    env.start().await();
    server = ManagementServer.builder(env).options(new ManagementOptions().setPort(0).setToken(TOKEN)).build();
    server.start().await();
    http = new Http(server.actualPort(), TOKEN);
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 1; i <= 4; i++) {
        JsonObject body = new JsonObject().put("method", "twice").put("args", new JsonArray().add(i));
        calls.add(CompletableFuture.supplyAsync(() -> http.post("/services/doubler/call", body), threads));
      }
      List<Integer> results = new ArrayList<>();
      for (CompletableFuture<HttpResponse<String>> call : calls) {
        HttpResponse<String> r = call.get(60, TimeUnit.SECONDS);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        results.add(json(r).getInteger("result"));
      }
      assertThat(results).containsExactly(2, 4, 6, 8);
    }
    // Full at 4 items, long before its 20 s wait: the four HTTP calls were one invocation.
    assertThat(batches).hasSize(1);
    assertThat(batches.peek()).containsExactlyInAnyOrder(1, 2, 3, 4);
  }
}
