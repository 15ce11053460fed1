package io.sagebus.cluster.impl;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The placement rule as a pure function: plain records in, a plan out, no Hazelcast.
 */
class PlacementTest {

  static final String ECHO = "com.example.EchoService";
  private static final String OTHER = "com.example.OtherService";

  private static PlacementPlan plan(TestCluster cluster, String service) {
    return Placement.plan(cluster.state(), service, Set.of(), Set.of());
  }

  @Test
  void replicasSpreadOverTheNodesOneEach() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B", "C").registered("echo", "client").placed("echo", 2, Map.of());

    PlacementPlan plan = plan(cluster, "echo");

    assertThat(plan.add()).isEqualTo(Map.of("A", 1, "B", 1));
    assertThat(plan.target().nodes()).isEqualTo(Map.of("A", 1, "B", 1));
    assertThat(plan.problem()).isNull();
  }

  @Test
  void moreReplicasThanNodesSpreadEvenly() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B").registered("echo", "client").placed("echo", 5, Map.of());

    assertThat(plan(cluster, "echo").add()).isEqualTo(Map.of("A", 3, "B", 2));
  }

  @Test
  void fewestReplicasOfTheServiceComeBeforeFewestInAll() {
    // A runs 4 replicas of another service but none of echo; B runs one echo and nothing else.
    TestCluster cluster = new TestCluster().echoNodes("A", "B").registered("echo", "client").registered("other", "client")
      .placed("other", 4, Map.of("A", 4)).placed("echo", 2, Map.of("B", 1));

    assertThat(plan(cluster, "echo").add()).isEqualTo(Map.of("A", 1));
  }

  @Test
  void aTieGoesToTheNodeWithFewestReplicasInAllThenToTheSmallestId() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B", "C").registered("echo", "client")
      .registered("other", "client").placed("other", 1, Map.of("A", 1)).placed("echo", 2, Map.of());

    assertThat(plan(cluster, "echo").add()).as("A is busier: B, then C by id").isEqualTo(Map.of("B", 1, "C", 1));
  }

  @Test
  void aNodeWithoutTheServiceOrWithAnotherClassIsNeverChosen() {
    TestCluster cluster = new TestCluster()
      .node("A", Map.of("echo", OTHER))
      .node("B", Map.of("profile", ECHO))
      .node("C", Map.of("echo", ECHO))
      .registered("echo", "client").placed("echo", 3, Map.of());

    PlacementPlan plan = plan(cluster, "echo");

    assertThat(plan.add()).isEqualTo(Map.of("C", 3));
  }

  @Test
  void noNodeWithTheClassIsAProblemNamingTheLiveNodesAndTheOtherClass() {
    TestCluster cluster = new TestCluster().node("A", Map.of("echo", OTHER)).node("B", Map.of())
      .registered("echo", "client").placed("echo", 1, Map.of());

    PlacementPlan plan = plan(cluster, "echo");

    assertThat(plan.add()).isEmpty();
    assertThat(plan.problem()).contains("no live node has service 'echo' of class " + ECHO)
      .contains("live nodes: [A, B]").contains("with another class: [A (" + OTHER + ")]");
  }

  @Test
  void aSatisfiedPlacementGivesAnEmptyPlan() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B").registered("echo", "client")
      .placed("echo", 2, Map.of("A", 1, "B", 1));

    PlacementPlan plan = plan(cluster, "echo");

    assertThat(plan.isEmpty()).isTrue();
    assertThat(plan.target()).isEqualTo(cluster.placements.get("echo"));
  }

  @Test
  void neverMoreThanWanted() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B", "C").registered("echo", "client")
      .placed("echo", 2, Map.of("A", 2, "B", 1));
    assertThat(plan(cluster, "echo").isEmpty()).as("a surplus adds nothing").isTrue();

    cluster.placed("echo", 7, Map.of("A", 2, "B", 1));
    PlacementPlan plan = plan(cluster, "echo");
    assertThat(plan.added()).isEqualTo(4);
    assertThat(plan.target().running()).isEqualTo(7);
    assertThat(plan.target().nodes()).isEqualTo(Map.of("A", 3, "B", 2, "C", 2));

    // Carried out, the plan leaves nothing to do: placing twice never doubles a replica.
    assertThat(Placement.plan(cluster.state().with(plan.target()), "echo", Set.of(), Set.of()).isEmpty()).isTrue();
  }

  @Test
  void theReplicasOfADeadNodeArePlacedAgainOnLiveOnes() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B", "C").registered("echo", "client")
      .placed("echo", 2, Map.of("A", 1, "B", 1)).dies("A");

    assertThat(Placement.deadNodes(cluster.state())).containsExactly("A");
    PlacementPlan plan = plan(cluster, "echo");

    assertThat(plan.kept().nodes()).isEqualTo(Map.of("B", 1));
    assertThat(plan.add()).isEqualTo(Map.of("C", 1));
    assertThat(plan.drain()).as("nobody is left on A to undeploy").isEmpty();
  }

  @Test
  void aLeavingNodeIsForgottenAndTakesNoReplica() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B").registered("echo", "client")
      .placed("echo", 2, Map.of("A", 1, "B", 1));

    PlacementPlan plan = Placement.plan(cluster.state(), "echo", Set.of("A"), Set.of("A"));

    assertThat(plan.add()).isEqualTo(Map.of("B", 1));
    assertThat(plan.target().nodes()).isEqualTo(Map.of("B", 2));
  }

  @Test
  void aNodeThatRestartedUnderItsIdIsForgottenButMayTakeReplicasAgain() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B").registered("echo", "client")
      .placed("echo", 2, Map.of("A", 1, "B", 1));

    PlacementPlan plan = Placement.plan(cluster.state(), "echo", Set.of("A"), Set.of());

    assertThat(plan.add()).isEqualTo(Map.of("A", 1));
  }

  @Test
  void aNodeThatFailedIsExcludedAndTheNextOneTakesItsShare() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B", "C").registered("echo", "client").placed("echo", 2, Map.of());

    assertThat(Placement.plan(cluster.state(), "echo", Set.of(), Set.of("A")).add()).isEqualTo(Map.of("B", 1, "C", 1));
    PlacementPlan none = Placement.plan(cluster.state(), "echo", Set.of(), Set.of("A", "B", "C"));
    assertThat(none.add()).isEmpty();
    assertThat(none.problem()).contains("every live node that could run service 'echo' is excluded: [A, B, C]");
  }

  @Test
  void theServicesOfADeadRegisteringJvmAreDrainedFromTheLiveNodesAndRemoved() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B", "C").registered("echo", "m-gone").registered("other", "client")
      .placed("echo", 3, Map.of("A", 1, "B", 1, "C", 1)).placed("other", 1, Map.of("A", 1)).dies("C");

    assertThat(Placement.orphanedServices(cluster.state())).containsExactly("echo");
    PlacementPlan plan = plan(cluster, "echo");

    assertThat(plan.remove()).isTrue();
    assertThat(plan.drain()).containsExactly("A", "B");
    assertThat(plan.add()).isEmpty();
    assertThat(plan.target()).isNull();
    assertThat(plan(cluster, "other").isEmpty()).as("a service of a live member stays").isTrue();
  }

  @Test
  void oneLiveMemberRegistersAServiceName() {
    TestCluster cluster = new TestCluster().echoNodes("A").registered("echo", "m-A");

    assertThat(Placement.otherOwner(cluster.state(), "echo", "client")).map(ServiceRecord::member).hasValue("m-A");
    assertThat(Placement.otherOwner(cluster.state(), "echo", "m-A")).as("its own registration").isEmpty();
    assertThat(Placement.otherOwner(cluster.state(), "unknown", "client")).isEmpty();
    cluster.dies("A");
    assertThat(Placement.otherOwner(cluster.state(), "echo", "client")).as("a registration left by a dead member")
      .isEmpty();
  }

  @Test
  void wantingMoreKeepsTheRunningReplicas() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B").registered("echo", "client").placed("echo", 1, Map.of("A", 1));

    ClusterState wanted = Placement.want(cluster.state(), "echo", ECHO, 3);
    PlacementPlan plan = Placement.plan(wanted, "echo", Set.of(), Set.of());

    assertThat(plan.add()).isEqualTo(Map.of("A", 1, "B", 1));
    assertThat(Placement.want(new TestCluster().state(), "new", ECHO, 2).placements().get("new"))
      .isEqualTo(PlacementRecord.empty("new", ECHO, 2));
  }

  @Test
  void aServiceWithoutPlacementHasNothingToDo() {
    TestCluster cluster = new TestCluster().echoNodes("A").registered("echo", "client");

    assertThat(plan(cluster, "echo").isEmpty()).isTrue();
    assertThat(Placement.undeploy(cluster.state(), "echo").drain()).isEmpty();
  }

  @Test
  void undeployDrainsEveryLiveNodeOfThePlacement() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B", "C").registered("echo", "client")
      .placed("echo", 3, Map.of("A", 2, "C", 1)).dies("C");

    PlacementPlan plan = Placement.undeploy(cluster.state(), "echo");

    assertThat(plan.drain()).isEqualTo(List.of("A"));
    assertThat(plan.remove()).isTrue();
  }
}
