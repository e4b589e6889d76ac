package io.bastion.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UrlsTest {

  @Test
  void userinfoIsMaskedAndHostPortPathKept() {
    assertThat(Urls.redact(URI.create("https://alice:s3cret@mcp.example.com:8443/v1/mcp")))
        .isEqualTo("https://***@mcp.example.com:8443/v1/mcp");
    assertThat(Urls.redact(URI.create("http://token-only@h/")))
        .isEqualTo("http://***@h/");
  }

  @Test
  void queryValuesAreMaskedAndParameterNamesKept() {
    assertThat(Urls.redact(URI.create("https://h/mcp?api_key=abc123&region=eu&flag")))
        .isEqualTo("https://h/mcp?api_key=***&region=***&flag");
    assertThat(Urls.redact(URI.create("http://u:p@127.0.0.1:9/x?token=secret123#frag-secret")))
        .isEqualTo("http://***@127.0.0.1:9/x?token=***#***");
  }

  @Test
  void aUrlWithoutSecretsIsUnchanged() {
    for (String u : List.of("http://127.0.0.1:8080/mcp", "https://example.com", "https://example.com/a/b%20c")) {
      assertThat(Urls.redact(URI.create(u))).isEqualTo(u);
    }
  }

  @Test
  void ipv6HostsKeepTheirBracketsAndPort() {
    assertThat(Urls.redact(URI.create("http://[::1]:8080/mcp?key=v")))
        .isEqualTo("http://[::1]:8080/mcp?key=***");
    assertThat(Urls.redact(URI.create("https://bob:pw@[2001:db8::7]/sse")))
        .isEqualTo("https://***@[2001:db8::7]/sse");
  }

  @Test
  void malformedTextIsStillMasked() {
    // Spaces and a bare '%' make these invalid URIs: the textual fallback must still hide secrets.
    assertThat(Urls.redact("https://alice:pa ss@host/p?api_key=abc 123"))
        .doesNotContain("alice").doesNotContain("pa ss").doesNotContain("abc")
        .contains("***@host/p").contains("api_key=***");
    assertThat(Urls.redact("http://h/%zz?token=secret123")).isEqualTo("http://h/%zz?token=***");
    assertThat(Urls.redact("not a url")).isEqualTo("not a url");
    assertThat(Urls.redact((String) null)).isNull();
    assertThat(Urls.redact((URI) null)).isNull();
  }

  @Test
  void scrubReplacesTheUrlAndItsSecretsInsideFreeText() {
    URI url = URI.create("http://user:pw@127.0.0.1:9/mcp?token=secret123");
    String text = "cannot reach " + url + ": Tcp command failed for user:pw@127.0.0.1:9 with token=secret123";
    String scrubbed = Urls.scrub(text, url);
    assertThat(scrubbed).doesNotContain("secret123").doesNotContain("user:pw")
        .contains("http://***@127.0.0.1:9/mcp?token=***");
    assertThat(Urls.scrub(null, url)).isNull();
    assertThat(Urls.scrub("plain", null)).isEqualTo("plain");
  }

  @Test
  void serverConfigToStringAndConfigErrorsDoNotShowSecrets() {
    ServerConfig c = ServerConfig.remote("s", TransportType.HTTP, URI.create("https://u:p4ss@h/mcp?k=v4lue"));
    assertThat(c.toString()).doesNotContain("p4ss").doesNotContain("v4lue").contains("https://***@h/mcp?k=***");

    var problems = Yaml.problems("""
        mcp:
          servers:
            - {name: s, type: http, url: "ftp://bob:hunter2@x/?key=topsecret"}
        """);
    assertThat(String.join("\n", problems)).contains("expected an http(s) URL")
        .doesNotContain("hunter2").doesNotContain("topsecret");
  }
}
