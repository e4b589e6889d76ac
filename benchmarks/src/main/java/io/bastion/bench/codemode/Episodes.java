package io.bastion.bench.codemode;

import static io.bastion.bench.codemode.Episode.call;
import static io.bastion.bench.codemode.Episode.json;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.bench.codemode.Episode.Agent;
import io.bastion.bench.codemode.Episode.Call;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The scripted episodes: simple (one call), multi-step (a few dependent calls, across servers)
 * and loops over many items. {@code ns} keeps the memory entities and written files of one run
 * (mode and catalog) apart from the others'.
 */
public final class Episodes {
  private Episodes() {}

  private static final String[] CREATE_DOCS = {"memory", "create_entities"};

  /** Every episode, for one run. */
  public static List<Episode> all(Workspace ws, String ns) {
    List<Episode> out = new ArrayList<>();
    int[][] pairs = {{2, 3}, {17, 25}, {100, 250}, {7, 8}, {41, 1}};
    for (int[] p : pairs) {
      out.add(new Episode("sum-" + p[0] + "-" + p[1], "simple", "What is " + p[0] + " + " + p[1] + "? Use the sum tool.",
          List.of("everything"), List.of(), """
          text = everything.get_sum(a=%d, b=%d)
          result = int(text.split(" is ")[1].rstrip("."))
          """.formatted(p[0], p[1]),
          a -> json(sumOf(a.one("everything", "get-sum", "a", p[0], "b", p[1]))), json(p[0] + p[1])));
    }
    for (String m : List.of("hello", "code mode", "bastion gateway", "sixty episodes")) {
      out.add(new Episode("echo-" + m.replace(' ', '-'), "simple", "Echo \"" + m + "\" and tell me what came back.",
          List.of("everything"), List.of(), "result = everything.echo(message=\"%s\")\n".formatted(m),
          a -> a.one("everything", "echo", "message", m), json("Echo: " + m)));
    }
    for (int n : new int[] {3, 7, 11, 15, 19}) {
      String path = ws.path("notes/" + Workspace.noteName(n));
      out.add(new Episode("note-value-" + n, "simple", "What is the value in " + path + "?", List.of("filesystem"),
          List.of(), readValue("text", path) + "result = v_text\n",
          a -> json(valueIn(content(a.one("filesystem", "read_text_file", "path", path)))), json(Workspace.value(n))));
    }
    String readme = ws.path("docs/readme.md");
    out.add(new Episode("readme-title", "simple", "What is the first line of " + readme + "?", List.of("filesystem"),
        List.of(), "result = filesystem.read_text_file(path=\"%s\")[\"content\"].split(\"\\n\")[0]\n".formatted(readme),
        a -> json(content(a.one("filesystem", "read_text_file", "path", readme)).split("\n")[0]),
        json(Workspace.README_FIRST_LINE)));
    String deep = ws.path("nested/a/b/c/deep.txt");
    out.add(new Episode("deep-treasure", "simple", "What number is the treasure in " + deep + "?", List.of("filesystem"),
        List.of(), "result = int(filesystem.read_text_file(path=\"%s\")[\"content\"].strip().split(\": \")[1])\n"
            .formatted(deep),
        a -> json(Integer.parseInt(content(a.one("filesystem", "read_text_file", "path", deep)).strip().split(": ")[1])),
        json(Workspace.TREASURE)));
    for (int n : new int[] {2, 9, 14}) {
      String path = ws.path("notes/" + Workspace.noteName(n));
      out.add(new Episode("file-size-" + n, "simple", "How many bytes is " + path + "?", List.of("filesystem"), List.of(),
          """
          info = filesystem.get_file_info(path="%s")["content"]
          result = [int(l[6:]) for l in info.split("\\n") if l.startswith("size: ")][0]
          """.formatted(path),
          a -> json(lineValue(content(a.one("filesystem", "get_file_info", "path", path)), "size: ")),
          json(Workspace.noteText(n).getBytes(java.nio.charset.StandardCharsets.UTF_8).length)));
    }
    String notesDir = ws.path("notes");
    out.add(new Episode("count-notes", "simple", "How many files are in " + notesDir + "?", List.of("filesystem"),
        List.of(), """
        listing = filesystem.list_directory(path="%s")["content"]
        result = len([l for l in listing.split("\\n") if l.startswith("[FILE]")])
        """.formatted(notesDir),
        a -> json(content(a.one("filesystem", "list_directory", "path", notesDir)).lines()
            .filter(l -> l.startsWith("[FILE]")).count()), json(Workspace.NOTES)));
    String dataDir = ws.path("data");
    out.add(new Episode("list-data", "simple", "Which files are in " + dataDir + "?", List.of("filesystem"), List.of(),
        """
        listing = filesystem.list_directory(path="%s")["content"]
        result = [l[7:] for l in listing.split("\\n") if l.startswith("[FILE]")]
        """.formatted(dataDir),
        a -> json(content(a.one("filesystem", "list_directory", "path", dataDir)).lines()
            .filter(l -> l.startsWith("[FILE]")).map(l -> l.substring(7)).toList()), json(List.of("orders.csv"))));
    String orders = ws.path("data/orders.csv");
    for (String c : Workspace.CUSTOMERS) {
      int total = 0;
      for (int i = 1; i <= Workspace.ORDERS; i++) {
        total += Workspace.customer(i).equals(c) ? Workspace.amount(i) : 0;
      }
      out.add(new Episode("orders-" + c, "simple", "What is the total amount of " + c + "'s orders in " + orders + "?",
          List.of("filesystem"), List.of(), """
          rows = filesystem.read_text_file(path="%s")["content"].strip().split("\\n")[1:]
          total = 0
          for r in rows:
              if r.split(",")[1] == "%s":
                  total += int(r.split(",")[2])
          result = total
          """.formatted(orders, c),
          a -> {
            int t = 0;
            for (String r : content(a.one("filesystem", "read_text_file", "path", orders)).strip().split("\n")) {
              String[] f = r.split(",");
              t += f[1].equals(c) ? Integer.parseInt(f[2]) : 0;
            }
            return json(t);
          }, json(total)));
    }
    out.add(new Episode("fixture-text", "simple", "What does the fixture's simple text tool say?", List.of("fixture"),
        List.of(), "result = fixture.test_simple_text()\n", a -> a.one("fixture", "test_simple_text"),
        json("This is a simple text response for testing.")));

    // ------------------------------------------------------------ multi-step
    int[][] notePairs = {{1, 2}, {3, 4}, {5, 6}, {7, 8}, {9, 10}};
    for (int[] p : notePairs) {
      String pa = ws.path("notes/" + Workspace.noteName(p[0]));
      String pb = ws.path("notes/" + Workspace.noteName(p[1]));
      out.add(new Episode("note-sum-" + p[0] + "-" + p[1], "multi-step", "Add the values of " + pa + " and " + pb
          + " with the sum tool.", List.of("filesystem", "everything"), List.of(),
          readValue("a", pa) + readValue("b", pb) + """
          text = everything.get_sum(a=v_a, b=v_b)
          result = int(text.split(" is ")[1].rstrip("."))
          """,
          a -> {
            List<JsonNode> r = a.turn(List.of(call("filesystem", "read_text_file", "path", pa),
                call("filesystem", "read_text_file", "path", pb)));
            return json(sumOf(a.one("everything", "get-sum", "a", valueIn(content(r.get(0))), "b",
                valueIn(content(r.get(1))))));
          }, json(Workspace.value(p[0]) + Workspace.value(p[1]))));
    }
    for (int n : new int[] {4, 12, 17}) {
      String path = ws.path("notes/" + Workspace.noteName(n));
      out.add(new Episode("note-echo-" + n, "multi-step", "Echo \"value=<the value in " + path + ">\".",
          List.of("filesystem", "everything"), List.of(),
          readValue("n", path) + "result = everything.echo(message=\"value=\" + str(v_n))\n",
          a -> a.one("everything", "echo", "message",
              "value=" + valueIn(content(a.one("filesystem", "read_text_file", "path", path)))),
          json("Echo: value=" + Workspace.value(n))));
    }
    for (int k = 1; k <= 3; k++) {
      String file = ws.path("out/" + ns + "/greeting-" + k + ".txt");
      String text = "hello " + k + " from " + ns;
      out.add(new Episode("write-read-" + k, "multi-step", "Write \"" + text + "\" to " + file + " and read it back.",
          List.of("filesystem"), List.of(), """
          filesystem.create_directory(path="%s")
          filesystem.write_file(path="%s", content="%s")
          result = filesystem.read_text_file(path="%s")["content"]
          """.formatted(ws.path("out/" + ns), file, text, file),
          a -> {
            a.one("filesystem", "create_directory", "path", ws.path("out/" + ns));
            a.one("filesystem", "write_file", "path", file, "content", text);
            return json(content(a.one("filesystem", "read_text_file", "path", file)));
          }, json(text)));
    }
    for (int k = 1; k <= 3; k++) {
      String name = ns + "-project-" + k;
      List<String> obs = new ArrayList<>();
      for (int i = 1; i <= k + 1; i++) {
        obs.add("milestone " + i);
      }
      out.add(new Episode("memory-observations-" + k, "multi-step", "Record project " + name + " with milestones "
          + obs + ", then tell me how many observations memory has for it.", List.of("memory"), List.<String[]>of(CREATE_DOCS),
          """
          memory.create_entities(entities=[{"name": "%s", "entityType": "project", "observations": %s}])
          result = len(memory.open_nodes(names=["%s"])["entities"][0]["observations"])
          """.formatted(name, json(obs), name),
          a -> {
            a.one("memory", "create_entities", "entities", List.of(Map.of("name", name, "entityType", "project",
                "observations", obs)));
            return json(a.one("memory", "open_nodes", "names", List.of(name)).path("entities").get(0)
                .path("observations").size());
          }, json(obs.size())));
    }
    for (int k = 1; k <= 3; k++) {
      String from = ns + "-service-" + k;
      String to = ns + "-database-" + k;
      out.add(new Episode("memory-relation-" + k, "multi-step", "Record that " + from + " depends_on " + to
          + " and read back the relation types between them.", List.of("memory"),
          List.of(CREATE_DOCS, new String[] {"memory", "create_relations"}), """
          memory.create_entities(entities=[{"name": "%1$s", "entityType": "service", "observations": []},
                                           {"name": "%2$s", "entityType": "database", "observations": []}])
          memory.create_relations(relations=[{"from": "%1$s", "to": "%2$s", "relationType": "depends_on"}])
          result = [r["relationType"] for r in memory.open_nodes(names=["%1$s", "%2$s"])["relations"]]
          """.formatted(from, to),
          a -> {
            a.one("memory", "create_entities", "entities", List.of(
                Map.of("name", from, "entityType", "service", "observations", List.of()),
                Map.of("name", to, "entityType", "database", "observations", List.of())));
            a.one("memory", "create_relations", "relations", List.of(Map.of("from", from, "to", to,
                "relationType", "depends_on")));
            List<String> types = new ArrayList<>();
            a.one("memory", "open_nodes", "names", List.of(from, to)).path("relations")
                .forEach(r -> types.add(r.path("relationType").asText()));
            return json(types);
          }, json(List.of("depends_on"))));
    }
    for (int k = 1; k <= 2; k++) {
      String name = ns + "-diary-" + k;
      out.add(new Episode("memory-add-observations-" + k, "multi-step", "Create " + name + " noting \"started\", add"
          + " \"halfway\" and \"done\", and list its observations.", List.of("memory"),
          List.of(CREATE_DOCS, new String[] {"memory", "add_observations"}), """
          memory.create_entities(entities=[{"name": "%1$s", "entityType": "diary", "observations": ["started"]}])
          memory.add_observations(observations=[{"entityName": "%1$s", "contents": ["halfway", "done"]}])
          result = memory.open_nodes(names=["%1$s"])["entities"][0]["observations"]
          """.formatted(name),
          a -> {
            a.one("memory", "create_entities", "entities", List.of(Map.of("name", name, "entityType", "diary",
                "observations", List.of("started"))));
            a.one("memory", "add_observations", "observations", List.of(Map.of("entityName", name, "contents",
                List.of("halfway", "done"))));
            return a.one("memory", "open_nodes", "names", List.of(name)).path("entities").get(0).path("observations");
          }, json(List.of("started", "halfway", "done"))));
    }

    // ------------------------------------------------------------ loops
    for (int k : new int[] {5, 10, 15, 20}) {
      int total = Workspace.notes(k).stream().mapToInt(Workspace::value).sum();
      out.add(new Episode("sum-notes-" + k, "loop", "Sum the values of notes 1 to " + k + " in " + notesDir + ".",
          List.of("filesystem"), List.of(), """
          total = 0
          for i in range(1, %d):
              text = filesystem.read_text_file(path="%s/note-" + ("0" if i < 10 else "") + str(i) + ".txt")["content"]
              total += [int(l[7:]) for l in text.split("\\n") if l.startswith("value: ")][0]
          result = total
          """.formatted(k + 1, notesDir),
          a -> json(readNotes(a, ws, k).values().stream().mapToInt(t -> valueIn(t)).sum()), json(total)));
    }
    for (int k : new int[] {8, 12, 20}) {
      int best = 1;
      for (int i = 1; i <= k; i++) {
        best = Workspace.value(i) > Workspace.value(best) ? i : best;
      }
      out.add(new Episode("max-note-" + k, "loop", "Which of notes 1 to " + k + " has the largest value, and what is it?",
          List.of("filesystem"), List.of(), """
          best = None
          for i in range(1, %d):
              name = "note-" + ("0" if i < 10 else "") + str(i) + ".txt"
              text = filesystem.read_text_file(path="%s/" + name)["content"]
              v = [int(l[7:]) for l in text.split("\\n") if l.startswith("value: ")][0]
              if best == None or v > best["value"]:
                  best = {"note": name, "value": v}
          result = best
          """.formatted(k + 1, notesDir),
          a -> {
            Map<String, Object> b = null;
            for (Map.Entry<String, String> e : readNotes(a, ws, k).entrySet()) {
              int v = valueIn(e.getValue());
              if (b == null || v > (int) b.get("value")) {
                b = Map.of("note", e.getKey(), "value", v);
              }
            }
            return json(b);
          }, json(Map.of("note", Workspace.noteName(best), "value", Workspace.value(best)))));
    }
    for (String tag : Workspace.TAGS) {
      List<String> with = Workspace.notes(Workspace.NOTES).stream().filter(i -> Workspace.tag(i).equals(tag))
          .map(Workspace::noteName).toList();
      out.add(new Episode("tag-" + tag, "loop", "Which notes in " + notesDir + " are tagged " + tag + "?",
          List.of("filesystem"), List.of(), """
          found = []
          for i in range(1, %d):
              name = "note-" + ("0" if i < 10 else "") + str(i) + ".txt"
              text = filesystem.read_text_file(path="%s/" + name)["content"]
              tags = [l[6:].split(", ") for l in text.split("\\n") if l.startswith("tags: ")][0]
              if "%s" in tags:
                  found.append(name)
          result = found
          """.formatted(Workspace.NOTES + 1, notesDir, tag),
          a -> {
            List<String> f = new ArrayList<>();
            readNotes(a, ws, Workspace.NOTES).forEach((name, text) -> {
              if (List.of(text.lines().filter(l -> l.startsWith("tags: ")).findFirst().orElse("tags: ").substring(6)
                  .split(", ")).contains(tag)) {
                f.add(name);
              }
            });
            return json(f);
          }, json(with)));
    }
    for (int k : new int[] {5, 10, 20}) {
      int total = 0;
      for (int i = 1; i <= k; i++) {
        total += i + i * i;
      }
      out.add(new Episode("sum-squares-" + k, "loop", "Use the sum tool to add i and i*i for i = 1.." + k
          + ", and total the results.", List.of("everything"), List.of(), """
          total = 0
          for i in range(1, %d):
              text = everything.get_sum(a=i, b=i * i)
              total += int(text.split(" is ")[1].rstrip("."))
          result = total
          """.formatted(k + 1),
          a -> {
            List<Call> calls = new ArrayList<>();
            for (int i = 1; i <= k; i++) {
              calls.add(call("everything", "get-sum", "a", i, "b", i * i));
            }
            return json(a.turn(calls).stream().mapToInt(Episodes::sumOf).sum());
          }, json(total)));
    }
    for (int k : new int[] {3, 6, 12}) {
      String prefix = ns + "-team" + k + "-";
      out.add(new Episode("people-" + k, "loop", "Read " + ws.path("people.txt") + ", record the first " + k
          + " people in memory as " + prefix + "<name>, then tell me how many memory finds and the first one.",
          List.of("filesystem", "memory"), List.<String[]>of(CREATE_DOCS), """
          people = filesystem.read_text_file(path="%s")["content"].strip().split("\\n")[:%d]
          for p in people:
              memory.create_entities(entities=[{"name": "%s" + p, "entityType": "person", "observations": []}])
          found = [e["name"] for e in memory.search_nodes(query="%s")["entities"]]
          result = {"count": len(found), "first": sorted(found)[0]}
          """.formatted(ws.path("people.txt"), k, prefix, prefix),
          a -> {
            List<String> people = List.of(content(a.one("filesystem", "read_text_file", "path", ws.path("people.txt")))
                .strip().split("\n")).subList(0, k);
            List<Call> calls = new ArrayList<>();
            for (String p : people) {
              calls.add(call("memory", "create_entities", "entities", List.of(Map.of("name", prefix + p,
                  "entityType", "person", "observations", List.of()))));
            }
            a.turn(calls);
            List<String> found = new ArrayList<>();
            a.one("memory", "search_nodes", "query", prefix).path("entities").forEach(e -> found.add(e.path("name").asText()));
            return json(Map.of("count", found.size(), "first", found.stream().sorted().findFirst().orElse("")));
          }, json(Map.of("count", k, "first", prefix + Workspace.PEOPLE.subList(0, k).stream().sorted().findFirst()
              .orElseThrow()))));
    }
    for (int k : new int[] {5, 10}) {
      String dir = ws.path("out/" + ns + "/batch-" + k);
      out.add(new Episode("write-batch-" + k, "loop", "Write " + k + " files file-1.txt.. into " + dir
          + " and count the files there.", List.of("filesystem"), List.of(), """
          filesystem.create_directory(path="%1$s")
          for i in range(1, %2$d):
              filesystem.write_file(path="%1$s/file-" + str(i) + ".txt", content="file " + str(i))
          listing = filesystem.list_directory(path="%1$s")["content"]
          result = len([l for l in listing.split("\\n") if l.startswith("[FILE]")])
          """.formatted(dir, k + 1),
          a -> {
            a.one("filesystem", "create_directory", "path", dir);
            List<Call> calls = new ArrayList<>();
            for (int i = 1; i <= k; i++) {
              calls.add(call("filesystem", "write_file", "path", dir + "/file-" + i + ".txt", "content", "file " + i));
            }
            a.turn(calls);
            return json(content(a.one("filesystem", "list_directory", "path", dir)).lines()
                .filter(l -> l.startsWith("[FILE]")).count());
          }, json(k)));
    }
    for (int k : new int[] {4, 8}) {
      String prefix = ns + "-values" + k + "-";
      int total = Workspace.notes(k).stream().mapToInt(Workspace::value).sum();
      out.add(new Episode("notes-to-memory-" + k, "loop", "Store the values of notes 1.." + k + " in memory as "
          + prefix + "<note> (observation \"value: <v>\"), then total the values memory finds for " + prefix + ".",
          List.of("filesystem", "memory"), List.<String[]>of(CREATE_DOCS), """
          for i in range(1, %1$d):
              name = "note-" + ("0" if i < 10 else "") + str(i) + ".txt"
              text = filesystem.read_text_file(path="%2$s/" + name)["content"]
              line = [l for l in text.split("\\n") if l.startswith("value: ")][0]
              memory.create_entities(entities=[{"name": "%3$s" + name, "entityType": "note", "observations": [line]}])
          total = 0
          for e in memory.search_nodes(query="%3$s")["entities"]:
              total += int(e["observations"][0][7:])
          result = total
          """.formatted(k + 1, notesDir, prefix),
          a -> {
            List<Call> calls = new ArrayList<>();
            readNotes(a, ws, k).forEach((name, text) -> calls.add(call("memory", "create_entities", "entities",
                List.of(Map.of("name", prefix + name, "entityType", "note", "observations",
                    List.of("value: " + valueIn(text)))))));
            a.turn(calls);
            int t = 0;
            for (JsonNode e : a.one("memory", "search_nodes", "query", prefix).path("entities")) {
              t += Integer.parseInt(e.path("observations").get(0).asText().substring(7));
            }
            return json(t);
          }, json(total)));
    }
    List<String> words = List.of("gateways", "govern", "every", "nested", "call");
    out.add(new Episode("fixture-slow-echo", "loop", "Send each of " + words + " through the fixture's slow echo"
        + " (10 ms) and join the answers with spaces.", List.of("fixture"), List.of(), """
        answers = []
        for w in %s:
            answers.append(fixture.slow_echo(message=w, ms=10))
        result = " ".join(answers)
        """.formatted(json(words)),
        a -> {
          List<Call> calls = new ArrayList<>();
          words.forEach(w -> calls.add(call("fixture", "slow_echo", "message", w, "ms", 10)));
          List<String> answers = a.turn(calls).stream().map(JsonNode::asText).toList();
          return json(String.join(" ", answers));
        }, json(String.join(" ", words))));
    return out;
  }

