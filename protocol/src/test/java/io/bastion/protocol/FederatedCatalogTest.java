package io.bastion.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.protocol.FederatedCatalog.Entry;
import io.bastion.protocol.FederatedCatalog.Target;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

class FederatedCatalogTest {

  private static final Predicate<String> ALL_KNOWN = s -> true;

  private static ObjectNode tool(String name) {
    ObjectNode t = Json.object().put("name", name).put("description", "does " + name);
    t.putObject("inputSchema").put("type", "object");
    return t;
  }

  private static ObjectNode prompt(String name) {
    return Json.object().put("name", name).put("description", "prompt " + name);
  }

  private static ObjectNode resource(String uri) {
    return Json.object().put("uri", uri).put("name", uri).put("mimeType", "text/plain");
  }

  private static ObjectNode template(String uriTemplate) {
    return Json.object().put("uriTemplate", uriTemplate).put("name", uriTemplate);
  }

  private static UpstreamCatalog upstream(String server, String prefix, List<? extends JsonNode> tools) {
    return new UpstreamCatalog(server, prefix, List.copyOf(tools), List.of(), List.of(), List.of());
  }

  private static List<String> names(List<Entry> entries) {
    return entries.stream().map(Entry::exposed).toList();
  }

  private static UpstreamCatalog github() {
    return upstream("github", "gh", List.of(tool("search"), tool("create_issue")));
  }

  private static UpstreamCatalog files() {
    return upstream("files", "fs", List.of(tool("read"), tool("write"), tool("list.dir")));
  }

  @Test
  void mergingTwoUpstreamsQualifiesEveryNameAndSortsThem() {
    FederatedCatalog c = FederatedCatalog.build(List.of(github(), files()));

    assertThat(names(c.tools())).containsExactly(
        ToolNames.expose("fs", "list.dir"), "fs__read", "fs__write", "gh__create_issue", "gh__search");
    assertThat(names(c.tools())).isSorted();
    assertThat(c.collisions()).isEmpty();
  }

  @Test
  void theDefinitionCarriesTheExposedNameAndKeepsEverythingElse() {
    FederatedCatalog c = FederatedCatalog.build(List.of(github()));

    ObjectNode def = c.tools().stream().filter(e -> e.exposed().equals("gh__search")).findFirst().orElseThrow().definition();
    ObjectNode expected = tool("search").put("name", "gh__search");
    assertThat(def).isEqualTo(expected);
  }

  @Test
  void theOrderDoesNotDependOnTheInputOrder() {
    UpstreamCatalog a = upstream("alpha", "", List.of(tool("x"), tool("same")));
    UpstreamCatalog b = upstream("beta", "", List.of(tool("same"), tool("a")));
    UpstreamCatalog g = github();
    UpstreamCatalog f = files();
    FederatedCatalog reference = FederatedCatalog.build(List.of(a, b, g, f));

    List<UpstreamCatalog> shuffled = new ArrayList<>(List.of(a, b, g, f));
    Random random = new Random(42);
    for (int i = 0; i < 20; i++) {
      Collections.shuffle(shuffled, random);
      FederatedCatalog c = FederatedCatalog.build(shuffled);
      assertThat(c.tools()).isEqualTo(reference.tools());
      assertThat(c.collisions()).isEqualTo(reference.collisions());
    }
  }

  @Test
  void anExposedNameMapsBackToServerAndOriginalName() {
    FederatedCatalog c = FederatedCatalog.build(List.of(github(), files()));

    assertThat(c.tool("gh__search")).contains(new Target("github", "search"));
    assertThat(c.tool("fs__write")).contains(new Target("files", "write"));
    assertThat(c.tool(ToolNames.expose("fs", "list.dir"))).contains(new Target("files", "list.dir"));
    assertThat(c.tool("search")).isEmpty();
    assertThat(c.tool("gh__nope")).isEmpty();
  }

  @Test
  void aToolWhoseOwnNameContainsTheSeparatorMapsBackByTable() {
    UpstreamCatalog s = upstream("svc", "svc", List.of(tool("db__query"), tool("a__b__c")));
    UpstreamCatalog other = upstream("svc__db", "svc__db", List.of(tool("other")));

    FederatedCatalog c = FederatedCatalog.build(List.of(s, other));

    assertThat(c.tool("svc__db__query")).contains(new Target("svc", "db__query"));
    assertThat(c.tool("svc__a__b__c")).contains(new Target("svc", "a__b__c"));
    assertThat(c.tool("svc__db__other")).contains(new Target("svc__db", "other"));
  }

