package com.example;

import io.sagebus.LocalEnvironment;

/** A user's first program: one service in a LocalEnvironment, called once. */
public class Hello {

  /** A service: Sagebus creates it and calls process. */
  public static class Upper {

    /** Sagebus creates the instances. */
    public Upper() {
    }

    /**
     * @param text any text
     * @return the text in capitals
     */
    public String process(String text) {
      return text.toUpperCase();
    }
  }

  public static void main(String[] args) {
    LocalEnvironment env = LocalEnvironment.create("consumer");
    env.registerService("upper", Upper.class);
    env.start().await();
    String result = env.services().call("upper", "hello");
    System.out.println("upper: " + result);
    env.close().await();
  }
}
