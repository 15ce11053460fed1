package io.sagebus.samples;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** RedeploySample prints what README ("Redeploying") shows: the job fails no call through the redeploy. */
class RedeploySampleTest {

  @Test
  void theJobRunsThroughTheRedeployAndTheNewOptionsServe() throws Exception {
    assertThat(SampleOutput.of(RedeploySample::run)).containsExactly(
      "orders: 20,000 through 'price' (2 instances, discount 0%)",
      "redeployed 'price' while the job ran: 3 instances, discount 10%",
      "job: COMPLETED, 20,000 orders priced, 0 failed",
      "price of 100.0 now: 90.0");
  }
}
