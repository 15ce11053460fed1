package io.sagebus.cluster.impl;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reconciliation as a pure function: the records and what the agents say they run in, the drains and the corrected
 * record out.
 */
class ReconciliationTest {

  private static final Set<String> ALL = Set.of("A", "B", "C");

  @Test
  void recordsThatAgreeWithWhatRunsAreLeftAlone() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B", "C").registered("echo", "client")
      .placed("echo", 2, Map.of("A", 1, "B", 1));
    Reconciliation r = Reconciliation.of(cluster.state(), "echo", Map.of("A", 1, "B", 1), ALL);
    assertThat(r.agrees()).isTrue();
    assertThat(r.drain()).isEmpty();
    assertThat(r.dead()).isFalse();
  }

  @Test
  void aNodeBackFromAPartitionRunsAReplicaTheRecordsGaveAwayAndThatOneIsDrained() {
    // n1 was dropped, its replica re-placed on C; after the merge n1 (A) still runs its own: three for two wanted.
    TestCluster cluster = new TestCluster().echoNodes("A", "B", "C").registered("echo", "client")
      .placed("echo", 2, Map.of("B", 1, "C", 1));
    Reconciliation r = Reconciliation.of(cluster.state(), "echo", Map.of("A", 1, "B", 1, "C", 1), ALL);
    assertThat(r.agrees()).isFalse();
    assertThat(r.drain()).isEqualTo(Map.of("A", 1));
    assertThat(r.corrected().nodes()).isEqualTo(Map.of("B", 1, "C", 1));

    // The same when the node back from the partition has the largest id (the tie-break among equals would pick it
    // anyway in the case above) or the smallest.
    TestCluster other = new TestCluster().echoNodes("A", "B", "C").registered("echo", "client")
      .placed("echo", 2, Map.of("A", 1, "B", 1));
    assertThat(Reconciliation.of(other.state(), "echo", Map.of("A", 1, "B", 1, "C", 1), ALL).drain())
      .isEqualTo(Map.of("C", 1));
    TestCluster third = new TestCluster().echoNodes("A", "B", "C").registered("echo", "client")
      .placed("echo", 2, Map.of("A", 1, "C", 1));
    assertThat(Reconciliation.of(third.state(), "echo", Map.of("A", 1, "B", 1, "C", 1), ALL).drain())
      .isEqualTo(Map.of("B", 1));

    // A node runs one the record counts and one it does not: the one it does not count goes, from that node.
    assertThat(Reconciliation.of(other.state(), "echo", Map.of("A", 2, "B", 1), ALL).drain())
      .isEqualTo(Map.of("A", 1));

    // Where one node runs two of the surplus, it is drained there first.
    Reconciliation two = Reconciliation.of(cluster.state(), "echo", Map.of("A", 2, "B", 1, "C", 1), ALL);
    assertThat(two.drain()).isEqualTo(Map.of("A", 2));
    assertThat(two.corrected().nodes()).isEqualTo(Map.of("B", 1, "C", 1));
  }

  @Test
  void aSurplusTheRecordItselfCountsIsDrainedWhereMostRun() {
    // The record counts three for two wanted (a drain that failed half-way): the node with two gives one up.
    TestCluster cluster = new TestCluster().echoNodes("A", "B", "C").registered("echo", "client")
      .placed("echo", 2, Map.of("A", 1, "B", 2));
    Reconciliation r = Reconciliation.of(cluster.state(), "echo", Map.of("A", 1, "B", 2), ALL);
    assertThat(r.drain()).isEqualTo(Map.of("B", 1));
    assertThat(r.corrected().nodes()).isEqualTo(Map.of("A", 1, "B", 1));
  }

  @Test
  void aRecordThatCountsAReplicaNoLongerRunningIsCorrectedSoThatPlacementFillsTheGap() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B", "C").registered("echo", "client")
      .placed("echo", 2, Map.of("A", 1, "B", 1));
    Reconciliation r = Reconciliation.of(cluster.state(), "echo", Map.of("A", 1), ALL);
    assertThat(r.drain()).isEmpty();
    assertThat(r.corrected().nodes()).isEqualTo(Map.of("A", 1));
    PlacementPlan fill = Placement.plan(cluster.state().with(r.corrected()), "echo", Set.of(), Set.of());
    assertThat(fill.added()).isEqualTo(1);
    assertThat(fill.add()).doesNotContainKey("A");
  }

  @Test
  void aNodeThatDidNotAnswerKeepsWhatItsRecordSaysAndIsNeverDrained() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B", "C").registered("echo", "client")
      .placed("echo", 1, Map.of("A", 1));
    Reconciliation r = Reconciliation.of(cluster.state(), "echo", Map.of("B", 1), Set.of("B", "C"));
    assertThat(r.corrected().nodes()).isEqualTo(Map.of("A", 1));
    assertThat(r.drain()).isEqualTo(Map.of("B", 1));
  }

  @Test
  void nothingRunsForARegistrationThatIsGoneOrWhoseMemberIsGone() {
    TestCluster gone = new TestCluster().echoNodes("A", "B").placed("echo", 2, Map.of("A", 1));
    Reconciliation r = Reconciliation.of(gone.state(), "echo", Map.of("A", 1, "B", 1), Set.of("A", "B"));
    assertThat(r.dead()).isTrue();
    assertThat(r.corrected()).isNull();
    assertThat(r.drain()).isEqualTo(Map.of("A", 1, "B", 1));

    TestCluster orphan = new TestCluster().echoNodes("A", "B").registered("echo", "client-that-left")
      .placed("echo", 1, Map.of("A", 1));
    Reconciliation o = Reconciliation.of(orphan.state(), "echo", Map.of("A", 1), Set.of("A", "B"));
    assertThat(o.dead()).isTrue();
    assertThat(o.drain()).isEqualTo(Map.of("A", 1));

    // Registered, but its placement was removed (an undeploy that missed a replica): drained too.
    TestCluster unplaced = new TestCluster().echoNodes("A").registered("echo", "client");
    Reconciliation u = Reconciliation.of(unplaced.state(), "echo", Map.of("A", 1), Set.of("A"));
    assertThat(u.dead()).isFalse();
    assertThat(u.drain()).isEqualTo(Map.of("A", 1));
    assertThat(u.agrees()).isFalse();
  }

  @Test
  void nodesThatAreNotLiveAreLeftOutOfTheCorrectedRecord() {
    TestCluster cluster = new TestCluster().echoNodes("A", "B", "C").dies("C").registered("echo", "client")
      .placed("echo", 2, Map.of("A", 1, "C", 1));
    Reconciliation r = Reconciliation.of(cluster.state(), "echo", Map.of("A", 1), Set.of("A", "B"));
    assertThat(r.corrected().nodes()).isEqualTo(Map.of("A", 1));
    assertThat(r.drain()).isEmpty();
  }
}
