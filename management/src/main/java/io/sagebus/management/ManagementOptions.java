package io.sagebus.management;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where the management HTTP API listens, the bearer token it asks for, and the host names its
 * requests may name.
 * <p>
 * Instances are mutable, like Vert.x options; the server copies them when it is handed them. The
 * token is a secret: {@link #toJson()} and {@link #toString()} never show it (only whether one is
 * set), so writing the options to a log or a file cannot leak it. Read it from a protected file or
 * an environment variable, not from a command line.
 */
public class ManagementOptions {

  /** Default host: 127.0.0.1, so that only this machine can reach the API. */
  public static final String DEFAULT_HOST = "127.0.0.1";
  /** Default port: 8089. */
  public static final int DEFAULT_PORT = 8089;
  /** Default bearer token: none (anyone who can reach the port may use the API). */
  public static final String DEFAULT_TOKEN = null;
  /** Shortest token accepted: 16 characters, so it cannot be guessed by trying. */
  public static final int MIN_TOKEN_LENGTH = 16;
  /**
   * Default extra allowed hosts: none. Requests whose {@code Host} header, or {@code Origin}
   * header when they carry one, names a loopback name ({@code localhost}, {@code 127.x.x.x},
   * {@code [::1]}) or the configured {@link #getHost() host} are always allowed.
   */
  public static final List<String> DEFAULT_ALLOWED_HOSTS = List.of();

  /** A host name, an IPv4 address or a bracketed IPv6 address, with an optional port; or {@code *}. */
  private static final Pattern ALLOWED_HOST =
    Pattern.compile("\\*|([a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\\[[0-9a-f:.]+])(:[0-9]{1,5})?");

  private String host = DEFAULT_HOST;
  private int port = DEFAULT_PORT;
  private String token = DEFAULT_TOKEN;
  private List<String> allowedHosts = DEFAULT_ALLOWED_HOSTS;

  /** Options with the defaults. */
  public ManagementOptions() {
  }

  /**
   * Copy constructor.
   *
   * @param other the options to copy, token included
   */
  public ManagementOptions(ManagementOptions other) {
    this.host = other.host;
    this.port = other.port;
    this.token = other.token;
    this.allowedHosts = other.allowedHosts;
  }

  /**
   * Reads options from JSON ({@code host}, {@code port}, {@code token}, {@code allowedHosts}: an
   * array of strings); absent fields keep their
   * defaults. {@link #toJson()} writes no token, so a token survives a round trip only when it is
   * set again.
   *
   * @param json the JSON form
   * @throws IllegalArgumentException when a value is malformed or out of range
   */
  public ManagementOptions(JsonObject json) {
    try {
      setHost(json.getString("host", DEFAULT_HOST));
      setPort(json.getInteger("port", DEFAULT_PORT));
      setToken(json.getString("token", DEFAULT_TOKEN));
      if (json.getValue("allowedHosts") != null) {
        List<String> hosts = new ArrayList<>();
        for (Object o : json.getJsonArray("allowedHosts")) {
          if (!(o instanceof String h)) {
            throw new IllegalArgumentException("allowedHosts must hold strings, got " + o);
          }
          hosts.add(h);
        }
        setAllowedHosts(hosts);
      }
    } catch (ClassCastException e) {
      throw new IllegalArgumentException("Bad management options: " + e.getMessage(), e);
    }
  }

  /**
   * {@return the JSON form: {@code host}, {@code port}, {@code tokenSet} (whether a token is
   *     set; never the token itself) and {@code allowedHosts}}
   */
  public JsonObject toJson() {
    return new JsonObject().put("host", host).put("port", port).put("tokenSet", token != null)
      .put("allowedHosts", new JsonArray(new ArrayList<>(allowedHosts)));
  }

  /**
   * {@return the host the API binds to}
   */
  public String getHost() {
    return host;
  }