  @Test
  void aBareServerCollidingWithAPrefixedOneIsDisambiguatedAndReported() {
    UpstreamCatalog bare = upstream("alpha", "", List.of(tool("gh__search"), tool("plain")));

    FederatedCatalog c = FederatedCatalog.build(List.of(github(), bare));

    String renamed = ToolNames.disambiguate("gh__search", "github");
    assertThat(names(c.tools())).containsExactlyInAnyOrder("gh__search", renamed, "gh__create_issue", "plain");
    assertThat(names(c.tools())).isSorted().doesNotHaveDuplicates();
    // Servers are taken in name order: "alpha" keeps the name, "github" is renamed.
    assertThat(c.tool("gh__search")).contains(new Target("alpha", "gh__search"));
    assertThat(c.tool(renamed)).contains(new Target("github", "search"));
    assertThat(c.collisions()).hasSize(1);
    assertThat(c.collisions().get(0)).contains("gh__search", "github", "alpha", renamed);
    Entry renamedEntry = c.tools().stream().filter(e -> e.exposed().equals(renamed)).findFirst().orElseThrow();
    assertThat(renamedEntry.definition().path("name").asText()).isEqualTo(renamed);
  }

  @Test
  void twoBareServersWithTheSameToolNameAreDisambiguated() {
    UpstreamCatalog a = upstream("a", "", List.of(tool("echo")));
    UpstreamCatalog b = upstream("b", "", List.of(tool("echo")));

    FederatedCatalog c = FederatedCatalog.build(List.of(b, a));

    assertThat(c.tool("echo")).contains(new Target("a", "echo"));
    assertThat(c.tool(ToolNames.disambiguate("echo", "b"))).contains(new Target("b", "echo"));
    assertThat(c.collisions()).singleElement().asString().startsWith("tool echo of b collides with a");
  }

  @Test
  void resourcesOfAPrefixedServerAreExposedAsPrefixPlusUri() {
    UpstreamCatalog fs = new UpstreamCatalog("files", "fs", List.of(),
        List.of(resource("file:///etc/hosts"), resource("file:///a.txt")),
        List.of(template("file:///{path}")), List.of());
    UpstreamCatalog bare = new UpstreamCatalog("everything", "", List.of(),
        List.of(resource("test://static/1")), List.of(), List.of());

    FederatedCatalog c = FederatedCatalog.build(List.of(fs, bare));

    assertThat(names(c.resources())).containsExactly("fs+file:///a.txt", "fs+file:///etc/hosts", "test://static/1");
    assertThat(c.resources().get(0).definition().path("uri").asText()).isEqualTo("fs+file:///a.txt");
    assertThat(c.resources().get(0).definition().path("mimeType").asText()).isEqualTo("text/plain");
    assertThat(c.resources().get(0).target()).isEqualTo(new Target("files", "file:///a.txt"));
    assertThat(names(c.resourceTemplates())).containsExactly("fs+file:///{path}");
    assertThat(c.resourceTemplates().get(0).definition().path("uriTemplate").asText()).isEqualTo("fs+file:///{path}");
    assertThat(c.exposedUri("files", "file:///x")).isEqualTo("fs+file:///x");
    assertThat(c.exposedUri("everything", "test://x")).isEqualTo("test://x");
    assertThat(c.prefixOf("files")).isEqualTo("fs");
    assertThat(FederatedCatalog.exposeUri("", "u://x")).isEqualTo("u://x");
  }

  @Test
  void aDuplicateExposedUriIsHiddenAndReported() {
    UpstreamCatalog a = new UpstreamCatalog("a", "", List.of(), List.of(resource("test://same")), List.of(), List.of());
    UpstreamCatalog b = new UpstreamCatalog("b", "", List.of(), List.of(resource("test://same")), List.of(), List.of());

    FederatedCatalog c = FederatedCatalog.build(List.of(b, a));

    assertThat(c.resources()).singleElement().extracting(Entry::target).isEqualTo(new Target("a", "test://same"));
    assertThat(c.collisions()).singleElement().asString().contains("test://same", "hidden by a");
  }

  private static FederatedCatalog routingCatalog() {
    UpstreamCatalog fs = new UpstreamCatalog("files", "fs", List.of(),
        List.of(resource("file:///listed.txt")), List.of(), List.of());
    UpstreamCatalog everything = new UpstreamCatalog("everything", "", List.of(),
        List.of(resource("test://static/1")), List.of(template("test://template/{id}/data")), List.of());
    UpstreamCatalog other = new UpstreamCatalog("other", "", List.of(),
        List.of(resource("other://x")), List.of(template("other://item/{id}")), List.of());
    return FederatedCatalog.build(List.of(fs, everything, other));
  }

