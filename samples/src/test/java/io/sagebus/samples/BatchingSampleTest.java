package io.sagebus.samples;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BatchingSampleTest {

  @Test
  void fourConcurrentCallsAreOneInvocationAndTheEmptyTextFailsAlone() throws Exception {
    assertThat(SampleOutput.of(BatchingSample::run)).containsExactly(
      "sage -> 4",
      "bus -> 3",
      "\"\" -> SERVICE_ERROR java.lang.IllegalArgumentException: empty text",
      "batch -> 5",
      "invocations: 1");
  }
}
