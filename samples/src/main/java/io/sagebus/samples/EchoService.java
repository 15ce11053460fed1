package io.sagebus.samples;

/**
 * A service that answers with what it is given: the simplest target for {@code sagebus call} and
 * {@code curl} ({@code serve} sample).
 */
public class EchoService {

  /** Sagebus creates the instances. */
  public EchoService() {
  }

  /**
   * The method called when a call names none.
   *
   * @param value any JSON value
   * @return {@code value}
   */
  public Object process(Object value) {
    return value;
  }

  /**
   * Adds two numbers.
   *
   * @param a a number
   * @param b another
   * @return {@code a + b}
   */
  public int add(int a, int b) {
    return a + b;
  }
}