  @Test
  void aListedUriRoutesExactly() {
    FederatedCatalog c = routingCatalog();

    assertThat(c.resource("fs+file:///listed.txt", ALL_KNOWN)).contains(new Target("files", "file:///listed.txt"));
    assertThat(c.resource("test://static/1", ALL_KNOWN)).contains(new Target("everything", "test://static/1"));
    assertThat(c.resource("other://x", ALL_KNOWN)).contains(new Target("other", "other://x"));
  }

  @Test
  void anUnlistedUriRoutesByItsPrefix() {
    FederatedCatalog c = routingCatalog();

    assertThat(c.resource("fs+file:///never/listed.txt", ALL_KNOWN))
        .contains(new Target("files", "file:///never/listed.txt"));
    assertThat(c.resource("fs+x+y", ALL_KNOWN)).contains(new Target("files", "x+y"));
  }

  @Test
  void anUnlistedUriRoutesByATemplateOfABareServer() {
    FederatedCatalog c = routingCatalog();

    assertThat(c.resource("test://template/42/data", ALL_KNOWN)).contains(new Target("everything", "test://template/42/data"));
    assertThat(c.resource("other://item/7", ALL_KNOWN)).contains(new Target("other", "other://item/7"));
  }

  @Test
  void aTemplateVariableMatchesOneSegmentOnly() {
    FederatedCatalog c = routingCatalog();

    // Two bare servers and no template matches: nothing owns these.
    assertThat(c.resource("test://template/4/2/data", ALL_KNOWN)).isEmpty();
    assertThat(c.resource("test://template//data", ALL_KNOWN)).isEmpty();
    assertThat(c.resource("test://template/42/data/more", ALL_KNOWN)).isEmpty();
    assertThat(FederatedCatalog.templateMatches("a://{x}/b.{ext}", "a://1/b.txt")).isTrue();
    assertThat(FederatedCatalog.templateMatches("a://x.y/{id}", "a://xzy/1")).isFalse();
    assertThat(FederatedCatalog.templateMatches("a://{broken", "a://{broken")).isFalse();
  }

  @Test
  void aTemplateOfAnUnknownServerDoesNotRoute() {
    FederatedCatalog c = routingCatalog();

    Predicate<String> onlyOther = Set.of("files", "other")::contains;
    // "everything" is not known: its template is skipped, and "other" is then the only bare server.
    assertThat(c.resource("test://template/42/data", onlyOther)).contains(new Target("other", "test://template/42/data"));
    assertThat(c.resource("test://template/42/data", s -> false)).isEmpty();
  }

  @Test
  void theOnlyBareServerIsTheFallback() {
    UpstreamCatalog fs = new UpstreamCatalog("files", "fs", List.of(), List.of(resource("file:///a")), List.of(), List.of());
    UpstreamCatalog everything = new UpstreamCatalog("everything", "", List.of(), List.of(), List.of(), List.of());

    FederatedCatalog c = FederatedCatalog.build(List.of(fs, everything));

    assertThat(c.resource("whatever://thing", ALL_KNOWN)).contains(new Target("everything", "whatever://thing"));
  }

  @Test
  void nothingOwnsAUriWhenThereAreOnlyPrefixedServersOrSeveralBareOnes() {
    FederatedCatalog prefixedOnly = FederatedCatalog.build(List.of(
        new UpstreamCatalog("files", "fs", List.of(), List.of(resource("file:///a")), List.of(), List.of())));
    assertThat(prefixedOnly.resource("file:///a", ALL_KNOWN)).isEmpty();
    assertThat(prefixedOnly.resource("gh+file:///a", ALL_KNOWN)).isEmpty();

    assertThat(routingCatalog().resource("unknown://thing", ALL_KNOWN)).isEmpty();
    assertThat(FederatedCatalog.EMPTY.resource("test://x", ALL_KNOWN)).isEmpty();
  }

  @Test
  void serversSharingAPrefixRouteAnUnlistedUriToTheFirstByNameEveryTime() {
    // The config only warns about duplicate prefixes, so the catalog must still route deterministically
    // (every node must pick the same server): the first server in name order wins, as for name collisions.
    List<UpstreamCatalog> upstreams = new ArrayList<>();
    for (char ch = 'z'; ch >= 'a'; ch--) {
      upstreams.add(UpstreamCatalog.empty("srv-" + ch, "p"));
    }

    FederatedCatalog c = FederatedCatalog.build(upstreams);

    assertThat(c.resource("p+x://unlisted", ALL_KNOWN)).contains(new Target("srv-a", "x://unlisted"));
  }

