package io.bastion.node;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Continuations without a thread hop.
 *
 * <p>The {@code CompletionStage}s that Pekko's javadsl returns ({@code ask}, {@code
 * Http.singleRequest}, …) are Scala's {@code FutureConverters} wrappers, which run every Java 8
 * dependent stage ({@code thenApply}, {@code whenComplete}, {@code exceptionally}, …)
 * <em>asynchronously</em> on the JDK common pool: one more thread wake-up per step. On the 2-core
 * box the node spent about 40 % of its CPU in futex waits and context switches, so the per-call
 * path avoids those hops (docs/benchmarks.md).
 *
 * <p>{@link #direct} returns a plain {@link CompletableFuture} completed on the thread that
 * completes {@code stage} (an actor replying to an ask, the HTTP client's connection stage), so
 * its dependents run there, inline. Only for short, non-blocking continuations: they run inside
 * whatever completed the stage.
 */
public final class Stages {
  private Stages() {}

  public static <T> CompletableFuture<T> direct(CompletionStage<T> stage) {
    // exceptionallyCompose (Java 12) is not among the methods the Scala wrapper makes
    // asynchronous, and the future it returns is a plain CompletableFuture (newIncompleteFuture
    // is not overridden either): it is completed inline, and so are its own dependents. If a later
    // Scala made it asynchronous too, this would still be correct, only one hop slower.
    return stage.toCompletableFuture().exceptionallyCompose(CompletableFuture::failedFuture);
  }
}
