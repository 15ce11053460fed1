package io.sagebus.cluster.impl;

import io.sagebus.AutoscalePolicy;
import io.sagebus.cluster.impl.Autoscaler.ScalingDecision;
import io.sagebus.cluster.impl.Autoscaler.ServiceLoad;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The autoscaling rule as a pure function: a policy, a load and the time in, a count out; no Hazelcast.
 */
class AutoscalerTest {

  private static final String ECHO = "com.example.EchoService";

  /** min 1, max 4, 2 calls per replica, 1 s up and 5 s down. */
  private static AutoscalePolicy policy() {
    return AutoscalePolicy.create(1, 4, 2).setUpscaleDelay(Duration.ofSeconds(1)).setDownscaleDelay(Duration.ofSeconds(5));
  }

  /** Feeds the same load at {@code times}, each decision carried to the next; {@return the last decision} */
  private static ScalingDecision run(AutoscalePolicy policy, int replicas, double inFlight, long... times) {
    ScalingDecision d = ScalingDecision.NONE;
    for (long t : times) {
      d = Autoscaler.decide(policy, new ServiceLoad(replicas, inFlight, false), d, t);
    }
    return d;
  }

  @Test
  void theWantIsCallsOverTargetWithinTheBounds() {
    AutoscalePolicy p = policy();
    assertThat(Autoscaler.wanted(p, 0)).isEqualTo(1); // never below min
    assertThat(Autoscaler.wanted(p, 2)).isEqualTo(1);
    assertThat(Autoscaler.wanted(p, 2.5)).isEqualTo(2);
    assertThat(Autoscaler.wanted(p, 6)).isEqualTo(3);
    assertThat(Autoscaler.wanted(p, 8)).isEqualTo(4);
    assertThat(Autoscaler.wanted(p, 1000)).isEqualTo(4); // never above max
    assertThat(Autoscaler.wanted(p, Double.MAX_VALUE)).isEqualTo(4);
    assertThat(Autoscaler.wanted(AutoscalePolicy.create(0, 3, 1), 0)).isZero();
  }

  @Test
  void moreReplicasOnlyOnceTheWantHasLastedTheUpscaleDelay() {
    AutoscalePolicy p = policy();
    ScalingDecision first = run(p, 1, 8, 10_000);
    assertThat(first.replicas()).isEqualTo(1);
    assertThat(first.wanted()).isEqualTo(4);
    assertThat(first.upSince()).isEqualTo(10_000);
    assertThat(first.why()).isNull();
    assertThat(run(p, 1, 8, 10_000, 10_500, 10_999).replicas()).isEqualTo(1);
    ScalingDecision grown = run(p, 1, 8, 10_000, 10_500, 11_000);
    assertThat(grown.replicas()).isEqualTo(4);
    assertThat(grown.upSince()).isEqualTo(-1);
    assertThat(grown.why()).contains("8.0 calls in flight on 1 replica(s)").contains("at least 4 wanted for 1000 ms");
  }

  @Test
  void theCountMovesToTheWantThatHeldThroughTheWholeDelay() {
    AutoscalePolicy p = policy();
    // Growing: 6, then a spike asking for 4, then 5 calls: 3 held all along (the lowest want seen).
    ScalingDecision d = Autoscaler.decide(p, new ServiceLoad(1, 6, false), ScalingDecision.NONE, 0);
    d = Autoscaler.decide(p, new ServiceLoad(1, 8, false), d, 500);
    assertThat(d.wanted()).isEqualTo(3);
    assertThat(Autoscaler.decide(p, new ServiceLoad(1, 5, false), d, 1000).replicas()).isEqualTo(3);
    // Shrinking: wants of 1, 3, 1 while waiting: 3 held all along (the highest want seen).
    d = Autoscaler.decide(p, new ServiceLoad(4, 0, false), ScalingDecision.NONE, 0);
    d = Autoscaler.decide(p, new ServiceLoad(4, 5, false), d, 2000);
    assertThat(d.wanted()).isEqualTo(3);
    assertThat(Autoscaler.decide(p, new ServiceLoad(4, 0, false), d, 5000).replicas()).isEqualTo(3);
  }

  @Test
  void aSampleAtTheCountStartsTheDelayAgain() {
    AutoscalePolicy p = policy();
    ScalingDecision d = Autoscaler.decide(p, new ServiceLoad(1, 8, false), ScalingDecision.NONE, 0);
    d = Autoscaler.decide(p, new ServiceLoad(1, 1, false), d, 900); // the load dipped: the want is met
    assertThat(d.upSince()).isEqualTo(-1);
    d = Autoscaler.decide(p, new ServiceLoad(1, 8, false), d, 1000);
    assertThat(d.replicas()).isEqualTo(1);
    d = Autoscaler.decide(p, new ServiceLoad(1, 8, false), d, 1999);
    assertThat(d.replicas()).as("1 s after the want came back, not after it first came").isEqualTo(1);
    assertThat(Autoscaler.decide(p, new ServiceLoad(1, 8, false), d, 2000).replicas()).isEqualTo(4);
  }

