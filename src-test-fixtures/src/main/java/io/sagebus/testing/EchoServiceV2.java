package io.sagebus.testing;

/** A second version of {@link EchoService}: answers the same, and says which version it is. */
public class EchoServiceV2 extends EchoService {

  /**
   * {@return 2}
   */
  public int version() {
    return 2;
  }
}
