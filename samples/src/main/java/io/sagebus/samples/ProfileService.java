package io.sagebus.samples;

import io.sagebus.ServiceContext;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;

/**
 * A service that scores users. Its methods return plain values, so each call runs on a virtual
 * thread of the service and could block (on a database, say) without harming anyone.
 * <p>
 * The score is a made-up but stable number, so the samples print the same thing on every run.
 */
public class ProfileService {

  private final Logger log;

  /**
   * Sagebus creates one instance per service instance, on its virtual thread.
   *
   * @param context where the instance runs; it provides the service's logger
   */
  public ProfileService(ServiceContext context) {
    this.log = context.logger();
  }

  /**
   * The method called when a call names none.
   *
   * @param userId the user
   * @return {@code {"user_id": userId, "score": n}}
   * @throws IllegalArgumentException when {@code userId} is null or blank; the caller gets a
   *     {@link io.sagebus.ServiceCallException} with code {@code SERVICE_ERROR}
   */
  public JsonObject process(String userId) {
    Profile p = lookup(userId);
    return new JsonObject().put("user_id", p.userId()).put("score", p.score());
  }

  /**
   * The same, as a record: it travels as JSON and the caller may convert it back with
   * {@code CallOptions.resultType(Profile.class)}.
   *
   * @param userId the user
   * @return the user's profile
   * @throws IllegalArgumentException when {@code userId} is null or blank
   */
  public Profile lookup(String userId) {
    if (userId == null || userId.isBlank()) {
      throw new IllegalArgumentException("userId must not be blank");
    }
    // Logged with the call's request id in the MDC (key sagebus-request-id); at DEBUG, so silent by default.
    log.debug("Scoring user {}", userId);
    return new Profile(userId, userId.chars().sum() % 100);
  }

  /**
   * A user's profile.
   *
   * @param userId the user
   * @param score  a number from 0 to 99
   */
  public record Profile(String userId, int score) {
  }
}
