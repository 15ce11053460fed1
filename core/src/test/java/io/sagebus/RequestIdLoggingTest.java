package io.sagebus;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.sagebus.testing.FlakyService;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** One call can be followed through the logs of the caller and of the service by its request id. */
@ExtendWith(VertxExtension.class)
class RequestIdLoggingTest {

  private final ListAppender<ILoggingEvent> events = new ListAppender<>();
  private Logger sagebus;
  private Level previousLevel;
  private LocalEnvironment env;

  /** Logs each call through its context's logger, and hangs on the first one so that the caller retries. */
  public static class LoggingFlaky implements ServiceLifecycle {
    private final FlakyService flaky;
    private ServiceContext ctx;

    LoggingFlaky(AtomicInteger calls) {
      flaky = new FlakyService(1, calls);
    }

    @Override
    public void setup(ServiceContext context) {
      ctx = context;
    }

    public Object process(Object value) throws InterruptedException {
      ctx.logger().info("serving {}", value);
      return flaky.process(value);
    }
  }

  @BeforeEach
  void setUp(Vertx vertx) {
    sagebus = (Logger) LoggerFactory.getLogger("io.sagebus");
    previousLevel = sagebus.getLevel();
    sagebus.setLevel(Level.DEBUG);
    events.start();
    sagebus.addAppender(events);
    env = LocalEnvironment.create(vertx, "logs", new EnvironmentOptions());
  }

  @AfterEach
  void tearDown() {
    env.close().await();
    sagebus.detachAppender(events);
    sagebus.setLevel(previousLevel);
  }

  @Test
  void theRequestIdIsInTheMdcOfTheCallersAndTheServicesLogLines() {
    AtomicInteger calls = new AtomicInteger();
    env.registerService("flaky", () -> new LoggingFlaky(calls),
      new ServiceOptions().setMaxConcurrency(2).setDrainTimeout(Duration.ofMillis(100)));
    env.start().await();
    Object result = env.services().call("flaky", CallOptions.create()
      .retry(new RetryPolicy().setAttemptTimeout(Duration.ofMillis(200)).setInitialBackoff(Duration.ofMillis(10))), "x");
    assertThat(result).isEqualTo("x");

    List<ILoggingEvent> served = events.list.stream().filter(e -> e.getFormattedMessage().equals("serving x")).toList();
    List<ILoggingEvent> retried = events.list.stream()
      .filter(e -> e.getLoggerName().endsWith("ServiceClientImpl") && e.getFormattedMessage().contains("retrying")).toList();
    assertThat(served).hasSize(2);
    assertThat(retried).hasSize(1);
    String id = retried.get(0).getMDCPropertyMap().get("sagebus-request-id");
    assertThat(id).isNotBlank();
    assertThat(served).allSatisfy(e -> assertThat(e.getMDCPropertyMap()).containsEntry("sagebus-request-id", id));
    assertThat(served.get(0).getLoggerName()).isEqualTo("io.sagebus.service.flaky");
  }
}
