/**
 * Upstream MCP servers: the sharded {@link io.bastion.node.upstream.UpstreamServer} entity and its
 * helpers.
 *
 * <p><b>Runtime state</b> (never persisted, rebuilt by connecting) lives in objects the entity
 * owns: {@link io.bastion.node.upstream.UpstreamConnection} (transport, handshake, health loop,
 * catalog discovery, {@link io.bastion.node.upstream.Backoff}; the connection lifecycle's
 * handlers), {@link io.bastion.node.upstream.UpstreamTraffic} (the
 * {@link io.bastion.node.upstream.InFlightTable} of requests on the wire and the
 * {@link io.bastion.node.upstream.SubscriptionBook}), {@link io.bastion.node.upstream.UpstreamAuth}
 * (the OAuth client of an {@code auth: {type: oauth}} upstream; its durable part is the entity's
 * sealed {@code StoredAuth}, docs/oauth.md) and the published
 * {@link io.bastion.node.upstream.UpstreamStatus} sequence
 * ({@link io.bastion.node.upstream.UpstreamPublication}). A {@code per_key} OAuth server also has
 * one entity per virtual key that calls it ({@link io.bastion.node.upstream.KeyedUpstreams}). Connection state reaches every node
 * through Distributed Data ({@link io.bastion.node.upstream.UpstreamDirectory}).
 *
 * <p>Calls that arrive while connecting are stashed until the connection is ready or the attempt
 * fails; calls that arrive while backing off, failed or needing authorization fail fast with a
 * clear error.
 *
 * <p><b>Why not {@code EventSourcedBehaviorWithEnforcedReplies}.</b> No command of the entity is
 * answered when it is handled: a {@code Forward} is answered through its {@code Reply} (a tell to
 * the client's stream, on any node) when the upstream answers, many commands later, or fails; it
 * may also be stashed first. Most other commands are one-way. Enforced replies would make every
 * handler end in {@code thenNoReply()}, which the compiler checks but which says nothing.
 */
package io.bastion.node.upstream;
