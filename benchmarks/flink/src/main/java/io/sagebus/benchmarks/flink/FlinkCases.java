package io.sagebus.benchmarks.flink;

import io.vertx.core.json.JsonObject;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

import java.util.Collections;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The workloads on Flink: a local MiniCluster at parallelism 1 (started by {@code execute()}), a sequence source,
 * a sink that drops what it gets (as a discarding sink) and tells {@link SinkProgress},
 * {@code AsyncDataStream.orderedWait/unorderedWait} for the async steps.
 */
final class FlinkCases {

  /** Records counted by the last function of the job (the MiniCluster runs in this JVM). */
  static final AtomicLong COUNTED = new AtomicLong();

  /** Latencies of the 5 ms completions, scheduled to fired, as seen by the async function. */
  static volatile Latencies delays;

  private FlinkCases() {
  }

  static JsonObject run(Workload w, int n) throws Exception {
    // The MiniCluster's REST endpoint would listen on every interface: keep it on loopback.
    Configuration conf = new Configuration();
    conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
    conf.set(RestOptions.ADDRESS, "127.0.0.1");
    conf.set(JobManagerOptions.BIND_HOST, "127.0.0.1");
    conf.set(TaskManagerOptions.BIND_HOST, "127.0.0.1");
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
    DataStream<Long> source = env.fromSequence(0, n - 1L);
    DataStream<?> out = switch (w) {
      case ASYNC_5MS_ORDERED, ASYNC_5MS_UNORDERED -> {
        delays = new Latencies(n);
        yield w.ordered()
          ? AsyncDataStream.orderedWait(source, new Delayed(), 60, TimeUnit.SECONDS, Workload.CAPACITY)
          : AsyncDataStream.unorderedWait(source, new Delayed(), 60, TimeUnit.SECONDS, Workload.CAPACITY);
      }
      case MAP -> source.map(new PlusOne());
      case ASYNC_NOW -> AsyncDataStream.orderedWait(source, new Immediate<Long>(), 60, TimeUnit.SECONDS, Workload.CAPACITY)
        .returns(Types.LONG);
      case KB_ASYNC -> AsyncDataStream.orderedWait(source.map(ProcessFigures::kilobyte).returns(Types.STRING),
        new Immediate<String>(), 60, TimeUnit.SECONDS, Workload.CAPACITY).returns(Types.STRING);
      default -> throw new IllegalArgumentException(w.id + " has no Flink version");
    };
    out.sinkTo(new CountingSink<>());

    long t0 = System.nanoTime();
    SinkProgress progress = new SinkProgress(n);
    SinkProgress.current = progress;
    JobExecutionResult result = env.execute("sagebus-beside-flink " + w.id);
    double executeSeconds = (System.nanoTime() - t0) / 1e9;
    if (COUNTED.get() != n) {
      throw new IllegalStateException("expected " + n + " records through the last function, counted " + COUNTED.get());
    }
    JsonObject json = new JsonObject()
      .put("jobSeconds", result.getNetRuntime(TimeUnit.MILLISECONDS) / 1000.0)
      .put("jobClock", "JobExecutionResult.getNetRuntime()")
      .put("executeSeconds", executeSeconds)
      .put("firstRecordClock", "from execute(), the MiniCluster's start included")
      .mergeIn(progress.figures(t0));
    if (w.fiveMillis()) {
      json.put("delayMeanMs", delays.meanMillis()).put("delayP50Ms", delays.p50Millis());
    }
    return json;
  }

  /** Drops what it gets, as Flink's {@code DiscardingSink}, and tells the run's {@link SinkProgress}. */
  static final class CountingSink<T> implements Sink<T> {
    private static final long serialVersionUID = 1L;

    @Override
    public SinkWriter<T> createWriter(WriterInitContext context) {
      SinkProgress progress = SinkProgress.current;
      return new SinkWriter<>() {
        @Override
        public void write(T element, Context context) {
          progress.record();
        }

        @Override
        public void flush(boolean endOfInput) {
        }

        @Override
        public void close() {
        }
      };
    }
  }

  /** Adds one; counts what it saw. */
  static final class PlusOne extends RichMapFunction<Long, Long> {
    private static final long serialVersionUID = 1L;
    private transient long seen;

    @Override
    public Long map(Long value) {
      seen++;
      return value + 1;
    }

    @Override
    public void close() {
      COUNTED.addAndGet(seen);
    }
  }

  /** Completes each record at once, with the record itself. */
  static final class Immediate<T> extends RichAsyncFunction<T, T> {
    private static final long serialVersionUID = 1L;
    private transient long seen;

    @Override
    public void asyncInvoke(T input, ResultFuture<T> resultFuture) {
      seen++;
      resultFuture.complete(Collections.singleton(input));
    }

    @Override
    public void close() {
      COUNTED.addAndGet(seen);
    }
  }

  /** Completes each record 5 ms later, from a scheduler thread (what a Flink user would write for a 5 ms service). */
  static final class Delayed extends RichAsyncFunction<Long, Long> {
    private static final long serialVersionUID = 1L;
    private transient ScheduledExecutorService scheduler;

    @Override
    public void open(OpenContext openContext) {
      scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "five-millis");
        t.setDaemon(true);
        return t;
      });
    }

    @Override
    public void asyncInvoke(Long input, ResultFuture<Long> resultFuture) {
      long t0 = System.nanoTime();
      scheduler.schedule(() -> {
        delays.add(System.nanoTime() - t0);
        COUNTED.incrementAndGet();
        resultFuture.complete(Collections.singleton(input));
      }, Workload.DELAY_MS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() throws InterruptedException {
      scheduler.shutdown();
      scheduler.awaitTermination(10, TimeUnit.SECONDS);
    }
  }
}
