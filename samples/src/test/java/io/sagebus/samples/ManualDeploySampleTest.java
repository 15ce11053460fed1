package io.sagebus.samples;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ManualDeploySampleTest {

  /** What the manual sample prints; SamplesJarIT expects the same. */
  static final String[] EXPECTED = {
    "deployed: {\"service\":\"profile\",\"instances\":1}",
    "profile: {\"user_id\":\"u1\",\"score\":66}",
    "greeter: Hello, Ada!",
  };

  @Test
  void managerDeployedAndHandDeployedServicesAnswerByName() throws Exception {
    assertThat(SampleOutput.of(ManualDeploySample::run)).containsExactly(EXPECTED);
  }
}
