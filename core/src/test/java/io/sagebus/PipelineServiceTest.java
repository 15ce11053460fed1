package io.sagebus;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@ExtendWith(VertxExtension.class)
class PipelineServiceTest {

  private LocalEnvironment env;

  @BeforeEach
  void setUp(Vertx vertx) {
    env = LocalEnvironment.create(vertx, "served", new EnvironmentOptions());
    env.registerService("upper", () -> new Object() {
      @SuppressWarnings("unused")
      public String process(String s) {
        return s.toUpperCase();
      }
    });
    // Splits a sentence into words, drops short ones, and upper-cases the rest through a service.
    env.servePipeline("words", in -> in
      .flatMap(sentence -> List.of(((String) sentence).split(" ")))
      .filter(word -> word.length() > 2)
      .map(new MapFunction<String, String>() {
        @Override
        public String execute(String word) {
          return callService("upper", word);
        }
      }, 2));
    env.start().await();
  }

  @AfterEach
  void tearDown() {
    env.close().await();
  }

  @Test
  void aCallsRecordGoesThroughThePipelineAndItsResultsComeBack() {
    JsonArray words = env.services().call("words", "the quick brown fox");
    assertThat(words).containsExactlyInAnyOrder("THE", "QUICK", "BROWN", "FOX");
  }

  @Test
  void aRecordFilteredOutAnswersAnEmptyArray() {
    JsonArray none = env.services().call("words", "a b c");
    assertThat(none).isEmpty();
  }

  @Test
  void concurrentCallsGetOnlyTheirOwnRecords() {
    List<Future<JsonArray>> calls = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      calls.add(env.services().callAsync("words", "call" + i + " holds word" + i + " and more" + i));
    }
    for (int i = 0; i < 200; i++) {
      JsonArray result = calls.get(i).await();
      assertThat(result).containsExactlyInAnyOrder("CALL" + i, "HOLDS", "WORD" + i, "AND", "MORE" + i);
    }
  }

  @Test
  void aCallWaitsForEveryRecordAFlatMapStillHasToEmit(Vertx vertx) throws Exception {
    CountDownLatch restMayGo = new CountDownLatch(1);
    LocalEnvironment other = LocalEnvironment.create(vertx, "served3", new EnvironmentOptions());
    try {
      // Emits the first word, then holds the rest back until the first has reached the pipeline's end.
      other.servePipeline("split", in -> in.flatMap(new FlatMapFunction<Object, Object>() {
        @Override
        public void execute(Object sentence, Collector<Object> out) throws InterruptedException {
          String[] words = ((String) sentence).split(" ");
          out.collect(words[0]);
          if (!restMayGo.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the test never let the other words go");
          }
          for (int i = 1; i < words.length; i++) {
            out.collect(words[i]);
          }
        }
      }));
      other.start().await();
      Future<JsonArray> call = other.services().callAsync("split", "first second third");
      await().atMost(Duration.ofSeconds(10)).until(() -> other.jobs().stream()
        .anyMatch(job -> job.progress().sinkRecords() >= 1));
      assertThat(call.isComplete()).as("answered with only the first word").isFalse();
      restMayGo.countDown();
      assertThat(call.await()).containsExactlyInAnyOrder("first", "second", "third");
    } finally {
      restMayGo.countDown();
      other.close().await();
    }
  }

  @Test
  void severalArgumentsEnterAsOneJsonArrayRecord(Vertx vertx) {
    LocalEnvironment other = LocalEnvironment.create(vertx, "served2", new EnvironmentOptions());
    try {
      other.servePipeline("sum", in -> in.map(r -> ((JsonArray) r).stream().mapToInt(o -> (Integer) o).sum()));
      other.start().await();
      JsonArray sum = other.services().call("sum", 1, 2, 3);
      assertThat(sum).containsExactly(6);
      JsonArray single = other.services().call("sum", new JsonArray().add(4).add(5));
      assertThat(single).containsExactly(9);
    } finally {
      other.close().await();
    }
    assertThat(other.openResources()).isEmpty();
  }

  @Test
  void closingStopsThePipelineJobAndItsServices() {
    JsonArray r = env.services().call("words", "one two three");
    assertThat(r).hasSize(3);
    env.close().await();
    assertThat(env.openResources()).isEmpty();
    assertThat(IntStream.range(0, 1)).isNotNull();
    assertThat(new JsonObject()).isEmpty();
  }
}
