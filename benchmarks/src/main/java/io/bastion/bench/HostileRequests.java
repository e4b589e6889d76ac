package io.bastion.bench;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Generates the requests of the HTTP barrage (docs/fuzzing.md): hostile, broken and merely odd HTTP
 * requests against a node's MCP edge. Deterministic for a given {@link Random}: a seed replays a run.
 *
 * <p>Categories (weights in {@link #next}): valid-looking tool calls with random arguments, random
 * methods and params, malformed JSON, wrong content types, huge bodies, bad session ids, bad
 * protocol versions, batch arrays, random headers, other HTTP methods and paths, GET streams,
 * initialize with random params, and raw bytes that are not well-formed HTTP at all.
 */
final class HostileRequests {

  /** One request: for {@code raw} ones only {@code rawBytes} is sent, on a fresh connection. */
  record Hostile(String category, String method, String path, List<String[]> headers, byte[] body,
      byte[] rawBytes) {
    boolean raw() {
      return rawBytes != null;
    }
  }

  static final String JSON = "application/json";
  static final String BOTH = "application/json, text/event-stream";
  static final String[] METHODS = {"initialize", "ping", "tools/list", "tools/call", "resources/list",
      "resources/read", "resources/templates/list", "resources/subscribe", "resources/unsubscribe",
      "prompts/list", "prompts/get", "completion/complete", "logging/setLevel", "notifications/initialized",
      "notifications/cancelled", "notifications/progress", "notifications/roots/list_changed",
      "notifications/message", "tasks/get", "tasks/list", "tasks/cancel", "tasks/result",
      "sampling/createMessage", "elicitation/create", "roots/list", "x", "", "tools/call/", "TOOLS/LIST"};
  static final String[] VERSIONS = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07",
      "2099-12-31", "", "latest", "2025-11-25, 2025-06-18", "\u00e9t\u00e9"};
  static final String[] CONTENT_TYPES = {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
      "application/jsonx", "application/json-patch+json", "text/json", "application/JSON",
      "application/json; charset=utf-16", "application/json; boundary=\"x", "*/*", "", ";", "application/"};
  static final String[] ACCEPTS = {BOTH, "*/*", JSON, "text/event-stream", "text/html", "", ";", ", ;",
      "application/json;q=0, text/event-stream;q=0", "application/*, text/*", "APPLICATION/JSON, TEXT/EVENT-STREAM"};
  static final String[] PATHS = {"/mcp", "/mcp/", "/mcp/x", "/mcp/../mcp", "/sse", "/sse/x", "/messages",
      "/messages?sessionId=abc", "/health/live", "/health/ready", "/metrics", "/api/v1/servers", "/api/v1/cluster",
      "/api/v1/keys", "/", "/%00", "/mcp?x=%zz", "//mcp", "/mcp;jsessionid=1"};
  static final String[] HTTP_METHODS = {"GET", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD", "TRACE"};

  private final List<String> tools;
  private final List<String> sessions;
  private final int maxRequestBytes;

  /**
   * @param tools the live catalog's tool names (valid-looking calls use them)
   * @param sessions open sessions of the run, never empty (requests pick one when they want a valid
   *     session; the runner replaces those that end)
   * @param maxRequestBytes the node's {@code max_request_bytes} ("huge" bodies go past it)
   */
  HostileRequests(List<String> tools, List<String> sessions, int maxRequestBytes) {
    this.tools = tools;
    this.sessions = sessions;
    this.maxRequestBytes = maxRequestBytes;
  }

  Hostile next(Random r) {
    int w = r.nextInt(1000);
    if (w < 220) {
      return post("tool-call", validHeaders(r), toolCall(r));
    } else if (w < 400) {
      return post("random-method", validHeaders(r), randomMessage(r));
    } else if (w < 500) {
      return post("malformed-json", validHeaders(r), damage(randomMessage(r), r));
    } else if (w < 560) {
      List<String[]> h = validHeaders(r);
      set(h, "Content-Type", pick(CONTENT_TYPES, r));
      if (r.nextInt(5) == 0) {
        remove(h, "Content-Type");
      }
      return post("content-type", h, randomMessage(r));
    } else if (w < 564) {
      return post("huge-body", validHeaders(r), huge(r));
    } else if (w < 640) {
      List<String[]> h = validHeaders(r);
      set(h, "Mcp-Session-Id", badSession(r));
      if (r.nextInt(6) == 0) {
        remove(h, "Mcp-Session-Id");
      }
      return post("bad-session", h, r.nextBoolean() ? toolCall(r) : randomMessage(r));
    } else if (w < 700) {
      List<String[]> h = validHeaders(r);
      set(h, "MCP-Protocol-Version", r.nextInt(4) == 0 ? randomToken(r, 20) : pick(VERSIONS, r));
      return post("bad-version", h, r.nextBoolean() ? toolCall(r) : randomMessage(r));
    } else if (w < 760) {
      StringBuilder b = new StringBuilder("[");
      int n = r.nextInt(4);
      for (int i = 0; i < n; i++) {
        b.append(i == 0 ? "" : ",").append(r.nextBoolean() ? toolCall(r) : randomMessage(r));
      }
      return post("batch", validHeaders(r), b.append(']').toString().getBytes(StandardCharsets.UTF_8));
    } else if (w < 840) {
      List<String[]> h = validHeaders(r);
      randomHeaders(h, r);
      return post("random-headers", h, r.nextBoolean() ? toolCall(r) : randomMessage(r));
    } else if (w < 890) {
      String m = pick(HTTP_METHODS, r);
      List<String[]> h = validHeaders(r);
      if (r.nextBoolean()) {
        set(h, "Accept", pick(ACCEPTS, r));
      }
      byte[] body = m.equals("GET") || m.equals("HEAD") || m.equals("TRACE") ? new byte[0] : randomMessage(r);
      return new Hostile("other-method", m, pick(PATHS, r), h, body, null);
    } else if (w < 910) {
      List<String[]> h = validHeaders(r);
      set(h, "Accept", r.nextInt(3) == 0 ? pick(ACCEPTS, r) : "text/event-stream");
      return new Hostile("get-stream", "GET", "/mcp", h, new byte[0], null);
    } else if (w < 960) {
      List<String[]> h = validHeaders(r);
      remove(h, "Mcp-Session-Id");
      return post("initialize", h, initialize(r));
    } else if (w < 970) {
      return new Hostile("other-path", "POST", pick(PATHS, r), validHeaders(r), randomMessage(r), null);
    }
    return new Hostile("raw-http", null, null, List.of(), null, rawHttp(r));
  }

  // ------------------------------------------------------------------ pieces

  private Hostile post(String category, List<String[]> headers, byte[] body) {
    return new Hostile(category, "POST", "/mcp", headers, body, null);
  }

  private List<String[]> validHeaders(Random r) {
    List<String[]> h = new ArrayList<>();
    h.add(new String[] {"Content-Type", JSON});
    h.add(new String[] {"Accept", BOTH});
    h.add(new String[] {"MCP-Protocol-Version", r.nextInt(4) == 0 ? "2025-06-18" : "2025-11-25"});
    h.add(new String[] {"Mcp-Session-Id", session(r)});
    return h;
  }

  /** One of the run's open sessions (the pool may be replenished concurrently). */
  private String session(Random r) {
    synchronized (sessions) {
      return sessions.get(r.nextInt(sessions.size()));
    }
  }

  private String badSession(Random r) {
    return switch (r.nextInt(7)) {
      case 0 -> "";
      case 1 -> randomToken(r, 32);
      case 2 -> "x".repeat(129 + r.nextInt(400));
      case 3 -> session(r) + "x";
      case 4 -> session(r).substring(1);
      case 5 -> "../../" + randomToken(r, 8);
      default -> "\u00fc" + randomToken(r, 10);
    };
  }

  private void randomHeaders(List<String[]> h, Random r) {
    int n = 1 + r.nextInt(5);
    for (int i = 0; i < n; i++) {
      switch (r.nextInt(10)) {
        case 0 -> set(h, "Origin", r.nextBoolean() ? "http://evil.example" : "http://localhost:" + r.nextInt(70000));
        case 1 -> set(h, "Authorization", r.nextBoolean() ? "Bearer " + randomToken(r, 20) : randomToken(r, 12));
        case 2 -> set(h, "Accept", pick(ACCEPTS, r));
        case 3 -> set(h, "X-Request-Id", r.nextBoolean() ? randomToken(r, 200) : randomToken(r, 16));
        case 4 -> set(h, "traceparent", "00-" + randomToken(r, 32) + "-" + randomToken(r, 16) + "-01");
        case 5 -> set(h, "Last-Event-ID", randomToken(r, 24));
        case 6 -> set(h, "X-" + randomToken(r, 8).replaceAll("[^A-Za-z0-9]", "a"), "v".repeat(r.nextInt(8000)));
        case 7 -> set(h, "Cookie", "a=" + randomToken(r, 40));
        case 8 -> set(h, "Host", r.nextBoolean() ? "evil.example" : "127.0.0.1:" + r.nextInt(70000));
        default -> set(h, "Accept-Encoding", r.nextBoolean() ? "gzip, br" : "identity;q=0");
      }
    }
  }

  byte[] toolCall(Random r) {
    String tool = tools.isEmpty() ? "x" : tools.get(r.nextInt(tools.size()));
    if (r.nextInt(8) == 0) {
      tool = r.nextBoolean() ? tool + "_" : randomToken(r, 10);
    }
    return message(r, id(r), "tools/call", "{\"name\":" + quote(tool) + ",\"arguments\":" + value(r, 2, true) + "}");
  }

  byte[] randomMessage(Random r) {
    String method = r.nextInt(6) == 0 ? randomToken(r, 12) : pick(METHODS, r);
    String params = switch (r.nextInt(6)) {
      case 0 -> null;
      case 1 -> "{\"name\":" + quote(tools.isEmpty() ? "x" : tools.get(r.nextInt(tools.size()))) + "}";
      case 2 -> "{\"uri\":" + quote(r.nextBoolean() ? "demo://resource/static/document/architecture.md"
          : "file:///" + randomToken(r, 8)) + "}";
      case 3 -> "{\"level\":" + quote(r.nextBoolean() ? "debug" : randomToken(r, 5)) + "}";
      default -> value(r, 3, true);
    };
    String id = r.nextInt(5) == 0 ? null : id(r);
    return message(r, id, method, params);
  }

  private byte[] initialize(Random r) {
    String version = r.nextInt(3) == 0 ? pick(VERSIONS, r) : "2025-11-25";
    String params = r.nextInt(4) == 0 ? value(r, 2, true)
        : "{\"protocolVersion\":" + quote(version) + ",\"capabilities\":" + value(r, 2, true)
            + ",\"clientInfo\":{\"name\":" + quote(randomToken(r, 8)) + ",\"version\":\"1\"}}";
    return message(r, id(r), "initialize", params);
  }

  private static byte[] message(Random r, String id, String method, String params) {
    StringBuilder b = new StringBuilder("{");
    switch (r.nextInt(20)) {
      case 0 -> { }
      case 1 -> b.append("\"jsonrpc\":\"1.0\",");
      case 2 -> b.append("\"jsonrpc\":2.0,");
      default -> b.append("\"jsonrpc\":\"2.0\",");
    }
    if (id != null) {
      b.append("\"id\":").append(id).append(',');
    }
    if (r.nextInt(25) == 0) {
      b.append("\"result\":{},");
    }
    b.append("\"method\":").append(r.nextInt(30) == 0 ? "7" : quote(method));
    if (params != null) {
      b.append(",\"params\":").append(params);
    }
    return b.append('}').toString().getBytes(StandardCharsets.UTF_8);
  }

  private static String id(Random r) {
    return switch (r.nextInt(10)) {
      case 0 -> quote(randomToken(r, 10));
      case 1 -> "null";
      case 2 -> "1.5";
      case 3 -> "{}";
      case 4 -> "123456789012345678901234567890";
      case 5 -> "-" + r.nextInt(1000);
      default -> Integer.toString(r.nextInt(1_000_000));
    };
  }

  /** A random JSON value; objects more likely when {@code objectish}. */
  static String value(Random r, int depth, boolean objectish) {
    int k = objectish ? 6 + r.nextInt(3) : r.nextInt(9);
    if (depth == 0 && k >= 6) {
      k = r.nextInt(6);
    }
    return switch (k) {
      case 0 -> "null";
      case 1 -> Boolean.toString(r.nextBoolean());
      case 2 -> Integer.toString(r.nextInt());
      case 3 -> Double.toString(r.nextDouble() * 1e6);
      case 4 -> quote(randomToken(r, 16));
      case 5 -> r.nextBoolean() ? "\"\"" : "1e309";
      case 6 -> {
        StringBuilder b = new StringBuilder("[");
        int n = r.nextInt(4);
        for (int i = 0; i < n; i++) {
          b.append(i == 0 ? "" : ",").append(value(r, depth - 1, false));
        }
        yield b.append(']').toString();
      }
      default -> {
        String[] keys = {"message", "a", "b", "prompt", "uri", "level", "duration", "steps", "resourceId",
            "includeImage", "messageType", "_meta", "progressToken", "name", "arguments", "cursor"};
        StringBuilder b = new StringBuilder("{");
        int n = r.nextInt(5);
        for (int i = 0; i < n; i++) {
          String key = r.nextInt(4) == 0 ? randomToken(r, 6) : keys[r.nextInt(keys.length)];
          String v = key.equals("duration") ? Integer.toString(r.nextInt(3)) : value(r, depth - 1, false);
          b.append(i == 0 ? "" : ",").append(quote(key)).append(':').append(v);
        }
        yield b.append('}').toString();
      }
    };
  }

  private byte[] huge(Random r) {
    int size = r.nextBoolean() ? maxRequestBytes + 1 + r.nextInt(1 << 20) : maxRequestBytes / 2;
    String prefix = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
        + quote(tools.isEmpty() ? "x" : tools.get(0)) + ",\"arguments\":{\"message\":\"";
    StringBuilder b = new StringBuilder(size + 64).append(prefix);
    if (r.nextInt(4) == 0) {
      b.append("[".repeat(Math.max(0, size - prefix.length())));
      return b.toString().getBytes(StandardCharsets.UTF_8);
    }
    b.append("a".repeat(Math.max(0, size - prefix.length() - 5))).append("\"}}}");
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  static byte[] damage(byte[] in, Random r) {
    byte[] out = in.clone();
    int n = 1 + r.nextInt(4);
    byte[] punct = "{}[]\":,\\".getBytes(StandardCharsets.US_ASCII);
    for (int k = 0; k < n && out.length > 0; k++) {
      int at = r.nextInt(out.length);
      switch (r.nextInt(5)) {
        case 0 -> out[at] = (byte) r.nextInt(256);
        case 1 -> out = java.util.Arrays.copyOf(out, at);
        case 2 -> out[at] = punct[r.nextInt(punct.length)];
        case 3 -> {
          byte[] deep = ("[".repeat(2000 + r.nextInt(5000))).getBytes(StandardCharsets.US_ASCII);
          byte[] joined = java.util.Arrays.copyOf(out, out.length + deep.length);
          System.arraycopy(deep, 0, joined, out.length, deep.length);
          out = joined;
        }
        default -> out = new byte[0];
      }
    }
    return out;
  }

  /** Bytes that are not (or not quite) HTTP/1.1: sent raw, each on its own connection. */
  private byte[] rawHttp(Random r) {
    String body = new String(randomMessage(r), StandardCharsets.UTF_8);
    String s = switch (r.nextInt(9)) {
      case 0 -> randomToken(r, 60) + "\r\n\r\n";
      case 1 -> "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
          + (body.length() + 50) + "\r\nConnection: close\r\n\r\n" + body;
      case 2 -> "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\nConnection: close\r\n\r\n" + body;
      case 3 -> "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json"
          + "\r\nConnection: close\r\n\r\nzz\r\n" + body + "\r\n0\r\n\r\n";
      case 4 -> "POST /mcp HTTP/1.1\r\nHost 127.0.0.1\r\nbroken header line\r\nConnection: close\r\n\r\n";
      case 5 -> "GET /" + "a".repeat(20_000) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
      case 6 -> "POST /mcp HTTP/9.9\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
      case 7 -> "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "b".repeat(70_000) + "\r\nConnection: close\r\n\r\n";
      default -> "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: " + BOTH
          + "\r\nContent-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body.substring(0, body.length() / 2);
    };
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  static String randomToken(Random r, int max) {
    String chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/+=!@#$%^&*()[]{}<>?|~ ";
    int n = r.nextInt(max + 1);
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      b.append(r.nextInt(40) == 0 ? (char) (0xa0 + r.nextInt(0x2000)) : chars.charAt(r.nextInt(chars.length())));
    }
    return b.toString();
  }

  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }

  private static String pick(String[] values, Random r) {
    return values[r.nextInt(values.length)];
  }

  private static void set(List<String[]> h, String name, String value) {
    remove(h, name);
    h.add(new String[] {name, value});
  }

  private static void remove(List<String[]> h, String name) {
    h.removeIf(x -> x[0].equalsIgnoreCase(name));
  }
}