  /**
   * Sets the host the API binds to. Anything but a loopback address exposes the API to the
   * network: the server then refuses to start without a token.
   *
   * @param host a host name or address, not blank
   * @return this
   * @throws IllegalArgumentException when blank
   */
  public ManagementOptions setHost(String host) {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("host must not be blank");
    }
    this.host = host;
    return this;
  }

  /**
   * {@return the port the API listens on; 0 while a random one is asked for}
   */
  public int getPort() {
    return port;
  }

  /**
   * Sets the port the API listens on.
   *
   * @param port 0 (a free port, see {@link ManagementServer#actualPort()}) to 65535
   * @return this
   * @throws IllegalArgumentException when out of range
   */
  public ManagementOptions setPort(int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be between 0 and 65535, got " + port);
    }
    this.port = port;
    return this;
  }

  /**
   * {@return the bearer token requests must carry, or {@code null} when none is asked for}
   */
  public String getToken() {
    return token;
  }

  /**
   * Sets the bearer token requests must carry ({@code Authorization: Bearer <token>}); a request
   * without it, or with another, is answered 401.
   *
   * @param token at least {@value #MIN_TOKEN_LENGTH} characters without white space, or {@code null} for none
   * @return this
   * @throws IllegalArgumentException when too short or holding white space (the message never shows it)
   */
  public ManagementOptions setToken(String token) {
    if (token != null && (token.length() < MIN_TOKEN_LENGTH || token.chars().anyMatch(Character::isWhitespace))) {
      throw new IllegalArgumentException("The token must be at least " + MIN_TOKEN_LENGTH
        + " characters without white space");
    }
    this.token = token;
    return this;
  }

  /**
   * {@return the hosts allowed beyond the loopback names and the configured host, lower case, possibly empty}
   */
  public List<String> getAllowedHosts() {
    return allowedHosts;
  }

  /**
   * Sets the hosts, beyond the loopback names and the configured {@link #getHost() host}, that a
   * request's {@code Host} header, and its {@code Origin} header when it has one, may name: the
   * names under which clients and browser pages reach the API (a reverse proxy's name, a console
   * served elsewhere). A request naming any other host is refused with 403, which defeats DNS
   * rebinding and cross-site requests from web pages. An entry is a host name or address
   * ({@code sagebus.internal}, {@code 10.0.0.5}, {@code [fd00::5]}; any port), the same with a
   * port ({@code sagebus.internal:8443}: that port only), or {@code *} (any host: the check is off;
   * keep a token then).
   *
   * @param allowedHosts the entries, not {@code null}; compared without regard to case
   * @return this
   * @throws IllegalArgumentException when an entry is not of one of these forms
   */
  public ManagementOptions setAllowedHosts(List<String> allowedHosts) {
    if (allowedHosts == null) {
      throw new IllegalArgumentException("allowedHosts must not be null (an empty list allows the defaults only)");
    }
    List<String> checked = new ArrayList<>(allowedHosts.size());
    for (String entry : allowedHosts) {
      String e = entry == null ? null : entry.trim().toLowerCase(Locale.ROOT);
      if (e == null || !ALLOWED_HOST.matcher(e).matches() || e.endsWith(":0") || portOf(e) > 65535) {
        throw new IllegalArgumentException("Bad allowed host '" + entry + "': give a host name or address, "
          + "optionally with ':port' (sagebus.internal, 10.0.0.5:8089, [fd00::5]), or '*'");
      }
      checked.add(e);
    }
    this.allowedHosts = List.copyOf(checked);
    return this;
  }

  /**
   * Adds one allowed host; see {@link #setAllowedHosts(List)}.
   *
   * @param allowedHost a host name or address, optionally with {@code :port}, or {@code *}
   * @return this
   * @throws IllegalArgumentException when the entry is malformed
   */
  public ManagementOptions addAllowedHost(String allowedHost) {
    List<String> all = new ArrayList<>(allowedHosts);
    all.add(allowedHost);
    return setAllowedHosts(all);
  }

  /** {@return the port of an entry, or -1 when it has none} */
  private static int portOf(String entry) {
    int colon = entry.lastIndexOf(':');
    if (colon < 0 || entry.lastIndexOf(']') > colon) {
      return -1;
    }
    return Integer.parseInt(entry.substring(colon + 1));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ManagementOptions that && port == that.port && host.equals(that.host)
      && Objects.equals(token, that.token) && allowedHosts.equals(that.allowedHosts);
  }

  @Override
  public int hashCode() {
    return Objects.hash(host, port, token, allowedHosts);
  }

  @Override
  public String toString() {
    return "ManagementOptions" + toJson().encode();
  }
}
