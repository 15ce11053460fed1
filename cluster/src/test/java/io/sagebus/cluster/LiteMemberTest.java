package io.sagebus.cluster;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A lite member holds no data, so it cannot form a cluster alone: it says so and what to do. */
class LiteMemberTest {

  /** This class's own port range: 15841 to 15860. */
  private static final int FIRST_PORT = 15841;

  @Test
  void aLiteMemberAloneFailsWithWhatToDo() {
    ClusterOptions options = ClusterTesting.options(LiteMemberTest.class, FIRST_PORT).setLiteMember(true);
    assertThatThrownBy(() -> ClusterEnvironment.create(options, "lonely").await())
      .isInstanceOf(IllegalStateException.class)
      .hasMessageContaining("A lite member cannot start a cluster on its own")
      .hasMessageContaining("Start a node first");
  }
}
