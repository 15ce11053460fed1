package io.sagebus.cluster;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces of a test's own, one per host: each joined by a veth pair to a bridge in the root namespace,
 * with a 10.x address on a subnet that nothing else on the machine uses; the root namespace holds the bridge's own
 * address (where the test JVM binds). Needs root and {@code ip}; {@link #close()} removes all of it, and the bridge
 * and namespaces are named with a random suffix, so a run that died leaves nothing a later run trips on.
 */
final class NetNamespaces implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(NetNamespaces.class);
  private static final long COMMAND_TIMEOUT_S = 20;

  private final String id = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000));
  private final String subnet;
  private final List<String> namespaces = new ArrayList<>();
  private boolean bridge;

  private NetNamespaces(String subnet) {
    this.subnet = subnet;
  }

  /** {@return why these tests cannot run here, or {@code null} when they can (root, and {@code ip} works)} */
  static String unavailable() {
    if (!"root".equals(System.getProperty("user.name"))) {
      return "network namespaces need root (user is " + System.getProperty("user.name") + ")";
    }
    try {
      Process p = new ProcessBuilder("ip", "netns", "list").redirectErrorStream(true).start();
      if (!p.waitFor(COMMAND_TIMEOUT_S, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return "'ip netns list' failed: " + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      }
      return null;
    } catch (IOException | InterruptedException e) {
      return "the 'ip' command is missing: " + e;
    }
  }

  /** {@return hosts in namespaces of their own, on a new bridge} */
  static NetNamespaces create(int hosts) throws Exception {
    String used = run(false, "ip", "-4", "addr");
    int third = 0;
    for (int tries = 0; tries < 50 && third == 0; tries++) {
      int candidate = ThreadLocalRandom.current().nextInt(1, 250);
      if (!used.contains("10.231." + candidate + ".")) {
        third = candidate;
      }
    }
    if (third == 0) {
      throw new IllegalStateException("no free 10.231.x.0/24 subnet");
    }
    NetNamespaces net = new NetNamespaces("10.231." + third);
    try {
      net.build(hosts);
    } catch (Exception e) {
      net.close();
      throw e;
    }
    return net;
  }

  private void build(int hosts) throws Exception {
    String br = "sbh" + id + "br";
    run(true, "ip", "link", "add", br, "type", "bridge");
    bridge = true;
    run(true, "ip", "addr", "add", rootAddress() + "/24", "dev", br);
    run(true, "ip", "link", "set", br, "up");
    for (int i = 1; i <= hosts; i++) {
      String ns = namespace(i);
      run(true, "ip", "netns", "add", ns);
      namespaces.add(ns);
      String outside = hostSide(i);
      String inside = "sbh" + id + "p" + i;
      run(true, "ip", "link", "add", outside, "type", "veth", "peer", "name", inside);
      run(true, "ip", "link", "set", inside, "netns", ns);
      run(true, "ip", "link", "set", outside, "master", br);
      run(true, "ip", "link", "set", outside, "up");
      run(true, "ip", "netns", "exec", ns, "ip", "addr", "add", address(i) + "/24", "dev", inside);
      run(true, "ip", "netns", "exec", ns, "ip", "link", "set", inside, "up");
      run(true, "ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
    }
    LOG.info("namespaces {} on bridge sbh{}br, subnet {}.0/24", namespaces, id, subnet);
  }

  /** {@return the address of host {@code i} (from 1)} */
  String address(int i) {
    return subnet + "." + i;
  }

  /** {@return the bridge's address, in the root namespace} */
  String rootAddress() {
    return subnet + ".254";
  }

  /** {@return the prefix that runs a command in host {@code i}'s namespace} */
  List<String> exec(int i) {
    return List.of("ip", "netns", "exec", namespace(i));
  }

  /** Cuts host {@code i} off: its link to the bridge goes down. */
  void cut(int i) throws Exception {
    run(true, "ip", "link", "set", hostSide(i), "down");
  }

  /** Joins host {@code i} again. */
  void heal(int i) throws Exception {
    run(true, "ip", "link", "set", hostSide(i), "up");
  }

  private String namespace(int i) {
    return "sbh" + id + "n" + i;
  }

  private String hostSide(int i) {
    return "sbh" + id + "h" + i;
  }

  /** Removes the namespaces (their veth ends go with them) and the bridge; logs what it cannot remove. */
  @Override
  public void close() {
    for (String ns : namespaces) {
      quietly("ip", "netns", "del", ns);
    }
    for (int i = 1; i <= namespaces.size(); i++) {
      quietly("ip", "link", "del", hostSide(i)); // gone with its peer already, normally
    }
    if (bridge) {
      quietly("ip", "link", "del", "sbh" + id + "br");
    }
  }

  private static void quietly(String... command) {
    try {
      run(false, command);
    } catch (Exception e) {
      LOG.warn("cleaning up: {} failed: {}", String.join(" ", command), e.toString());
    }
  }

  private static String run(boolean check, String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(COMMAND_TIMEOUT_S, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command) + " did not end in " + COMMAND_TIMEOUT_S + " s");
    }
    if (check && p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed (" + p.exitValue() + "): " + out);
    }
    return out;
  }
}