  @Test
  void aNullPrefixMeansBareNames() {
    UpstreamCatalog u = new UpstreamCatalog("bare", null, List.of(tool("echo")), List.of(resource("test://r")),
        List.of(), List.of());

    FederatedCatalog c = FederatedCatalog.build(List.of(u));

    assertThat(u.prefix()).isEmpty();
    assertThat(c.tool("echo")).contains(new Target("bare", "echo"));
    assertThat(c.resource("test://unlisted", ALL_KNOWN)).contains(new Target("bare", "test://unlisted"));
    assertThat(ToolNames.expose(null, "a.b")).isEqualTo(ToolNames.expose("", "a.b"));
  }

  @Test
  void promptsAreQualifiedAndMapBack() {
    UpstreamCatalog gh = new UpstreamCatalog("github", "gh", List.of(), List.of(), List.of(),
        List.of(prompt("review"), prompt("summarize.pr")));
    UpstreamCatalog bare = new UpstreamCatalog("alpha", "", List.of(), List.of(), List.of(), List.of(prompt("gh__review")));

    FederatedCatalog c = FederatedCatalog.build(List.of(gh, bare));

    String summarize = ToolNames.expose("gh", "summarize.pr");
    String renamed = ToolNames.disambiguate("gh__review", "github");
    assertThat(names(c.prompts())).containsExactlyInAnyOrder("gh__review", renamed, summarize).isSorted();
    assertThat(c.prompt("gh__review")).contains(new Target("alpha", "gh__review"));
    assertThat(c.prompt(renamed)).contains(new Target("github", "review"));
    assertThat(c.prompt(summarize)).contains(new Target("github", "summarize.pr"));
    assertThat(c.prompt("review")).isEmpty();
    assertThat(c.collisions()).singleElement().asString().startsWith("prompt gh__review of github");
    // Prompt names and tool names live in separate spaces.
    assertThat(c.tool("gh__review")).isEmpty();
  }

  @Test
  void definitionsAreDeepCopiesOfTheInput() {
    ObjectNode t = tool("search");
    ObjectNode p = prompt("review");
    ObjectNode r = resource("file:///a");
    ObjectNode tpl = template("file:///{x}");
    List<ObjectNode> mutableTools = new ArrayList<>(List.of(t));
    UpstreamCatalog u = new UpstreamCatalog("github", "gh", List.copyOf(mutableTools), List.of(r), List.of(tpl), List.of(p));
    FederatedCatalog c = FederatedCatalog.build(List.of(u));
    String before = Json.write(c.tools().get(0).definition());

    t.put("name", "changed");
    ((ObjectNode) t.get("inputSchema")).put("type", "string");
    t.put("description", "changed");
    p.put("description", "changed");
    r.put("mimeType", "changed");
    tpl.put("name", "changed");
    mutableTools.add(tool("late"));

    assertThat(Json.write(c.tools().get(0).definition())).isEqualTo(before);
    assertThat(c.tools().get(0).definition().path("inputSchema").path("type").asText()).isEqualTo("object");
    assertThat(c.tools()).hasSize(1);
    assertThat(c.tool("gh__search")).contains(new Target("github", "search"));
    assertThat(c.prompts().get(0).definition().path("description").asText()).isEqualTo("prompt review");
    assertThat(c.resources().get(0).definition().path("mimeType").asText()).isEqualTo("text/plain");
    assertThat(c.resourceTemplates().get(0).definition().path("name").asText()).isEqualTo("file:///{x}");
    // ...and building never mutates the input.
    assertThat(r.path("uri").asText()).isEqualTo("file:///a");
    assertThat(tpl.path("uriTemplate").asText()).isEqualTo("file:///{x}");
  }

  @Test
  void entriesWithoutANameOrUriAreSkipped() {
    UpstreamCatalog u = new UpstreamCatalog("s", "s", List.of(Json.object().put("description", "nameless"),
        tool(""), tool("ok")), List.of(Json.object().put("name", "no uri")), List.of(Json.object()), List.of());

    FederatedCatalog c = FederatedCatalog.build(List.of(u));

    assertThat(names(c.tools())).containsExactly("s__ok");
    assertThat(c.resources()).isEmpty();
    assertThat(c.resourceTemplates()).isEmpty();
  }

  @Test
  void theCatalogListsAreImmutable() {
    FederatedCatalog c = FederatedCatalog.build(List.of(github()));

    assertThatThrownBy(() -> c.tools().clear()).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> c.collisions().add("x")).isInstanceOf(UnsupportedOperationException.class);
    assertThat(c.tools()).hasSize(2);
  }
}
