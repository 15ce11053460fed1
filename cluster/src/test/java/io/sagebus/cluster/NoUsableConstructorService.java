package io.sagebus.cluster;

/** A service class with neither a no-argument nor a ServiceContext constructor. */
public class NoUsableConstructorService {

  private final String prefix;

  /**
   * @param prefix put before every answer
   */
  public NoUsableConstructorService(String prefix) {
    this.prefix = prefix;
  }

  /**
   * {@return the value, prefixed}
   *
   * @param value anything
   */
  public String process(String value) {
    return prefix + value;
  }
}
