package io.bastion.persistence;

/**
 * Marker for every message, event and state that crosses the wire or reaches the journal. Bound to
 * Pekko's Jackson CBOR serializer in {@code persistence/src/main/resources/reference.conf}
 * ({@code pekko.actor.serialization-bindings}); Java serialization stays off.
 */
public interface CborSerializable {}
