package io.sagebus;

/**
 * A record an operator failed on, sent to its side output ({@link DataStream#failures()}).
 *
 * @param operator the operator's name
 * @param record   the input record
 * @param error    the exception's class name
 * @param message  the exception's message
 */
public record FailedRecord(String operator, Object record, String error, String message) {
}
