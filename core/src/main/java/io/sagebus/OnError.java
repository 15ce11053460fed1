package io.sagebus;

/**
 * What an operator does with a record its function fails on ({@link DataStream#onError(OnError)}).
 */
public enum OnError {
  /** Fail the job (the default), naming the operator, the record and the cause. */
  FAIL,
  /** Count the error in the job's result and go on with the next record. */
  SKIP,
  /** Send a {@link FailedRecord} to the operator's side output ({@link DataStream#failures()}) and go on. */
  SIDE_OUTPUT
}
