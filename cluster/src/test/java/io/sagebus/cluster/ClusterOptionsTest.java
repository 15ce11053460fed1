package io.sagebus.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClusterOptionsTest {

  @Test
  void defaultsAreTheDocumentedOnes() {
    ClusterOptions o = new ClusterOptions();
    assertThat(o.getClusterName()).isNull();
    assertThat(o.getHost()).isEqualTo("127.0.0.1");
    assertThat(o.getPort()).isEqualTo(5701);
    assertThat(o.getPortCount()).isEqualTo(20);
    assertThat(o.getMembers()).containsExactly("127.0.0.1");
    assertThat(o.getHeartbeatIntervalSeconds()).isEqualTo(1);
    assertThat(o.getMaxNoHeartbeatSeconds()).isEqualTo(5);
    assertThat(o.getMergeDelaySeconds()).isEqualTo(5);
    assertThat(o.isLiteMember()).isFalse();
    assertThat(new ClusterOptions(new JsonObject())).isEqualTo(o);
    assertThat(o.toJson().containsKey("clusterName")).isFalse();
  }

  @Test
  void roundTripsThroughJsonAndCopy() {
    ClusterOptions o = new ClusterOptions().setClusterName("shop-prod").setHost("10.0.0.7").setPort(6000)
      .setPortCount(4).setMembers(List.of("10.0.0.7", "10.0.0.8:6001")).addMember("node-3.internal")
      .setHeartbeatIntervalSeconds(2).setMaxNoHeartbeatSeconds(15).setMergeDelaySeconds(9).setLiteMember(true);
    ClusterOptions back = new ClusterOptions(o.toJson());
    assertThat(back).isEqualTo(o).hasSameHashCodeAs(o);
    assertThat(back.toJson()).isEqualTo(o.toJson());
    assertThat(new ClusterOptions(new JsonObject(o.toJson().encode()))).isEqualTo(o);
    assertThat(back.getMembers()).containsExactly("10.0.0.7", "10.0.0.8:6001", "node-3.internal");

    ClusterOptions copy = new ClusterOptions(o);
    assertThat(copy).isEqualTo(o);
    o.addMember("10.0.0.9");
    o.getMembers().clear();
    assertThat(copy.getMembers()).hasSize(3);
    assertThat(o.getMembers()).hasSize(4);
  }

  @Test
  void clusterNameIsRequired() {
    assertThatThrownBy(() -> new ClusterOptions().validate())
      .isInstanceOf(IllegalStateException.class).hasMessageContaining("clusterName is required");
    assertThatThrownBy(() -> new ClusterOptions().toHazelcastConfig()).hasMessageContaining("clusterName is required");
    assertThatThrownBy(() -> new ClusterOptions().toVertxOptions()).hasMessageContaining("clusterName is required");
    assertThatThrownBy(() -> new ClusterOptions(new JsonObject().put("host", "127.0.0.1")).validate())
      .hasMessageContaining("clusterName is required");
    assertThatThrownBy(() -> new ClusterOptions().setClusterName(" "))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("clusterName must not be blank");
    assertThatThrownBy(() -> new ClusterOptions().setClusterName(null)).hasMessageContaining("clusterName");
    assertThatThrownBy(() -> new ClusterOptions(new JsonObject().put("clusterName", "")))
      .hasMessageContaining("clusterName must not be blank");
    assertThatThrownBy(() -> new ClusterOptions(new JsonObject().putNull("clusterName")))
      .hasMessageContaining("clusterName must not be blank");
    // No node starts: the factory fails before Hazelcast is touched.
    assertThat(SagebusCluster.vertx(new ClusterOptions()).cause())
      .isInstanceOf(IllegalStateException.class).hasMessageContaining("clusterName is required");
    assertThat(SagebusCluster.vertx(null).cause()).isInstanceOf(NullPointerException.class);
  }

  @Test
  void rejectsBadValues() {
    ClusterOptions o = new ClusterOptions();
    assertThatThrownBy(() -> o.setHost("localhost")).hasMessageContaining("IPv4 address literal");
    assertThatThrownBy(() -> o.setHost("0.0.0.0")).hasMessageContaining("wildcard");
    assertThatThrownBy(() -> o.setHost("127.0.0.256")).hasMessageContaining("host");
    assertThatThrownBy(() -> o.setHost(null)).hasMessageContaining("host");
    assertThatThrownBy(() -> o.setPort(0)).hasMessageContaining("port");
    assertThatThrownBy(() -> o.setPort(65536)).hasMessageContaining("port");
    assertThatThrownBy(() -> o.setPortCount(0)).hasMessageContaining("portCount");
    assertThatThrownBy(() -> o.setMembers(List.of())).hasMessageContaining("at least one");
    assertThatThrownBy(() -> o.setMembers(null)).hasMessageContaining("at least one");
    assertThatThrownBy(() -> o.addMember("127.0.0.1:5701-5710")).hasMessageContaining("port ranges are not accepted");
    assertThatThrownBy(() -> o.addMember("127.0.0.1:http")).hasMessageContaining("malformed port");
    assertThatThrownBy(() -> o.addMember("127.0.0.1:0")).hasMessageContaining("out of range");
    assertThatThrownBy(() -> o.addMember("::1")).hasMessageContaining("IPv6");
    assertThatThrownBy(() -> o.addMember(" ")).hasMessageContaining("blank");
    assertThatThrownBy(() -> o.addMember("two words")).hasMessageContaining("malformed host");
    assertThatThrownBy(() -> o.setHeartbeatIntervalSeconds(0)).hasMessageContaining("heartbeatIntervalSeconds");
    assertThatThrownBy(() -> o.setMaxNoHeartbeatSeconds(1)).hasMessageContaining("maxNoHeartbeatSeconds");
    assertThatThrownBy(() -> o.setMergeDelaySeconds(0)).hasMessageContaining("mergeDelaySeconds");
    assertThatThrownBy(() -> o.setMergeDelaySeconds(3601)).hasMessageContaining("mergeDelaySeconds");
    assertThatThrownBy(() -> new ClusterOptions(new JsonObject().put("members", new JsonArray().add("h:1-2"))))
      .hasMessageContaining("port ranges");
    assertThat(o.getMembers()).containsExactly("127.0.0.1");

    ClusterOptions named = new ClusterOptions().setClusterName("c");
    assertThatThrownBy(() -> new ClusterOptions(named).setHeartbeatIntervalSeconds(5).validate())
      .isInstanceOf(IllegalStateException.class).hasMessageContaining("must be above heartbeatIntervalSeconds");
    assertThatThrownBy(() -> new ClusterOptions(named).setPort(65530).setPortCount(10).validate())
      .hasMessageContaining("runs past 65535");
    assertThat(new ClusterOptions(named).setPort(65526).setPortCount(10).validate()).isNotNull();
  }

  @Test
  void hazelcastConfigJoinsOnlyTheNamedMembersOnLoopback() {
    Config config = new ClusterOptions().setClusterName("shop-test").setPort(16001).setPortCount(5)
      .setMembers(List.of("127.0.0.1", "127.0.0.1:16010")).toHazelcastConfig();
    assertThat(config.getClusterName()).isEqualTo("shop-test");
    assertThat(config.isLiteMember()).isFalse();

    NetworkConfig network = config.getNetworkConfig();
    assertThat(network.getPort()).isEqualTo(16001);
    assertThat(network.getPortCount()).isEqualTo(5);
    assertThat(network.isPortAutoIncrement()).isTrue();
    assertThat(network.getInterfaces().isEnabled()).isTrue();
    assertThat(network.getInterfaces().getInterfaces()).containsExactly("127.0.0.1");

    JoinConfig join = network.getJoin();
    assertThat(join.getTcpIpConfig().isEnabled()).isTrue();
    assertThat(join.getTcpIpConfig().getMembers()).containsExactly("127.0.0.1", "127.0.0.1:16010");
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.getAutoDetectionConfig().isEnabled()).isFalse();
    assertThat(join.getAwsConfig().isEnabled()).isFalse();
    assertThat(join.getKubernetesConfig().isEnabled()).isFalse();
    assertThat(join.getDiscoveryConfig().getDiscoveryStrategyConfigs()).isEmpty();

    assertThat(config.getProperty("hazelcast.socket.bind.any")).isEqualTo("false");
    assertThat(config.getProperty("hazelcast.wait.seconds.before.join")).isEqualTo("0");
    assertThat(config.getProperty("hazelcast.phone.home.enabled")).isEqualTo("false");
    assertThat(config.getProperty("hazelcast.logging.type")).isEqualTo("slf4j");
    assertThat(config.getProperty("hazelcast.heartbeat.interval.seconds")).isEqualTo("1");
    assertThat(config.getProperty("hazelcast.max.no.heartbeat.seconds")).isEqualTo("5");
    assertThat(config.getProperty("hazelcast.tcp.join.port.try.count")).isEqualTo("5");
    // Hazelcast's split-brain merge looks for the other part after 300 s, then every 120 s, by default.
    assertThat(config.getProperty("hazelcast.merge.first.run.delay.seconds")).isEqualTo("5");
    assertThat(config.getProperty("hazelcast.merge.next.run.delay.seconds")).isEqualTo("5");

    // vertx-hazelcast's own map settings survive.
    assertThat(config.getMultiMapConfigs()).containsKey("__vertx.subs");
    assertThat(config.getMapConfigs()).containsKeys("__vertx.haInfo", "__vertx.nodeInfo");

    Config lite = new ClusterOptions().setClusterName("shop-test").setPortCount(1).setLiteMember(true)
      .setHeartbeatIntervalSeconds(2).setMaxNoHeartbeatSeconds(30).toHazelcastConfig();
    assertThat(lite.isLiteMember()).isTrue();
    assertThat(lite.getNetworkConfig().isPortAutoIncrement()).isFalse();
    assertThat(lite.getProperty("hazelcast.heartbeat.interval.seconds")).isEqualTo("2");
    assertThat(lite.getProperty("hazelcast.max.no.heartbeat.seconds")).isEqualTo("30");
    Config slowMerge = new ClusterOptions().setClusterName("shop-test").setMergeDelaySeconds(60).toHazelcastConfig();
    assertThat(slowMerge.getProperty("hazelcast.merge.first.run.delay.seconds")).isEqualTo("60");
    assertThat(slowMerge.getProperty("hazelcast.merge.next.run.delay.seconds")).isEqualTo("60");
  }

  @Test
  void vertxOptionsBindTheEventBusToTheHostOnAFreePort() {
    VertxOptions options = new ClusterOptions().setClusterName("shop-test").setHost("10.1.2.3").toVertxOptions();
    assertThat(options.getEventBusOptions().getHost()).isEqualTo("10.1.2.3");
    assertThat(options.getEventBusOptions().getClusterPublicHost()).isEqualTo("10.1.2.3");
    assertThat(options.getEventBusOptions().getPort()).isZero();
    // Netty's epoll transport is used when the application carries its jar (README "Native transport").
    assertThat(options.getPreferNativeTransport()).isTrue();
  }
}
