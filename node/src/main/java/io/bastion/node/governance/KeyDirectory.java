package io.bastion.node.governance;

import io.bastion.config.BastionConfig;
import io.bastion.config.CustomerConfig;
import io.bastion.config.TeamConfig;
import io.bastion.config.VirtualKeyConfig;
import io.bastion.node.http.McpEdge;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * The node-local view of the configured virtual keys: who is calling (authentication) and where
 * that key sits in the budget hierarchy. Key values are kept only as SHA-256 hashes; a presented
 * key is hashed and compared against every stored hash with {@link MessageDigest#isEqual} (no
 * early exit), so neither the comparison nor the lookup leaks how much of a key matched.
 *
 * <p>A key is read from {@code Authorization: Bearer <key>}, {@code x-api-key} or {@code x-bf-vk}
 * (Bifrost's header), in that order.
 */
public final class KeyDirectory implements McpEdge.Authenticator {

  /** A configured key, resolved against its team and customer. */
  public record Key(VirtualKeyConfig config, TeamConfig team, CustomerConfig customer, byte[] hash) {
    public String name() {
      return config.keyName();
    }

    public String teamName() {
      return team == null ? null : team.name();
    }

    public String customerName() {
      return customer == null ? null : customer.name();
    }

    /** True when a budget or rate limit applies anywhere in the key's hierarchy. */
    public boolean limited() {
      return config.budget() != null || config.rateLimit() != null
          || (team != null && team.budget() != null) || (customer != null && customer.budget() != null);
    }

    /**
     * The id of the {@link BudgetEntity} owning this key's counters: the highest level with a
     * budget, so that every key sharing a team or customer budget is served by the same entity.
     */
    public String budgetRoot() {
      if (customer != null && customer.budget() != null) {
        return "customer:" + customer.name();
      }
      if (team != null && team.budget() != null) {
        return "team:" + team.name();
      }
      return "key:" + config.keyName();
    }
  }

  private final List<Key> keys;
  private final Map<String, Key> byName = new HashMap<>();
  private final BastionConfig config;

  public KeyDirectory(BastionConfig config) {
    this.config = config;
    this.keys = config.virtualKeys().stream().map(k -> {
      TeamConfig team = k.team() == null ? null : config.team(k.team()).orElse(null);
      CustomerConfig customer = team == null || team.customer() == null ? null
          : config.customer(team.customer()).orElse(null);
      return new Key(k, team, customer, sha256(k.key()));
    }).toList();
    keys.forEach(k -> byName.put(k.name(), k));
  }

  public boolean keysConfigured() {
    return !keys.isEmpty();
  }

  public Optional<Key> byName(String keyName) {
    return keyName == null ? Optional.empty() : Optional.ofNullable(byName.get(keyName));
  }

  /**
   * Refuses to serve openly on a non-loopback listener: with no virtual keys every tool of every
   * server is open to whoever reaches the port.
   *
   * @return a warning to log loudly when serving openly on loopback, or empty when keys are configured
   * @throws IllegalStateException when no keys are configured and the listener is not loopback
   */
  public static Optional<String> checkOpenAccess(BastionConfig config) {
    if (!config.virtualKeys().isEmpty()) {
      return Optional.empty();
    }
    String host = config.gateway().host();
    if (!isLoopback(host)) {
      throw new IllegalStateException("gateway.host is " + host + " but no virtual_keys are configured: "
          + "Bastion refuses to serve every tool openly on a non-loopback address. Configure virtual_keys "
          + "or bind gateway.host to 127.0.0.1");
    }
    return Optional.of("NO VIRTUAL KEYS CONFIGURED: every tool of every server is open to any client on "
        + host + " (loopback only). Configure virtual_keys before exposing this gateway.");
  }

  static boolean isLoopback(String host) {
    if (host == null) {
      return false;
    }
    String h = host.toLowerCase(Locale.ROOT);
    if (h.equals("localhost") || h.equals("::1") || h.equals("[::1]")) {
      return true;
    }
    if (!h.matches("[0-9.]+|[0-9a-f:\\[\\]]+")) {
      return false; // only literal addresses: no DNS lookup decides security
    }
    try {
      return InetAddress.getByName(h.replace("[", "").replace("]", "")).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  @Override
  public Optional<String> authenticate(HttpRequest request, String group) {
    if (group != null && config.toolGroup(group).isEmpty()) {
      throw new McpEdge.Unauthorized(404, "Not Found: unknown tool group " + group);
    }
    if (keys.isEmpty()) {
      return Optional.empty();
    }
    String presented = presentedKey(request);
    if (presented == null) {
      throw new McpEdge.Unauthorized(401, "Unauthorized: a virtual key is required "
          + "(Authorization: Bearer <key>, x-api-key or x-bf-vk)");
    }
    Key key = lookup(presented);
    if (key == null) {
      throw new McpEdge.Unauthorized(401, "Unauthorized: invalid virtual key");
    }
    if (group != null && !key.config().toolGroups().contains(group)) {
      throw new McpEdge.Unauthorized(403, "Forbidden: this key is not attached to tool group " + group);
    }
    return Optional.of(key.name());
  }

  /** The key with this value, comparing against every stored hash in constant time. */
  Key lookup(String presented) {
    byte[] h = sha256(presented);
    Key found = null;
    for (Key k : keys) {
      if (MessageDigest.isEqual(k.hash(), h) && found == null) {
        found = k;
      }
    }
    return found;
  }

  static String presentedKey(HttpRequest request) {
    Optional<String> auth = header(request, "Authorization");
    if (auth.isPresent()) {
      String v = auth.get().trim();
      if (v.regionMatches(true, 0, "Bearer ", 0, 7)) {
        String token = v.substring(7).trim();
        return token.isEmpty() ? null : token;
      }
    }
    for (String h : new String[] {"x-api-key", "x-bf-vk"}) {
      Optional<String> v = header(request, h).map(String::trim).filter(s -> !s.isEmpty());
      if (v.isPresent()) {
        return v.get();
      }
    }
    return null;
  }

  private static Optional<String> header(HttpRequest req, String name) {
    return req.getHeader(name).map(HttpHeader::value);
  }

  static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
