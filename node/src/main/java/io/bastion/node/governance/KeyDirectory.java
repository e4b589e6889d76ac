package io.bastion.node.governance;

import io.bastion.config.BastionConfig;
import io.bastion.config.CustomerConfig;
import io.bastion.config.TeamConfig;
import io.bastion.config.VirtualKeyConfig;
import io.bastion.node.call.Authenticator;
import io.bastion.node.call.Fault;
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
public final class KeyDirectory implements Authenticator {

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

  /** What one update of the keys made visible: swapped whole, read without locks. */
  private record View(BastionConfig config, List<Key> keys, Map<String, Key> byName, boolean open) {}

  private volatile View view;
  /** The config has no keys and the bind is loopback: open while no key exists through the API either. */
  private final boolean loopback;

  public KeyDirectory(BastionConfig config) {
    // Open access only on loopback, and only if the config itself has no keys.
    this.loopback = isLoopback(config.gateway().host()) && config.virtualKeys().isEmpty();
    update(config, Map.of());
  }

  /**
   * Replaces the keys, teams, customers and groups (the config overlaid with the admin API's
   * changes). {@code hashes}: SHA-256 of keys whose value is not in the config (API-defined keys
   * are only ever stored as hashes); other keys are hashed from their value.
   */
  public void update(BastionConfig config, Map<String, byte[]> hashes) {
    List<Key> keys = config.virtualKeys().stream().map(k -> {
      TeamConfig team = k.team() == null ? null : config.team(k.team()).orElse(null);
      CustomerConfig customer = team == null || team.customer() == null ? null
          : config.customer(team.customer()).orElse(null);
      byte[] hash = hashes.get(k.keyName());
      return new Key(k, team, customer, hash != null ? hash : sha256(k.key()));
    }).toList();
    Map<String, Key> byName = new HashMap<>();
    keys.forEach(k -> byName.put(k.name(), k));
    this.view = new View(config, keys, byName, keys.isEmpty() && loopback);
  }

  /** True when tool group {@code group} exists (in the config or through the admin API). */
  public boolean groupExists(String group) {
    return view.config().toolGroup(group).isPresent();
  }

  public boolean keysConfigured() {
    return !view.keys().isEmpty();
  }

  public Optional<Key> byName(String keyName) {
    return keyName == null ? Optional.empty() : Optional.ofNullable(view.byName().get(keyName));
  }

  /** The key with this hash, if any (uniqueness checks of the admin API). */
  Optional<Key> byHash(byte[] hash) {
    Key found = null;
    for (Key k : view.keys()) {
      if (MessageDigest.isEqual(k.hash(), hash) && found == null) {
        found = k;
      }
    }
    return Optional.ofNullable(found);
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
    View v = view;
    if (group != null && v.config().toolGroup(group).isEmpty()) {
      throw new Unauthorized(Fault.CLIENT_UNKNOWN_GROUP, "Not Found: unknown tool group " + group);
    }
    if (v.open()) {
      return Optional.empty();
    }
    String presented = presentedKey(request);
    if (presented == null) {
      throw new Unauthorized(Fault.CLIENT_UNAUTHENTICATED, "Unauthorized: a virtual key is required "
          + "(Authorization: Bearer <key>, x-api-key or x-bf-vk)");
    }
    Key key = lookup(presented);
    if (key == null) {
      throw new Unauthorized(Fault.CLIENT_UNAUTHENTICATED, "Unauthorized: invalid virtual key");
    }
    if (group != null && !key.config().toolGroups().contains(group)) {
      throw new Unauthorized(Fault.POLICY_GROUP_FORBIDDEN, "Forbidden: this key is not attached to tool group " + group);
    }
    return Optional.of(key.name());
  }

  /** The key with this value, comparing against every stored hash in constant time. */
  Key lookup(String presented) {
    return byHash(sha256(presented)).orElse(null);
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
