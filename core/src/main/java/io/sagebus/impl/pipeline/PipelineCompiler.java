package io.sagebus.impl.pipeline;

import io.sagebus.JobOptions;
import io.sagebus.ServiceNotFoundException;
import io.sagebus.ServiceOptions;
import io.sagebus.impl.wire.Protocol;
import io.sagebus.impl.registry.ServiceRegistry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns the operators built since the last submit into an {@link ExecutionGraph}, refusing graphs
 * that cannot run: nothing built, no sink, an operator whose output nobody reads, a cycle, a
 * declared service that is not registered.
 */
public final class PipelineCompiler {

  private PipelineCompiler() {
  }

  /**
   * One service of a job: its address, options and replica count.
   *
   * @param name     the service name
   * @param address  its event-bus address
   * @param options  its options
   * @param replicas instances deployed
   */
  public record ServicePlan(String name, String address, ServiceOptions options, int replicas) {
  }

  /**
   * What a job will run.
   *
   * @param nodes     the operators, inputs before consumers
   * @param services  the services the job deploys (every registered one but pipelines served as services, as
   *                  SAGE does), with their plans: what the job's deployment asks for
   * @param instances operator instances in all
   * @param options   the job's limits
   */
  public record ExecutionGraph(List<LogicalNode> nodes, List<ServicePlan> services, int instances, JobOptions options) {
  }

  /**
   * Validates and plans a pipeline.
   *
   * @param nodes    the operators built since the last submit
   * @param registry the environment's services
   * @param options  the job's limits
   * @return the plan
   * @throws IllegalStateException    when nothing was built, or the graph has no sink, a dangling output, or a cycle
   * @throws ServiceNotFoundException when an operator declares a service that is not registered
   */
  public static ExecutionGraph compile(List<LogicalNode> nodes, ServiceRegistry registry, JobOptions options) {
    if (nodes.isEmpty()) {
      throw new IllegalStateException("Nothing to submit: build a pipeline first, e.g. "
        + "env.fromBatch(records).map(...).sink(...)");
    }
    Map<LogicalNode, Integer> consumers = new HashMap<>();
    for (LogicalNode n : nodes) {
      for (LogicalNode.Input in : n.inputs) {
        if (!nodes.contains(in.from())) {
          throw new IllegalStateException(n.name + " reads from " + in.from().name
            + ", which was submitted with an earlier job: build each pipeline from its own source");
        }
        consumers.merge(in.from(), 1, Integer::sum);
      }
    }
    checkAcyclic(nodes);
    boolean anySink = false;
    for (LogicalNode n : nodes) {
      if (n.kind == LogicalNode.Kind.SINK) {
        anySink = true;
      } else if (!consumers.containsKey(n)) {
        throw new IllegalStateException("The output of " + n.name + " is not consumed: end the stream with sink(...) "
          + "or print()");
      }
      for (String s : n.uses) {
        if (registry.get(s) == null) {
          throw new ServiceNotFoundException(s, registry.environment(), registry.names());
        }
      }
    }
    if (!anySink) {
      throw new IllegalStateException("The pipeline has no sink: end it with sink(...) or print()");
    }
    List<ServicePlan> services = new ArrayList<>();
    for (String name : registry.names()) {
      ServiceRegistry.Registration reg = registry.get(name);
      if (reg.pipeline()) {
        continue;
      }
      ServiceOptions o = reg.definition().options();
      services.add(new ServicePlan(name, Protocol.serviceAddress(registry.environment(), name), o, o.getInstances()));
    }
    int instances = nodes.stream().mapToInt(LogicalNode::parallelism).sum();
    return new ExecutionGraph(List.copyOf(nodes), services, instances, new JobOptions(options));
  }

  private static void checkAcyclic(List<LogicalNode> nodes) {
    Set<LogicalNode> done = new HashSet<>();
    Set<LogicalNode> visiting = new HashSet<>();
    for (LogicalNode n : nodes) {
      visit(n, done, visiting);
    }
  }

  private static void visit(LogicalNode n, Set<LogicalNode> done, Set<LogicalNode> visiting) {
    if (done.contains(n)) {
      return;
    }
    if (!visiting.add(n)) {
      throw new IllegalStateException("The pipeline has a cycle through " + n.name);
    }
    for (LogicalNode.Input in : n.inputs) {
      visit(in.from(), done, visiting);
    }
    visiting.remove(n);
    done.add(n);
  }
}
