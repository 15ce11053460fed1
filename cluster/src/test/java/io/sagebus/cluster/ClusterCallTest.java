package io.sagebus.cluster;

import com.hazelcast.cluster.Address;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.spi.properties.ClusterProperty;
import com.hazelcast.spi.properties.HazelcastProperties;
import io.sagebus.CallOptions;
import io.sagebus.ServiceClient;
import io.sagebus.ServiceNotFoundException;
import io.sagebus.ServiceTaskVerticle;
import io.sagebus.testing.EchoService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;

import static io.sagebus.cluster.ClusterTesting.ENV;
import static io.sagebus.cluster.ClusterTesting.awaitVisible;
import static io.sagebus.cluster.ClusterTesting.deploy;
import static io.sagebus.cluster.ClusterTesting.members;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Three clustered Vertx instances in this JVM, one cluster for the whole class: calls cross nodes,
 * spread over replicas, stay inside their cluster name, and everything binds to loopback.
 */
@ExtendWith(VertxExtension.class)
class ClusterCallTest {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterCallTest.class);
  /** This class's own port range: 15701 to 15720. */
  private static final int FIRST_PORT = 15701;

  private static ClusterOptions options;
  private static Vertx a;
  private static Vertx b;
  private static Vertx c;

  @BeforeAll
  static void startCluster() {
    options = ClusterTesting.options(ClusterCallTest.class, FIRST_PORT);
    a = ClusterTesting.start("A", options);
    b = ClusterTesting.start("B", options);
    c = ClusterTesting.start("C", options);
    assertThat(members(a)).isEqualTo(3);
  }

  @AfterAll
  static void closeCluster() {
    ClusterTesting.close(a, b, c);
  }

  @Test
  void aCallFromOneNodeReachesTheOnlyReplicaOnAnother() {
    ServiceClient client = ServiceClient.create(a, ENV);
    String address = "sagebus." + ENV + ".service.echo";
    // Nothing consumes the address anywhere yet; A has no registry of its own for the environment.
    assertThatThrownBy(() -> a.eventBus().request(address, "ping").await())
      .isInstanceOfSatisfying(ReplyException.class, e -> assertThat(e.failureType()).isEqualTo(ReplyFailure.NO_HANDLERS));
    assertThatThrownBy(() -> client.callAsync("echo", "hello").await()).isInstanceOf(ServiceNotFoundException.class);

    ServiceTaskVerticle task = deploy(b, "echo", EchoService::new);
    assertThat(task.address()).isEqualTo(address);
    awaitVisible(a, address);

    long start = System.nanoTime();
    assertThat(client.<String>callAsync("echo", "hello").await()).isEqualTo("hello");
    LOG.info("call A -> B (connection already open) took {} ms", ClusterTesting.millisSince(start));
    assertThat(client.<Integer>callAsync("echo", CallOptions.method("add"), 2, 3).await()).isEqualTo(5);
    assertThat(client.<EchoService.Point>callAsync("echo", CallOptions.method("move").resultType(EchoService.Point.class),
      new EchoService.Point(1, 2)).await()).isEqualTo(new EchoService.Point(2, 3));
    String sync = client.call("echo", "from a plain thread");
    assertThat(sync).isEqualTo("from a plain thread");
  }

  @Test
  void replicasOnTwoNodesShareTheCallsOfAThird() {
    AtomicInteger onA = new AtomicInteger();
    AtomicInteger onB = new AtomicInteger();
    ServiceClient client = ServiceClient.create(c, ENV);
    deploy(a, "who", () -> new NodeNameService("A", onA));
    awaitVisible(c, "sagebus." + ENV + ".service.who");
    assertThat(client.<String>callAsync("who").await()).isEqualTo("A");
    // A second replica, added while C already routes the address: C picks it up asynchronously.
    deploy(b, "who", () -> new NodeNameService("B", onB));
    long start = System.nanoTime();
    AtomicInteger probes = new AtomicInteger();
    await().atMost(Duration.ofSeconds(10)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10))
      .until(() -> {
        probes.incrementAndGet();
        return client.<String>callAsync("who").await().equals("B");
      });
    LOG.info("the replica added on B reached from C after {} ms ({} calls)", ClusterTesting.millisSince(start), probes);

    int beforeA = onA.get();
    int beforeB = onB.get();
    int calls = 200;
    List<Future<String>> answers = new ArrayList<>(calls);
    for (int i = 0; i < calls; i++) {
      answers.add(client.callAsync("who"));
    }
    Future.all(answers).await();
    Map<String, Long> perNode = answers.stream().map(Future::result)
      .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    LOG.info("{} calls from C: {}", calls, perNode);
    assertThat(perNode.keySet()).containsExactlyInAnyOrder("A", "B");
    assertThat(perNode.get("A")).isEqualTo(onA.get() - beforeA).isGreaterThanOrEqualTo(calls / 4);
    assertThat(perNode.get("B")).isEqualTo(onB.get() - beforeB).isGreaterThanOrEqualTo(calls / 4);
  }

  @Test
  void aNodeWithAnotherClusterNameIsKeptOut() {
    AtomicInteger onB = new AtomicInteger();
    deploy(b, "guarded", () -> new NodeNameService("B", onB));
    String address = "sagebus." + ENV + ".service.guarded";
    // Same ports, same members, another name.
    ClusterOptions otherName = new ClusterOptions(options).setClusterName(options.getClusterName() + "-other");
    Vertx x = ClusterTesting.start("X", otherName);
    try {
      AtomicInteger onX = new AtomicInteger();
      x.eventBus().<String>consumer(address, m -> {
        onX.incrementAndGet();
        m.reply("X");
      }).completion().await();
      // X's consumer works inside its own cluster ...
      assertThat(x.eventBus().<String>request(address, "ping").await().body()).isEqualTo("X");
      assertThat(onX.get()).isEqualTo(1);

      // ... and gets none of the first cluster's calls.
      awaitVisible(a, address);
      ServiceClient client = ServiceClient.create(a, ENV);
      List<Future<String>> answers = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        answers.add(client.callAsync("guarded"));
      }
      Future.all(answers).await();
      assertThat(answers).allSatisfy(f -> assertThat(f.result()).isEqualTo("B"));
      assertThat(onX.get()).isEqualTo(1);

      Address xAddress = SagebusCluster.hazelcast(x).getCluster().getLocalMember().getAddress();
      assertThat(xAddress.getPort()).isBetween(FIRST_PORT, FIRST_PORT + options.getPortCount() - 1);
      assertThat(members(x)).isEqualTo(1);
      for (Vertx node : List.of(a, b, c)) {
        assertThat(members(node)).isEqualTo(3);
        assertThat(SagebusCluster.hazelcast(node).getCluster().getMembers())
          .noneMatch(m -> m.getAddress().equals(xAddress));
      }
    } finally {
      ClusterTesting.close(x);
    }
  }

  @Test
  void hazelcastAndTheEventBusListenOnLoopbackOnly() throws IOException {
    List<InetAddress> otherAddresses = nonLoopbackAddresses();
    LOG.info("non-loopback addresses of this machine: {}", otherAddresses);
    for (Vertx node : List.of(a, b, c)) {
      HazelcastInstance hz = SagebusCluster.hazelcast(node);
      Address member = hz.getCluster().getLocalMember().getAddress();
      assertThat(member.getHost()).isEqualTo("127.0.0.1");
      assertThat(member.getInetAddress().isLoopbackAddress()).isTrue();
      NodeInfo bus = ((VertxInternal) node).clusterManager().getNodeInfo();
      assertThat(bus.host()).isEqualTo("127.0.0.1");
      // What Hazelcast's phone-home check reads: the configuration wins over system properties.
      assertThat(new HazelcastProperties(hz.getConfig()).getBoolean(ClusterProperty.PHONE_HOME_ENABLED)).isFalse();

      for (int port : new int[]{member.getPort(), bus.port()}) {
        assertThat(connects(InetAddress.getLoopbackAddress(), port)).as("127.0.0.1:" + port).isTrue();
        for (InetAddress other : otherAddresses) {
          assertThat(connects(other, port)).as(other.getHostAddress() + ":" + port).isFalse();
        }
      }
    }
  }

  private static boolean connects(InetAddress host, int port) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), 1000);
      return true;
    } catch (ConnectException e) {
      return false;
    }
  }

  private static List<InetAddress> nonLoopbackAddresses() throws SocketException {
    return NetworkInterface.networkInterfaces()
      .filter(ClusterCallTest::isUp)
      .flatMap(NetworkInterface::inetAddresses)
      .filter(ip -> ip instanceof Inet4Address && !ip.isLoopbackAddress() && !ip.isLinkLocalAddress())
      .toList();
  }

  private static boolean isUp(NetworkInterface nic) {
    try {
      return nic.isUp();
    } catch (SocketException e) {
      throw new IllegalStateException("Cannot read the state of " + nic.getName(), e);
    }
  }
}
