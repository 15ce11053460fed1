package io.sagebus.management;

import io.vertx.core.json.JsonObject;

import java.util.Objects;

/**
 * Where the management HTTP API listens, and the bearer token it asks for.
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

  private String host = DEFAULT_HOST;
  private int port = DEFAULT_PORT;
  private String token = DEFAULT_TOKEN;

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
  }

  /**
   * Reads options from JSON ({@code host}, {@code port}, {@code token}); absent fields keep their
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
    } catch (ClassCastException e) {
      throw new IllegalArgumentException("Bad management options: " + e.getMessage(), e);
    }
  }

  /**
   * {@return the JSON form: {@code host}, {@code port} and {@code tokenSet} (whether a token is
   *     set); never the token itself}
   */
  public JsonObject toJson() {
    return new JsonObject().put("host", host).put("port", port).put("tokenSet", token != null);
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

  @Override
  public boolean equals(Object o) {
    return o instanceof ManagementOptions that && port == that.port && host.equals(that.host)
      && Objects.equals(token, that.token);
  }

  @Override
  public int hashCode() {
    return Objects.hash(host, port, token);
  }

  @Override
  public String toString() {
    return "ManagementOptions" + toJson().encode();
  }
}
