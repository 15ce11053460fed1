package io.sagebus.cluster.impl;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rolling replacement's step rule as a pure function: plain records and counts in, one step out.
 * A roll is simulated by carrying each step out on the counts until the rule says it is over.
 */
class RollingTest {

  private static final String NEW = "com.example.EchoServiceV2";

  /** What a simulated roll did: its steps, and the replicas serving after each. */
  private record Run(List<Rolling.Step> steps, Map<String, Integer> fresh, List<Integer> serving) {
  }

  /** Carries the steps out, as the roller would, until the rule says the roll is over. */
  private static Run roll(TestCluster cluster, String type, int wanted, Map<String, Integer> old) {
    TreeMap<String, Integer> fresh = new TreeMap<>();
    TreeMap<String, Integer> outdated = new TreeMap<>(old);
    List<Rolling.Step> steps = new ArrayList<>();
    List<Integer> serving = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      ClusterState state = cluster.state().with(new PlacementRecord("echo", type, wanted, Map.of()));
      Rolling.Step step = Rolling.next(state, "echo", wanted, fresh, outdated, Set.of());
      if (step == null) {
        return new Run(steps, fresh, serving);
      }
      steps.add(step);
      if (step.problem() != null) {
        return new Run(steps, fresh, serving);
      }
      if (step.add() != null) {
        fresh.merge(step.add(), 1, Integer::sum);
      }
      // The new replica serves before the old one leaves: count what serves between the two.
      serving.add(sum(fresh) + sum(outdated));
      if (step.drain() != null) {
        assertThat(outdated.get(step.drain())).as("an old replica to drain on " + step.drain()).isPositive();
        outdated.merge(step.drain(), -1, Integer::sum);
        outdated.remove(step.drain(), 0);
      }
      serving.add(sum(fresh) + sum(outdated));
    }
    throw new AssertionError("the roll never ended: " + steps);
  }

  private static int sum(Map<String, Integer> counts) {
    return counts.values().stream().mapToInt(Integer::intValue).sum();
  }

  @Test
  void newReplicasTakeTheOldOnesPlacesOneAtATime() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B", "C").registered("echo", "client");

    Run run = roll(cluster, PlacementTest.ECHO, 2, Map.of("A", 1, "B", 1));

    assertThat(run.steps()).containsExactly(new Rolling.Step("A", "A", null), new Rolling.Step("B", "B", null));
    assertThat(run.fresh()).isEqualTo(Map.of("A", 1, "B", 1));
    assertThat(run.serving()).as("2 serve, a third while one is replaced").containsExactly(3, 2, 3, 2);
  }

  @Test
  void aNewClassGoesToTheNodesThatOfferItAndTheOldOnesLeaveTheOthers() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B").node("C", Map.of("echo", NEW))
      .registered("echo", "client");

    Run run = roll(cluster, NEW, 2, Map.of("A", 1, "B", 1));

    assertThat(run.steps()).as("C takes both; the old ones leave B, then A (the greatest id first among equals)")
      .containsExactly(new Rolling.Step("C", "B", null), new Rolling.Step("C", "A", null));
    assertThat(run.fresh()).isEqualTo(Map.of("C", 2));
    assertThat(run.serving()).containsExactly(3, 2, 3, 2);
  }

  @Test
  void noNodeWithTheNewClassDrainsNothingAndSaysWhy() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B").registered("echo", "client");

    Run run = roll(cluster, NEW, 2, Map.of("A", 1, "B", 1));

    assertThat(run.steps()).hasSize(1);
    Rolling.Step step = run.steps().getFirst();
    assertThat(step.add()).isNull();
    assertThat(step.drain()).isNull();
    assertThat(step.problem()).contains("no live node has service 'echo' of class " + NEW);
  }

  @Test
  void fewerReplicasWantedDrainTheRestAfterTheNewOnesServe() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B").registered("echo", "client");

    Run run = roll(cluster, PlacementTest.ECHO, 1, Map.of("A", 2, "B", 1));

    assertThat(run.steps()).containsExactly(new Rolling.Step("A", "A", null), new Rolling.Step(null, "A", null),
      new Rolling.Step(null, "B", null));
    assertThat(run.fresh()).isEqualTo(Map.of("A", 1));
    assertThat(run.serving()).as("never fewer than the one wanted").allSatisfy(n -> assertThat(n).isGreaterThanOrEqualTo(1));
  }

  @Test
  void moreReplicasWantedEndOnceNoOldOneRuns() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B").registered("echo", "client");

    Run run = roll(cluster, PlacementTest.ECHO, 3, Map.of("A", 1));

    // The rest of the wanted count is the deploy's to place once the roll is over.
    assertThat(run.steps()).containsExactly(new Rolling.Step("A", "A", null));
    assertThat(run.fresh()).isEqualTo(Map.of("A", 1));
  }

  @Test
  void aNodeThatFailedToDeployIsPassedOverAndTheNodeWithMostOldOnesIsDrainedFirst() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B", "C").registered("echo", "client");
    ClusterState state = cluster.state().with(new PlacementRecord("echo", PlacementTest.ECHO, 3, Map.of()));

    Rolling.Step step = Rolling.next(state, "echo", 3, Map.of(), Map.of("A", 1, "B", 2), Set.of("A"));
    assertThat(step).as("A failed: B (before C by id) takes it, and one of its old ones leaves")
      .isEqualTo(new Rolling.Step("B", "B", null));

    Rolling.Step drainOnly = Rolling.next(state, "echo", 1, Map.of("C", 1), Map.of("A", 1, "B", 2), Set.of());
    assertThat(drainOnly).as("enough new ones: B, which runs the most old ones, first")
      .isEqualTo(new Rolling.Step(null, "B", null));
  }

  @Test
  void nothingOldRunningEndsTheRoll() {
    TestCluster cluster = new TestCluster().echoNodes("A").registered("echo", "client");
    ClusterState state = cluster.state().with(new PlacementRecord("echo", PlacementTest.ECHO, 1, Map.of()));

    assertThat(Rolling.next(state, "echo", 1, Map.of("A", 1), Map.of("A", 0), Set.of())).isNull();
  }
}
