package io.bastion.node.call;

/**
 * Decides which servers' tools, prompts and resources a session may see and use. One policy serves
 * list and call alike, so a hidden tool is indistinguishable from one that does not exist.
 */
public interface AccessPolicy {

  /** May this session see (and so call) {@code tool} of {@code server} (the upstream's own name)? */
  boolean allowsTool(SessionInfo session, String group, String server, String tool);

  /** May this session see prompts and resources of {@code server}? */
  boolean allowsServer(SessionInfo session, String group, String server);
}
