package io.sagebus.cluster;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.sagebus.ServiceOptions;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads and checks a node's {@code -conf} before the node joins anything, so that each mistake
 * gets one line that says what is wrong and where: a missing file, a JSON syntax error (line and
 * column), a key no node reads (with the nearest known one), a management port already taken.
 * The launcher's own reading of {@code -conf} accepts all of these silently.
 */
final class NodeConfig {

  /** The keys of a node's configuration, in the order the documentation gives them. */
  static final List<String> TOP_KEYS =
    List.of("cluster", "environment", "nodeId", "services", "setup", "metrics", "tracing", "management");
  /** The keys of a catalogue entry. */
  static final List<String> SERVICE_KEYS = List.of("class", "options");
  /** The keys of {@code management} ({@link io.sagebus.management.ManagementOptions}). */
  static final List<String> MANAGEMENT_KEYS = List.of("host", "port", "token");

  private static final JsonFactory JSON = JsonFactory.builder()
    .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
    .build();

  private NodeConfig() {
  }

  /**
   * Reads the configuration named by {@code -conf}.
   *
   * @param conf the value of {@code -conf}: a JSON object (starting with <code>{</code>) or the name of a file
   *             holding one; {@code null} when the command line has no {@code -conf}
   * @return the configuration, its keys checked
   * @throws IllegalArgumentException saying what is wrong and where
   */
  static JsonObject read(String conf) {
    if (conf == null) {
      throw new IllegalArgumentException("no configuration: give one with -conf FILE, such as"
        + " -conf samples/cluster/node-1.json, or inline: -conf '{\"cluster\": {\"clusterName\": \"my-cluster\"}}'");
    }
    String text;
    String source;
    if (conf.strip().startsWith("{")) {
      text = conf;
      source = "the -conf JSON";
    } else {
      Path file;
      try {
        file = Path.of(conf);
      } catch (InvalidPathException e) {
        throw new IllegalArgumentException("-conf " + conf + " is neither a JSON object nor a file name: " + e.getMessage(), e);
      }
      if (!Files.isRegularFile(file)) {
        throw new IllegalArgumentException("configuration file " + conf + " not found (" + file.toAbsolutePath()
          + (Files.isDirectory(file) ? " is a folder" : " does not exist") + "); -conf takes a JSON file or a JSON"
          + " object");
      }
      try {
        text = Files.readString(file, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new IllegalArgumentException("configuration file " + conf + " cannot be read: " + e, e);
      }
      source = conf;
    }
    checkSyntax(text, source);
    JsonObject config;
    try {
      config = new JsonObject(text);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(source + " is not a JSON object: " + e.getMessage(), e);
    }
    checkKeys(config, source);
    return config;
  }

  /** Parses the whole text once with Jackson, whose errors carry the line and column. */
  private static void checkSyntax(String text, String source) {
    try (JsonParser parser = JSON.createParser(text)) {
      if (parser.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
        throw new IllegalArgumentException(source + " must be a JSON object {\"cluster\": {...}, ...}");
      }
      parser.skipChildren();
      if (parser.nextToken() != null) {
        JsonLocation at = parser.currentTokenLocation();
        throw new IllegalArgumentException(source + ": line " + at.getLineNr() + ", column " + at.getColumnNr()
          + ": text after the end of the JSON object");
      }
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      String where = at == null ? "" : ": line " + at.getLineNr() + ", column " + at.getColumnNr();
      throw new IllegalArgumentException(source + " is not valid JSON" + where + ": " + firstLine(e.getOriginalMessage()),
        e);
    } catch (IOException e) {
      throw new IllegalArgumentException(source + " cannot be read: " + e, e);
    }
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }

  /**
   * Refuses keys no node reads, at every level Sagebus defines (the free-form {@code config} of a
   * service is left alone).
   *
   * @param config the configuration
   * @param source where it came from, for the message
   * @throws IllegalArgumentException naming the first unknown key and the nearest known one
   */
  static void checkKeys(JsonObject config, String source) {
    known(config, TOP_KEYS, "", source);
    if (config.getValue("cluster") instanceof JsonObject cluster) {
      Set<String> keys = new LinkedHashSet<>(List.of("clusterName"));
      keys.addAll(new ClusterOptions().toJson().fieldNames());
      known(cluster, List.copyOf(keys), "cluster.", source);
    }
    if (config.getValue("management") instanceof JsonObject management) {
      known(management, MANAGEMENT_KEYS, "management.", source);
    }
    if (config.getValue("services") instanceof JsonObject services) {
      Set<String> optionKeys = new LinkedHashSet<>(new ServiceOptions().toJson().fieldNames());
      // Written by toJson() only when set.
      optionKeys.addAll(List.of("retryPolicy", "circuitBreaker"));
      for (Map.Entry<String, Object> e : services) {
        if (e.getValue() instanceof JsonObject entry) {
          String path = "services." + e.getKey() + ".";
          known(entry, SERVICE_KEYS, path, source);
          if (entry.getValue("options") instanceof JsonObject options) {
            known(options, List.copyOf(optionKeys), path + "options.", source);
          }
        }
      }
    }
  }

  private static void known(JsonObject json, List<String> keys, String path, String source) {
    for (String key : json.fieldNames()) {
      if (!keys.contains(key)) {
        String nearest = nearest(key, keys);
        throw new IllegalArgumentException(source + ": unknown key \"" + path + key + "\""
          + (nearest != null ? ": did you mean \"" + nearest + "\"?" : "")
          + " (known " + (path.isEmpty() ? "keys" : "in " + path.substring(0, path.length() - 1)) + ": "
          + String.join(", ", keys) + ")");
      }
    }
  }

  /**
   * {@return the known key nearest to {@code key}, when it is near enough to be a slip (a third of its
   * length in edits, at least 1, at most 3, case ignored), else {@code null}}
   *
   * @param key   the unknown key
   * @param known the known keys
   */
  static String nearest(String key, List<String> known) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String k : known) {
      int d = distance(key.toLowerCase(java.util.Locale.ROOT), k.toLowerCase(java.util.Locale.ROOT));
      if (d < bestDistance) {
        best = k;
        bestDistance = d;
      }
    }
    int allowed = Math.min(3, Math.max(1, key.length() / 3));
    return bestDistance <= allowed ? best : null;
  }

  /**
   * {@return the edit distance between two strings: insertions, deletions, substitutions and
   * swaps of two neighbouring characters each count one (optimal string alignment)}
   *
   * @param a a string
   * @param b another
   */
  static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }

  /**
   * Checks that nothing listens on the management API's address yet, so that a port in use stops
   * the node at once instead of after it joined the cluster.
   *
   * @param host the API's host
   * @param port its port; 0 (a free one) is not checked
   * @throws IllegalArgumentException naming {@code host:port} when it is taken or cannot be bound
   */
  static void checkPortFree(String host, int port) {
    if (port == 0) {
      return;
    }
    try (ServerSocket socket = new ServerSocket()) {
      // As Vert.x binds its servers: a port in TIME_WAIT only is free.
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getByName(host), port));
    } catch (IOException e) {
      throw new IllegalArgumentException(portInUse(host, port, e));
    }
  }

  /** {@return the message of a management port that cannot be bound} */
  static String portInUse(String host, int port, Throwable cause) {
    return "the management API cannot listen on " + host + ":" + port + " (" + cause.getMessage() + "): another"
      + " process holds it, perhaps another node; stop it, or set another \"port\" in \"management\"";
  }

  /**
   * {@return the value of {@code -conf} on a launcher command line, or {@code null} when there is none}
   *
   * @param args the command line
   * @throws IllegalArgumentException when {@code -conf} is the last word, with no value
   */
  static String confArgument(String[] args) {
    List<String> values = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("-conf") || a.equals("--conf")) {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException(a + " needs a value: a JSON file such as samples/cluster/node-1.json");
        }
        values.add(args[++i]);
      } else if (a.startsWith("-conf=") || a.startsWith("--conf=")) {
        values.add(a.substring(a.indexOf('=') + 1));
      }
    }
    return values.isEmpty() ? null : values.getLast();
  }
}