  @Test
  void fewerReplicasOnlyOnceTheLoadHasStayedLowForTheDownscaleDelayAndNeverBelowMin() {
    AutoscalePolicy p = policy();
    assertThat(run(p, 4, 0, 0, 1000, 4999).replicas()).isEqualTo(4);
    ScalingDecision shrunk = run(p, 4, 0, 0, 1000, 5000);
    assertThat(shrunk.replicas()).isEqualTo(1);
    assertThat(run(p, 4, 3, 0, 5000).replicas()).as("3 calls ask for 2").isEqualTo(2);
    // A want for more in between resets the wait for fewer.
    ScalingDecision d = Autoscaler.decide(p, new ServiceLoad(4, 0, false), ScalingDecision.NONE, 0);
    d = Autoscaler.decide(p, new ServiceLoad(4, 8, false), d, 3000);
    assertThat(d.downSince()).isEqualTo(-1);
    d = Autoscaler.decide(p, new ServiceLoad(4, 0, false), d, 4000);
    assertThat(Autoscaler.decide(p, new ServiceLoad(4, 0, false), d, 8999).replicas()).isEqualTo(4);
  }

  @Test
  void aCountOutsideTheBoundsIsBroughtInsideAtOnce() {
    AutoscalePolicy p = policy();
    assertThat(run(p, 9, 100, 0).replicas()).isEqualTo(4);
    assertThat(run(p, 0, 0, 0).replicas()).isEqualTo(1);
    assertThat(run(p, 0, 0, 0).why()).contains("outside [1, 4]");
  }

  @Test
  void fromZeroACallOrALoadStartsAReplicaWithoutDelayAndNoLoadKeepsNone() {
    AutoscalePolicy p = AutoscalePolicy.create(0, 3, 1).setUpscaleDelay(Duration.ofSeconds(60))
      .setDownscaleDelay(Duration.ofSeconds(2));
    assertThat(Autoscaler.decide(p, new ServiceLoad(0, 0, false), ScalingDecision.NONE, 0).replicas()).isZero();
    ScalingDecision asked = Autoscaler.decide(p, new ServiceLoad(0, 0, true), ScalingDecision.NONE, 0);
    assertThat(asked.replicas()).isEqualTo(1);
    assertThat(asked.why()).isEqualTo("a call found no replica");
    assertThat(Autoscaler.decide(p, new ServiceLoad(0, 2.5, false), ScalingDecision.NONE, 0).replicas()).isEqualTo(3);
    // With one replica, a demand flag left over changes nothing: back to none after the downscale delay.
    ScalingDecision d = Autoscaler.decide(p, new ServiceLoad(1, 0, true), ScalingDecision.NONE, 0);
    assertThat(d.replicas()).isEqualTo(1);
    assertThat(Autoscaler.decide(p, new ServiceLoad(1, 0, false), d, 2000).replicas()).isZero();
  }

  @Test
  void theLoadIsSummedOverLiveMembersOnly() {
    List<JsonObject> loads = List.of(
      load("m-a", "echo", 2, 3), load("m-b", "echo", 1, 0), load("m-dead", "echo", 50, 50),
      load("m-a", "other", 7, 7),
      new JsonObject().put("member", "m-c").put("services", "not an object"),
      new JsonObject().put("member", "m-c").put("services", new JsonObject().put("echo",
        new JsonObject().put("inFlight", "x").put("queued", -4))));
    assertThat(Autoscaler.inFlight("echo", loads, Set.of("m-a", "m-b", "m-c"))).isEqualTo(6.0);
    assertThat(Autoscaler.inFlight("nothing", loads, Set.of("m-a"))).isZero();
  }

  private static JsonObject load(String member, String service, int inFlight, int queued) {
    return new JsonObject().put("node", member.substring(2)).put("member", member).put("services",
      new JsonObject().put(service, new JsonObject().put("replicas", 1).put("inFlight", inFlight).put("queued", queued)));
  }

  @Test
  void replicasLeaveTheNodesWithTheMostFirstAndDeadNodesWithoutADrain() {
    Map<String, NodeRecord> nodes = Map.of(
      "a", new NodeRecord("a", "m-a", "h", Map.of("echo", ECHO), 1, 1, "25", 2),
      "b", new NodeRecord("b", "m-b", "h", Map.of("echo", ECHO), 1, 1, "25", 2),
      "c", new NodeRecord("c", "m-c", "h", Map.of("echo", ECHO), 1, 1, "25", 2),
      "dead", new NodeRecord("dead", "m-dead", "h", Map.of("echo", ECHO), 1, 1, "25", 2));
    Map<String, PlacementRecord> placements = Map.of(
      "echo", new PlacementRecord("echo", ECHO, 7, Map.of("a", 3, "b", 2, "c", 1, "dead", 1)),
      "other", new PlacementRecord("other", ECHO, 2, Map.of("b", 2)));
    ClusterState state = new ClusterState(Map.of(), nodes, Set.of("m-a", "m-b", "m-c"), placements);

    Autoscaler.Shrink one = Autoscaler.shrink(state, "echo", 5);
    assertThat(one.drain()).isEqualTo(Map.of("a", 1));
    assertThat(one.after()).isEqualTo(new PlacementRecord("echo", ECHO, 5, Map.of("a", 2, "b", 2, "c", 1)));

    // a and b tie at 2 after the first: b runs more replicas in all (another service), so it goes first.
    Autoscaler.Shrink two = Autoscaler.shrink(state, "echo", 4);
    assertThat(two.drain()).isEqualTo(Map.of("a", 1, "b", 1));
    assertThat(two.after().nodes()).isEqualTo(Map.of("a", 2, "b", 1, "c", 1));

    Autoscaler.Shrink none = Autoscaler.shrink(state, "echo", 0);
    assertThat(none.drain()).isEqualTo(Map.of("a", 3, "b", 2, "c", 1));
    assertThat(none.after()).isEqualTo(PlacementRecord.empty("echo", ECHO, 0));
  }
}
