package io.sagebus.impl.job;

import io.sagebus.impl.pipeline.LogicalNode;
import io.sagebus.impl.pipeline.PipelineBuilder;

import io.sagebus.Collector;
import io.sagebus.DataStream;
import io.sagebus.FailureCode;
import io.sagebus.Job;
import io.sagebus.JobOptions;
import io.sagebus.ServiceCallException;
import io.sagebus.ServiceContext;
import io.sagebus.ServiceLifecycle;
import io.sagebus.SourceFunction;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * A pipeline served as a service: each instance runs the pipeline as a streaming job; each call's
 * arguments enter it as one record, and the call is answered with the JSON array of every record
 * that reached the pipeline's end for it (empty when all were filtered out).
 */
public final class PipelineService implements ServiceLifecycle {

  private final Function<DataStream<Object>, DataStream<?>> body;
  private final BiFunction<List<LogicalNode>, JobOptions, Future<Job>> submitter;
  private final BlockingQueue<OperatorTask.Tagged> input;
  private final Set<CallTag> open = ConcurrentHashMap.newKeySet();
  private volatile Job job;
  private String name;

  /**
   * Creates one instance.
   *
   * @param body      builds the pipeline from its input stream
   * @param submitter submits a pipeline's operators as a job (without deploying this service again)
   * @param capacity  calls waiting to enter the pipeline before callers are held back
   */
  public PipelineService(Function<DataStream<Object>, DataStream<?>> body,
                         BiFunction<List<LogicalNode>, JobOptions, Future<Job>> submitter, int capacity) {
    this.body = body;
    this.submitter = submitter;
    this.input = new ArrayBlockingQueue<>(capacity);
  }

  @Override
  public void setup(ServiceContext context) {
    name = context.name();
    PipelineBuilder builder = new PipelineBuilder();
    DataStream<Object> in = builder.source(new SourceFunction<Object>() {
      @Override
      public void run(Collector<Object> out) throws InterruptedException {
        while (!isCancelled()) {
          out.collect(input.take());
        }
      }
    }).name(context.name() + "-input");
    DataStream<?> end = body.apply(in);
    if (end == null) {
      throw new IllegalArgumentException("The pipeline of service '" + context.name() + "' returned no stream");
    }
    @SuppressWarnings("unchecked")
    DataStream<Object> last = (DataStream<Object>) end;
    last.sink(new CallTag.Collecting()).name(context.name() + "-output");
    job = submitter.apply(builder.drain(), new JobOptions()).await();
    job.completion().onComplete(ar -> {
      Throwable cause = ar.failed() ? ar.cause() : new IllegalStateException("the pipeline of service '" + name + "' ended");
      open.forEach(tag -> tag.fail(cause));
    });
  }

  /**
   * Runs one call through the pipeline.
   *
   * @param args the call's arguments: one argument enters as itself, several as a JSON array
   * @return every record that reached the end for this call
   * @throws InterruptedException when the service is stopping
   */
  public JsonArray process(Object... args) throws InterruptedException {
    Object record = args.length == 1 ? args[0] : new JsonArray(List.of(args));
    if (record == null) {
      throw new ServiceCallException(name, "process", FailureCode.BAD_ARGUMENTS, null,
        "A pipeline service takes a record: null records are not allowed", List.of());
    }
    CallTag tag = new CallTag();
    open.add(tag);
    try {
      input.put(new OperatorTask.Tagged(tag, record));
      return tag.future().await();
    } finally {
      open.remove(tag);
    }
  }

  @Override
  public void stop() {
    Job j = job;
    if (j != null) {
      j.cancel().await();
    }
  }
}
