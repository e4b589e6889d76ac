package io.bastion.node.http;

import io.bastion.node.codemode.CodeMode;
import io.bastion.protocol.Json;
import java.util.function.Predicate;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /api/v1/code-mode?key=<name>[&group=<tool group>]} (behind the admin token): which
 * servers are reached through Code Mode, and for one key whether Code Mode is on and the stub
 * files it sees ({@link CodeMode#describe}). Without {@code key}: the servers only. With Code Mode
 * off: {@code {"enabled": false}}. An unknown key is a 404.
 */
public final class CodeModeRoutes extends AllDirectives {
  private final AdminGuard guard;
  private final CodeMode codeMode;
  private final Predicate<String> keyExists;

  /** {@code codeMode}: null when the config leaves Code Mode off. */
  public CodeModeRoutes(AdminGuard guard, CodeMode codeMode, Predicate<String> keyExists) {
    this.guard = guard;
    this.codeMode = codeMode;
    this.keyExists = keyExists;
  }

  public Route route() {
    return path(PathMatchers.segment("api").slash("v1").slash("code-mode"),
        () -> get(() -> extractRequest(r -> complete(guard.refuse(r).orElseGet(() -> {
          var q = r.getUri().query().toMap();
          return answer(q.get("key"), q.get("group"));
        })))));
  }

  private HttpResponse answer(String key, String group) {
    if (codeMode == null) {
      return EdgeResponses.json(200, Json.object().put("enabled", false));
    }
    if (key != null && !keyExists.test(key)) {
      return EdgeResponses.json(404, Json.object().put("error", "no virtual key named " + key));
    }
    var body = codeMode.describe(key, group == null || group.isBlank() ? null : group);
    if (key == null) {
      body.remove(java.util.List.of("key", "group", "active", "tools", "files"));
    }
    return EdgeResponses.json(200, body);
  }
}
