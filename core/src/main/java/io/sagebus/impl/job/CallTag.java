package io.sagebus.impl.job;

import io.sagebus.SinkFunction;
import io.sagebus.impl.Json;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;

import java.util.ArrayList;
import java.util.List;

/**
 * One call of a pipeline served as a service: counts the records it still has in the pipeline
 * (its record, and what operators made of it), gathers those that reach the end, and answers
 * when none is left.
 */
final class CallTag {

  private final Promise<JsonArray> result = Promise.promise();
  private final List<Object> collected = new ArrayList<>();
  private long outstanding = 1;

  synchronized void add(long n) {
    outstanding += n;
    if (outstanding == 0) {
      JsonArray out = new JsonArray();
      for (Object o : collected) {
        out.add(Json.toWire(o));
      }
      result.tryComplete(out);
    }
  }

  /** A record of this call reached the end; the sink's own accounting then releases it. */
  synchronized void collect(Object value) {
    collected.add(value);
  }

  void fail(Throwable cause) {
    result.tryFail(cause);
  }

  Future<JsonArray> future() {
    return result.future();
  }

  /** The sink at the end of a pipeline served as a service: the runtime hands each record to its call. */
  static final class Collecting extends SinkFunction<Object> {
    @Override
    public void execute(Object value) {
      // Records without a call (none reach here) have nothing to answer.
    }
  }
}
