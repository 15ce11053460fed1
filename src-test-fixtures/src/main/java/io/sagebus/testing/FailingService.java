package io.sagebus.testing;

import io.vertx.core.Future;

/** Always fails. */
public class FailingService {

  /** The exception the service throws. */
  public static class ProfileMissingException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message the message
     */
    public ProfileMissingException(String message) {
      super(message);
    }
  }

  /**
   * {@return never}
   *
   * @param userId a user id
   */
  public String process(String userId) {
    throw new ProfileMissingException("no profile for " + userId);
  }

  /**
   * {@return a failed future}
   *
   * @param userId a user id
   */
  public Future<String> async(String userId) {
    return Future.failedFuture(new ProfileMissingException("no async profile for " + userId));
  }
}
