package io.sagebus.cluster;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What a node says about its {@code -conf} before it starts anything. */
class NodeConfigTest {

  @TempDir
  Path dir;

  @Test
  void readsAFileAndInlineJson() throws Exception {
    Path file = dir.resolve("node.json");
    Files.writeString(file, "{\"cluster\": {\"clusterName\": \"c1\"}, \"nodeId\": \"n1\"}");
    assertThat(NodeConfig.read(file.toString()).getString("nodeId")).isEqualTo("n1");
    assertThat(NodeConfig.read(" {\"cluster\": {\"clusterName\": \"c1\"}}").getJsonObject("cluster"))
      .isEqualTo(new JsonObject().put("clusterName", "c1"));
  }

  @Test
  void noConfSaysHowToGiveOne() {
    assertThatThrownBy(() -> NodeConfig.read(null)).isInstanceOf(IllegalArgumentException.class)
      .hasMessageStartingWith("no configuration: give one with -conf FILE")
      .hasMessageContaining("-conf samples/cluster/node-1.json");
    assertThat(NodeConfig.confArgument(new String[] {"-cluster"})).isNull();
    assertThat(NodeConfig.confArgument(new String[] {"-cluster", "-conf", "a.json"})).isEqualTo("a.json");
    assertThat(NodeConfig.confArgument(new String[] {"--conf=b.json"})).isEqualTo("b.json");
    assertThatThrownBy(() -> NodeConfig.confArgument(new String[] {"-cluster", "-conf"}))
      .hasMessageContaining("-conf needs a value");
  }

  @Test
  void aMissingFileIsNamed() {
    Path missing = dir.resolve("node-9.json");
    assertThatThrownBy(() -> NodeConfig.read(missing.toString())).isInstanceOf(IllegalArgumentException.class)
      .hasMessage("configuration file " + missing + " not found (" + missing.toAbsolutePath() + " does not exist);"
        + " -conf takes a JSON file or a JSON object");
  }

  @Test
  void aSyntaxErrorGivesItsLineAndColumn() throws Exception {
    Path file = dir.resolve("bad.json");
    Files.writeString(file, "{\n  \"cluster\": {\"clusterName\": \"c1\"},\n  \"nodeId\": \"n1\"\n  \"services\": {}\n}\n");
    assertThatThrownBy(() -> NodeConfig.read(file.toString())).isInstanceOf(IllegalArgumentException.class)
      .hasMessageStartingWith(file + " is not valid JSON: line 4, column 3: Unexpected character ('\"'");
    assertThatThrownBy(() -> NodeConfig.read("{\"cluster\": {\"clusterName\": \"c1\"}, \"cluster\": {}}"))
      .hasMessageStartingWith("the -conf JSON is not valid JSON: line 1, column ")
      .hasMessageContaining("Duplicate field 'cluster'");
    assertThatThrownBy(() -> NodeConfig.read("{\"cluster\": {}} {}"))
      .hasMessage("the -conf JSON: line 1, column 17: text after the end of the JSON object");
    Path array = dir.resolve("array.json");
    Files.writeString(array, "[1, 2]");
    assertThatThrownBy(() -> NodeConfig.read(array.toString())).hasMessageContaining("must be a JSON object");
  }

  @Test
  void unknownKeysAreRefusedWithTheNearestKnownOne() {
    assertThatThrownBy(() -> NodeConfig.read("{\"cluster\": {\"clusterName\": \"c1\"}, \"servcies\": {}}"))
      .isInstanceOf(IllegalArgumentException.class)
      .hasMessage("the -conf JSON: unknown key \"servcies\": did you mean \"services\"? (known keys: cluster,"
        + " environment, nodeId, services, setup, metrics, tracing, management)");
    assertThatThrownBy(() -> NodeConfig.read("{\"cluster\": {\"clusterName\": \"c1\", \"prot\": 5701}}"))
      .hasMessageContaining("unknown key \"cluster.prot\": did you mean \"port\"?");
    assertThatThrownBy(() -> NodeConfig.read("{\"cluster\": {\"clusterName\": \"c1\", \"clustername\": \"c1\"}}"))
      .hasMessageContaining("unknown key \"cluster.clustername\": did you mean \"clusterName\"?");
    assertThatThrownBy(() -> NodeConfig.read("{\"management\": {\"prt\": 8091}}"))
      .hasMessageContaining("unknown key \"management.prt\": did you mean \"port\"?");
    assertThatThrownBy(() -> NodeConfig.read("{\"services\": {\"profile\": {\"clas\": \"x.Y\"}}}"))
      .hasMessageContaining("unknown key \"services.profile.clas\": did you mean \"class\"?");
    assertThatThrownBy(() -> NodeConfig.read(
      "{\"services\": {\"p\": {\"class\": \"x.Y\", \"options\": {\"maxConcurency\": 2}}}}"))
      .hasMessageContaining("unknown key \"services.p.options.maxConcurency\": did you mean \"maxConcurrency\"?");
    // Far from every known key: no guess, the list.
    assertThatThrownBy(() -> NodeConfig.read("{\"colour\": \"red\"}"))
      .hasMessage("the -conf JSON: unknown key \"colour\" (known keys: cluster, environment, nodeId, services, setup,"
        + " metrics, tracing, management)");
    // A service's own config is free-form.
    assertThat(NodeConfig.read("{\"services\": {\"p\": {\"class\": \"x.Y\", \"options\": {\"config\": {\"any\": 1}}}}}")
      .getJsonObject("services")).isNotNull();
  }

  @Test
  void editDistanceCountsASwapAsOneEdit() {
    assertThat(NodeConfig.distance("servcies", "services")).isEqualTo(1);
    assertThat(NodeConfig.distance("", "abc")).isEqualTo(3);
    assertThat(NodeConfig.distance("kitten", "sitting")).isEqualTo(3);
    assertThat(NodeConfig.nearest("nodeid", List.of("nodeId", "setup"))).isEqualTo("nodeId");
    assertThat(NodeConfig.nearest("xyz", List.of("nodeId", "setup"))).isNull();
  }

  @Test
  void aManagementPortInUseIsNamed() throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      int port = taken.getLocalPort();
      assertThatThrownBy(() -> NodeConfig.checkPortFree("127.0.0.1", port)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("the management API cannot listen on 127.0.0.1:" + port + " (")
        .hasMessageContaining("set another \"port\" in \"management\"");
    }
    NodeConfig.checkPortFree("127.0.0.1", 0);
  }
}
