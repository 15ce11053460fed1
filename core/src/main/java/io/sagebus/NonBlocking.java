package io.sagebus;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Declares a service method that returns a plain value but never blocks: it runs on the instance's
 * event loop, as a method returning a {@code Future} does, instead of on a virtual thread of its own.
 * A call then costs no hand-off to a virtual thread and back (on a 2-core machine, with the caller on
 * the same event loop, 1.6 to 1.9 times the calls per second of the same method without it: BENCHMARKS.md).
 * <p>
 * For short computations only (a lookup in memory, a format, a small parse). The method must not
 * block: no {@code Thread.sleep}, no blocking I/O or lock, no {@code Future.await()} and no sync
 * {@code call(...)} (which fails at once on an event loop, see {@link ServiceClient#call}); a method
 * that may block belongs on a virtual thread, so leave the annotation off. Vert.x's blocked-thread
 * checker logs a warning when a method holds the loop longer than the loop's maximum execution time.
 * <p>
 * Everything else is as for any method: limits, queue, deadlines, meters, errors and tracing.
 * Cancelling a running call answers it {@code CANCELLED} at once, as for a {@code Future} method (the
 * method, running on the loop, is not interrupted; {@link CallContext#current()} is set while it runs).
 * It combines with {@link Batched}: the batch method then takes and returns a {@code List} on the
 * event loop. On a method returning a {@code Future} or {@code CompletionStage} it changes nothing.
 * <pre>{@code
 * @NonBlocking
 * public String normalize(String text) { return text.strip().toLowerCase(Locale.ROOT); }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface NonBlocking {
}
