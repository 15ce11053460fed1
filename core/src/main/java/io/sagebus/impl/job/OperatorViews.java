package io.sagebus.impl.job;

import io.sagebus.OperatorStats;
import io.sagebus.impl.pipeline.LogicalNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a job's progress shows of one operator: its counters, its place in the graph (kind and
 * inputs, as indexes into the job's operators) and the fill of its instances' input queues.
 */
final class OperatorViews {

  private OperatorViews() {
  }

  /**
   * {@return the operator's stats}
   *
   * @param nodes     the job's operators, in pipeline order
   * @param node      the operator
   * @param stats     its counters
   * @param instances its instances, or {@code null}
   * @param queues    whether to read its queues (not once the job has ended)
   */
  static OperatorStats stats(List<LogicalNode> nodes, LogicalNode node, NodeStats stats,
                             OperatorTask[] instances, boolean queues) {
    List<Integer> inputs = new ArrayList<>(node.inputs().size());
    List<Integer> sideInputs = new ArrayList<>(0);
    for (LogicalNode.Input in : node.inputs()) {
      int from = nodes.indexOf(in.from());
      if (from >= 0) {
        (in.failures() ? sideInputs : inputs).add(from);
      }
    }
    long queued = 0;
    long capacity = 0;
    if (instances != null) {
      for (OperatorTask t : instances) {
        capacity += t.queueCapacity();
        if (queues) {
          queued += t.queued();
        }
      }
    }
    String kind = node.kind().name().toLowerCase(Locale.ROOT);
    kind = switch (node.kind()) {
      case FLAT_MAP -> "flatMap";
      case MAP_ASYNC -> "mapAsync";
      case CO_MAP -> "coMap";
      default -> kind;
    };
    return new OperatorStats(node.name(), node.parallelism(), stats.in(), stats.out(), stats.errors(), kind,
      inputs, sideInputs, queued, capacity);
  }
}
