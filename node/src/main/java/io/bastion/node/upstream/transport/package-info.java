/**
 * Upstream transports: how Bastion moves JSON-RPC messages to and from one upstream MCP server.
 * {@link io.bastion.node.upstream.transport.UpstreamTransports#create} picks the implementation
 * from {@code ServerConfig.type()}; the owning {@code UpstreamServer} entity does the handshake,
 * id rewriting, timeouts, health and reconnects.
 *
 * <h2>Design decisions</h2>
 *
 * <ul>
 *   <li><b>stdio threads.</b> {@link io.bastion.node.upstream.transport.StdioTransport} uses
 *       dedicated daemon threads, never the actor dispatcher: one reads stdout (one JSON object per
 *       line; non-JSON lines are logged at WARN and skipped), one reads stderr (each line at INFO to
 *       the logger {@code bastion.upstream.<server>}), a single-threaded executor writes stdin (so
 *       {@code send} never blocks and lines never interleave), and one waits for the exit.
 *       {@code start} fails with "command not found: x" for a missing program and with
 *       {@link io.bastion.node.upstream.transport.UpstreamProcessExitedException} (with the stderr
 *       tail) when the process exits within the startup window (300 ms).
 *   <li><b>stdio shutdown order.</b> Close stdin, wait the grace period (default 2 s), SIGTERM the
 *       descendants and then the process, wait the grace period again, SIGKILL descendants then
 *       the process. Descendants ({@code ProcessHandle.descendants()}, snapshot before and after
 *       stdin is closed, because {@code npx} and shell wrappers spawn the real server) are signalled
 *       before the parent so the parent still reaps them instead of leaving zombies for init.
 *   <li><b>SSE parsing.</b> Both HTTP transports parse {@code text/event-stream} bodies with Pekko
 *       HTTP's {@code EventStreamUnmarshalling} (events up to 64 MiB) and consume them as streams,
 *       never buffering a stream whole. Events of type {@code message} (or untyped) carry JSON-RPC;
 *       empty priming events are skipped.
 *   <li><b>HTTP client of {@code http://} upstreams.</b> {@link
 *       io.bastion.node.upstream.transport.NettyHttpClient}, one per transport, on the node's one
 *       Netty event loop: kept-alive connections (at most 32; up to 256 requests beyond wait in order), the
 *       response read and parsed on the thread that polls the socket. It gives the transports
 *       Pekko HTTP's response model (a JSON or error body whole, an SSE body as a chunk stream into
 *       the same SSE parser), so they do not know which client ran. Why not Pekko HTTP's pool: a
 *       {@code tools/call} cost ~25 % less CPU and ~25 % fewer context switches in the node
 *       (docs/benchmarks.md). {@code bastion.node.upstream-http-client = pekko} turns it off.
 *   <li><b>HTTP client of {@code https://} upstreams.</b> One Pekko HTTP host-pool flow per transport, fed by a bounded
 *       queue of (request, promise) pairs (256, like the pool's {@code max-open-requests}; beyond
 *       that a request fails at once), on a pool whose idle timeout is the longest request plus a
 *       margin (the GET stream and long tool calls may be silent for long) and 32 connections per
 *       host; the owner enforces request timeouts. Bodies are parsed once, from their bytes, with
 *       the one mapper {@code io.bastion.protocol.Json.MAPPER}. Every SSE stream passes one {@code SharedKillSwitch}, so
 *       {@code close()} cancels all of them. Connection failures read "connection refused: url".
 *   <li><b>Streamable HTTP sessions.</b> The {@code Mcp-Session-Id} of the {@code initialize}
 *       response is echoed on every later request; {@code protocolVersion(v)} (called by the owner
 *       after initialize) adds {@code MCP-Protocol-Version} and opens the GET stream (405 = none;
 *       reconnected with {@code Last-Event-ID} and the server's {@code retry}, capped exponential
 *       backoff on errors). A 404 on a request that carried the session fails the send with
 *       {@link io.bastion.node.upstream.transport.UpstreamHttpException} and signals
 *       {@code onClosed(sessionExpired)} once; the transport is then dead. A POST's SSE stream that
 *       ends before the response but had event ids is resumed with GET + {@code Last-Event-ID}.
 *       {@code close()} sends DELETE (best effort, 405 ignored).
 *   <li><b>onClosed.</b> At most once per transport: a cause for an unrequested end (process exit,
 *       SSE stream end, session expiry), null after {@code close()}. A failed {@code start} does not
 *       call it: the returned stage carries the error.
 * </ul>
 */
package io.bastion.node.upstream.transport;