  /** Starlark lines setting {@code v_<name>} to the value line of the note at {@code path}. */
  private static String readValue(String name, String path) {
    return """
        t_%1$s = filesystem.read_text_file(path="%2$s")["content"]
        v_%1$s = [int(l[7:]) for l in t_%1$s.split("\\n") if l.startswith("value: ")][0]
        """.formatted(name, path);
  }

  /** Notes 1..k read in one turn (parallel calls), by file name. */
  private static Map<String, String> readNotes(Agent a, Workspace ws, int k) throws Exception {
    List<Call> calls = new ArrayList<>();
    for (int i = 1; i <= k; i++) {
      calls.add(call("filesystem", "read_text_file", "path", ws.path("notes/" + Workspace.noteName(i))));
    }
    List<JsonNode> r = a.turn(calls);
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 1; i <= k; i++) {
      out.put(Workspace.noteName(i), content(r.get(i - 1)));
    }
    return out;
  }

  static String content(JsonNode fsValue) {
    return fsValue.path("content").asText();
  }

  static int valueIn(String noteText) {
    return lineValue(noteText, "value: ");
  }

  static int lineValue(String text, String prefix) {
    return text.lines().filter(l -> l.startsWith(prefix)).map(l -> Integer.parseInt(l.substring(prefix.length()).strip()))
        .findFirst().orElseThrow(() -> new IllegalStateException("no line " + prefix + " in " + text));
  }

  static int sumOf(JsonNode getSumText) {
    String t = getSumText.asText();
    return Integer.parseInt(t.substring(t.lastIndexOf(" is ") + 4).replaceAll("\\.$", ""));
  }
}
