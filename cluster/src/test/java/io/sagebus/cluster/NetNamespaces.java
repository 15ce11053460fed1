package io.sagebus.cluster;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Network namespaces of a test's own, one per host: each joined by a veth pair to a bridge in the root namespace,
 * with a 10.231.x.i address on a /24 that nothing else on the machine uses; the root namespace holds the bridge's own
 * address (where the test JVM binds). Cutting a host's link ({@link #cut(int)}) takes its veth end on the bridge down:
 * a real partition, packets dropped, no connection reset. Needs root and {@code ip}.
 * <p>
 * Names carry the prefix {@value #PREFIX} and the test JVM's pid: namespaces {@code sagebus-heal-<pid>-<id>-n<i>},
 * the bridge {@code sbh<id>br} with the alias {@code sagebus-heal-<pid>-<id>}, links {@code sbh<id>h<i>} (interface
 * names are at most 15 characters). {@link #close()} removes all of it, also after a failure, and
 * {@link #create(int)} first removes what a run whose JVM is gone (killed before it could clean up) left behind,
 * leaving alone what a running test JVM (another build on the machine) uses.
 */
final class NetNamespaces implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(NetNamespaces.class);
  private static final long COMMAND_TIMEOUT_S = 20;
  static final String PREFIX = "sagebus-heal-";
  private static final Pattern NAMESPACE = Pattern.compile(Pattern.quote(PREFIX) + "(\\d+)-([0-9a-f]{4})-n(\\d+)");
  private static final Pattern BRIDGE = Pattern.compile(
    "^\\d+: (sbh[0-9a-f]{4}br)[:@].*alias " + Pattern.quote(PREFIX) + "(\\d+)-[0-9a-f]{4}\\s*$");

  private final String id = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000));
  private final long pid = ProcessHandle.current().pid();
  private final String subnet;
  private final List<String> namespaces = new ArrayList<>();
  private boolean bridge;

  private NetNamespaces(String subnet) {
    this.subnet = subnet;
  }

  /** {@return why these tests cannot run here, or {@code null} when they can (root, and {@code ip netns} works)} */
  static String unavailable() {
    if (!"root".equals(System.getProperty("user.name"))) {
      return "network namespaces need root (user is " + System.getProperty("user.name") + ")";
    }
    try {
      Process p = new ProcessBuilder("ip", "netns", "list").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(COMMAND_TIMEOUT_S, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return "'ip netns list' failed: " + out.strip();
      }
      return null;
    } catch (IOException e) {
      return "the 'ip' command is missing: " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  /** {@return hosts in namespaces of their own, on a new bridge; what a dead earlier run left is removed first} */
  static NetNamespaces create(int hosts) throws Exception {
    removeStale();
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

  /** Removes the namespaces and bridges of runs whose test JVM no longer runs. */
  static void removeStale() throws Exception {
    for (String line : run(false, "ip", "netns", "list").split("\n")) {
      String name = line.strip().split("\\s+")[0];
      Matcher m = NAMESPACE.matcher(name);
      if (m.matches() && gone(m.group(1))) {
        LOG.warn("removing namespace {} and its links, left by test JVM {} that is gone", name, m.group(1));
        quietly("ip", "netns", "del", name);
        quietly("ip", "link", "del", "sbh" + m.group(2) + "h" + m.group(3));
        quietly("ip", "link", "del", "sbh" + m.group(2) + "br");
      }
    }
    for (String line : run(false, "ip", "-o", "link", "show", "type", "bridge").split("\n")) {
      Matcher m = BRIDGE.matcher(line.strip());
      if (m.matches() && gone(m.group(2))) {
        LOG.warn("removing bridge {}, left by test JVM {} that is gone", m.group(1), m.group(2));
        quietly("ip", "link", "del", m.group(1));
      }
    }
  }

  private static boolean gone(String pid) {
    return ProcessHandle.of(Long.parseLong(pid)).map(p -> !p.isAlive()).orElse(true);
  }

  private void build(int hosts) throws Exception {
    String br = bridgeName();
    run(true, "ip", "link", "add", br, "type", "bridge");
    bridge = true;
    run(true, "ip", "link", "set", "dev", br, "alias", PREFIX + pid + "-" + id);
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
    LOG.info("namespaces {} on bridge {}, subnet {}.0/24", namespaces, br, subnet);
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

  /** Cuts host {@code i} off from the others and the root namespace: its link to the bridge goes down. */
  void cut(int i) throws Exception {
    run(true, "ip", "link", "set", hostSide(i), "down");
  }

  /** Joins host {@code i} again. */
  void heal(int i) throws Exception {
    run(true, "ip", "link", "set", hostSide(i), "up");
  }

  private String namespace(int i) {
    return PREFIX + pid + "-" + id + "-n" + i;
  }

  private String hostSide(int i) {
    return "sbh" + id + "h" + i;
  }

  private String bridgeName() {
    return "sbh" + id + "br";
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
      quietly("ip", "link", "del", bridgeName());
    }
  }

  private static void quietly(String... command) {
    try {
      String out = run(false, command);
      if (!out.isBlank()) {
        LOG.debug("{}: {}", String.join(" ", command), out.strip());
      }
    } catch (Exception e) {
      LOG.warn("cleaning up: {} failed: {}", String.join(" ", command), e.toString());
    }
  }

  private static String run(boolean check, String... command) {
    try {
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
    } catch (IOException e) {
      throw new IllegalStateException(String.join(" ", command) + " could not run: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(String.join(" ", command) + " interrupted", e);
    }
  }
}
