package io.sagebus.impl.call;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client's request ids, drawn from counters striped by thread: no two calls of the client get the same one, on any
 * number of threads at once, and all carry the client's prefix.
 */
class RequestIdsTest {

  @Test
  void requestIdsAreUniqueAcrossThreadsAndShareTheClientsPrefix() throws Exception {
    RequestIds ids = new RequestIds();
    int threads = 8;
    int perThread = 50_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<List<String>>> made = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        made.add(pool.submit(() -> {
          List<String> mine = new ArrayList<>(perThread);
          for (int i = 0; i < perThread; i++) {
            mine.add(ids.next());
          }
          return mine;
        }));
      }
      Set<String> all = new HashSet<>();
      for (Future<List<String>> f : made) {
        all.addAll(f.get(60, TimeUnit.SECONDS));
      }
      assertThat(all).hasSize(threads * perThread);
      String prefix = all.iterator().next().substring(0, all.iterator().next().indexOf('-') + 1);
      assertThat(all).allSatisfy(id -> assertThat(id).startsWith(prefix).matches("[0-9a-f]+-[0-9]+"));
    } finally {
      pool.shutdownNow();
    }
  }
}
