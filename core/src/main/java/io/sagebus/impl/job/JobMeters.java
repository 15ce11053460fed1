package io.sagebus.impl.job;

import io.sagebus.impl.pipeline.LogicalNode;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.sagebus.JobStatus;
import io.sagebus.ops.SagebusMetrics;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The meters of one running job, when its Vertx records metrics: per operator, records in and
 * out and errors; per job, records in flight and a running flag. They are removed when the job
 * ends (a job id is a tag, so only running jobs carry one), and the end counts in
 * {@code sagebus_jobs_finished_total} by status.
 */
final class JobMeters {

  private final MeterRegistry registry;
  private final String environment;
  private final List<Meter> meters = new ArrayList<>();

  private JobMeters(MeterRegistry registry, String environment) {
    this.registry = registry;
    this.environment = environment;
  }

  /**
   * {@return the job's meters, registered; or {@code null} when the Vertx records no metrics}
   */
  static JobMeters bind(Vertx vertx, String environment, String jobId, Map<LogicalNode, NodeStats> stats,
                        InFlightGate gate) {
    MeterRegistry registry = SagebusMetrics.registry(vertx);
    if (registry == null) {
      return null;
    }
    JobMeters m = new JobMeters(registry, environment);
    Tags job = Tags.of("env", environment, "job", jobId);
    m.meters.add(Gauge.builder("sagebus.job.running", () -> 1)
      .description("1 while the job runs (its meters are removed when it ends)").tags(job).register(registry));
    m.meters.add(Gauge.builder("sagebus.job.records.inflight", gate, g -> Math.max(0, g.current()))
      .description("Records between the job's sources and its sinks").tags(job).register(registry));
    for (Map.Entry<LogicalNode, NodeStats> e : stats.entrySet()) {
      Tags op = job.and("operator", e.getKey().name());
      NodeStats s = e.getValue();
      m.meters.add(FunctionCounter.builder("sagebus.operator.records.in", s, NodeStats::in)
        .description("Records that entered the operator").tags(op).register(registry));
      m.meters.add(FunctionCounter.builder("sagebus.operator.records.out", s, NodeStats::out)
        .description("Records the operator emitted").tags(op).register(registry));
      m.meters.add(FunctionCounter.builder("sagebus.operator.errors", s, NodeStats::errors)
        .description("Records the operator failed on").tags(op).register(registry));
    }
    return m;
  }

  /** Removes the job's meters and counts its end. */
  void ended(JobStatus status) {
    for (Meter meter : meters) {
      registry.remove(meter);
    }
    meters.clear();
    Counter.builder("sagebus.jobs.finished").description("Jobs that ended, by status")
      .tags("env", environment, "status", status.name().toLowerCase(Locale.ROOT)).register(registry).increment();
  }
}
