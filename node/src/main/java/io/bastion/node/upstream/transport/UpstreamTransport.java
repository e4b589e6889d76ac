package io.bastion.node.upstream.transport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.concurrent.CompletionStage;

/**
 * One connection to one upstream MCP server (stdio child process, streamable HTTP, or legacy HTTP+SSE).
 *
 * <p>The transport only moves JSON-RPC messages; the MCP handshake, id rewriting, health checks and
 * reconnects belong to the {@code UpstreamServer} entity that owns the transport. Implementations
 * must never block the caller of {@link #send}: process and network I/O run on their own threads.
 *
 * <p>Lifecycle: {@link #start} once, then any number of {@link #send}, then {@link #close}. After
 * {@link Listener#onClosed} the transport is dead and a new one must be created to reconnect.
 */
public interface UpstreamTransport {

  /**
   * Opens the connection (spawns the process, or for legacy SSE opens the GET stream and waits for
   * the {@code endpoint} event). Completes when messages can be sent; fails with a message a human
   * can act on ("command not found: foo", "connection refused: http://…").
   */
  CompletionStage<Void> start(Listener listener);

  /**
   * Sends one JSON-RPC message (request, notification or response).
   *
   * <p>Streamable HTTP: the POST's answer (JSON body, or every event of its SSE body) is delivered
   * to {@link Listener#onMessage} with {@code relatedRequestId} set to this message's {@code id}
   * (null for notifications/responses). The returned stage completes once the upstream accepted
   * the POST (2xx headers), and fails on a non-2xx status with {@link UpstreamHttpException}.
   *
   * <p>stdio: the stage completes once the line was written to the child's stdin.
   */
  CompletionStage<Void> send(ObjectNode message);

  /**
   * Tells the transport the negotiated protocol version; HTTP transports send it as
   * {@code MCP-Protocol-Version} on every later request. No-op for stdio.
   */
  default void protocolVersion(String version) {}

  /**
   * Closes the connection. stdio: close stdin, wait up to the grace period, SIGTERM, wait, SIGKILL.
   * Streamable HTTP: DELETE the upstream session (best effort) and cancel open streams. Idempotent.
   */
  CompletionStage<Void> close();

  /** Receives what the upstream sends. Called from transport threads; implementations must be thread-safe. */
  interface Listener {
    /**
     * A message from the upstream.
     *
     * @param relatedRequestId the id of the request whose HTTP response stream carried this message,
     *     or null when unknown (stdio, GET stream, legacy SSE)
     */
    void onMessage(ObjectNode message, JsonNode relatedRequestId);

    /**
     * The connection is gone (process exited, stream ended, upstream session expired). Called at
     * most once. {@code cause} is null after a {@link #close} requested by Bastion.
     */
    void onClosed(Throwable cause);
  }
}
