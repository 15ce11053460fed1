package io.sagebus.cluster;

/**
 * A valid service class that is on the classpath but in no catalogue: its static initializer
 * records that it ran, so a test can tell that a deploy request naming it never initialized it.
 * Tests must not touch this class themselves; they read {@link MarkerFlag}.
 */
public class Marker {

  static {
    MarkerFlag.INITIALIZED.set(true);
  }

  /** A usable no-argument constructor, so only the catalogue keeps it out. */
  public Marker() {
  }

  /**
   * {@return the value}
   *
   * @param value anything
   */
  public Object process(Object value) {
    return value;
  }
}
