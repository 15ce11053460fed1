package io.sagebus;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names a service class, so that {@code env.registerService(ProfileService.class)} registers it
 * without repeating the name (the Java form of SAGE's service decorator).
 *
 * <pre>{@code
 * @SagebusService("profile")
 * public class ProfileService {
 *   public JsonObject process(String userId) { ... }
 * }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface SagebusService {

  /**
   * {@return the service name: letters, digits, {@code _} and {@code -}, starting with a letter or digit}
   */
  String value();
}
