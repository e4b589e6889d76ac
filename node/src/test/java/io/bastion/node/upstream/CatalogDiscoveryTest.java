package io.bastion.node.upstream;

import io.bastion.node.testkit.McpHttp;

import static org.assertj.core.api.Assertions.assertThat;

import io.bastion.protocol.Methods;
import io.bastion.protocol.UpstreamCatalog;
import org.junit.jupiter.api.Test;

class CatalogDiscoveryTest {


  @Test
  void listsEveryPageOfEveryDeclaredKindInOrder() {
    CatalogDiscovery d = new CatalogDiscovery("s", "p", McpHttp.json("{\"tools\":{},\"resources\":{},\"prompts\":{}}"), true);
    assertThat(d.next().method()).isEqualTo(Methods.TOOLS_LIST);
    assertThat(d.next().params().has("cursor")).isFalse();
    assertThat(d.accept(McpHttp.json("{\"result\":{\"tools\":[{\"name\":\"a\"}],\"nextCursor\":\"c2\"}}"))).isNull();
    assertThat(d.next().method()).isEqualTo(Methods.TOOLS_LIST);
    assertThat(d.next().params().get("cursor").asText()).isEqualTo("c2");
    assertThat(d.accept(McpHttp.json("{\"result\":{\"tools\":[{\"name\":\"b\"}]}}"))).isNull();
    assertThat(d.next().method()).isEqualTo(Methods.RESOURCES_LIST);
    assertThat(d.next().params().has("cursor")).isFalse();
    assertThat(d.accept(McpHttp.json("{\"result\":{\"resources\":[{\"uri\":\"r\"}],\"nextCursor\":\"\"}}"))).isNull();
    assertThat(d.next().method()).isEqualTo(Methods.RESOURCES_TEMPLATES_LIST);
    assertThat(d.accept(McpHttp.json("{\"result\":{\"resourceTemplates\":[{\"uriTemplate\":\"t\"}]}}"))).isNull();
    assertThat(d.next().method()).isEqualTo(Methods.PROMPTS_LIST);
    assertThat(d.accept(McpHttp.json("{\"result\":{\"prompts\":[{\"name\":\"q\"}]}}"))).isNull();
    assertThat(d.next()).isNull();
    UpstreamCatalog c = d.catalog();
    assertThat(c.server()).isEqualTo("s");
    assertThat(c.prefix()).isEqualTo("p");
    assertThat(c.tools()).extracting(t -> t.get("name").asText()).containsExactly("a", "b");
    assertThat(c.resources()).hasSize(1);
    assertThat(c.resourceTemplates()).hasSize(1);
    assertThat(c.prompts()).hasSize(1);
    assertThat(d.initial()).isTrue();
  }

  @Test
  void asksOnlyForDeclaredCapabilities() {
    assertThat(new CatalogDiscovery("s", "", null, false).next()).isNull();
    CatalogDiscovery d = new CatalogDiscovery("s", "", McpHttp.json("{\"prompts\":{}}"), false);
    assertThat(d.next().method()).isEqualTo(Methods.PROMPTS_LIST);
  }

  @Test
  void anUnknownMethodIsAnEmptyListAndOtherErrorsFail() {
    CatalogDiscovery d = new CatalogDiscovery("s", "", McpHttp.json("{\"tools\":{},\"resources\":{}}"), true);
    assertThat(d.accept(McpHttp.json("{\"error\":{\"code\":-32601,\"message\":\"nope\"}}"))).isNull();
    assertThat(d.next().method()).isEqualTo(Methods.RESOURCES_LIST);
    assertThat(d.accept(McpHttp.json("{\"error\":{\"code\":-32603,\"message\":\"boom\"}}")))
        .isEqualTo("resources/list failed: boom (-32603)");
  }
}
