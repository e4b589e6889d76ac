package io.bastion.node.call;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An {@link Exchange} waiting in a node-local table for its final answer (the edge's reply router,
 * Code Mode's nested calls): its id, method and reply address, the completion to tell, and the
 * one-way step to "ended" that the final answer and an abandonment race for. Events may arrive on
 * any thread; every step holds the exchange's lock.
 */
public abstract class PendingExchange implements Exchange {

  private final JsonNode id;
  private final String method;
  private final Reply reply;
  private Completion completion;
  private boolean done;

  protected PendingExchange(JsonNode id, String method, Reply reply) {
    this.id = id;
    this.method = method;
    this.reply = reply;
  }

  @Override
  public final JsonNode id() {
    return id;
  }

  @Override
  public final String method() {
    return method;
  }

  @Override
  public final Reply reply() {
    return reply;
  }

  @Override
  public final synchronized void onCompletion(Completion completion) {
    this.completion = completion;
  }

  /** Whether it has ended (exact under its lock). */
  public final synchronized boolean ended() {
    return done;
  }

  /**
   * Ends it, under its lock: false when it had ended already. {@link #forget} runs then (remove it
   * from its table), and {@link #told} gives the completion to tell, outside the lock.
   */
  protected final synchronized boolean end() {
    if (done) {
      return false;
    }
    done = true;
    forget();
    return true;
  }

  /** The completion set by {@link #onCompletion} (null: nobody listens). */
  protected final synchronized Completion told() {
    return completion;
  }

  /** Removes it from the table it waits in (called once, under its lock, when it ends). */
  protected abstract void forget();

  /**
   * The client (or the Code Mode run) went away before the answer: it ends, and its completion is
   * told that no answer was sent. False when it had ended already.
   */
  public boolean abandon() {
    if (!end()) {
      return false;
    }
    Completion c = told();
    if (c != null) {
      c.done(null, Fault.CLIENT_GONE, 0);
    }
    return true;
  }

  /** Tells the completion how it ended (after {@link #end} returned true, outside the lock). */
  protected final void tell(ObjectNode answer, Fault fault, long bytesOut) {
    Completion c = told();
    if (c != null) {
      c.done(answer, fault, bytesOut);
    }
  }
}
