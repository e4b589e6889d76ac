package io.bastion.node.codemode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.bastion.config.CodeModeConfig;
import io.bastion.protocol.Json;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The sandbox alone, with a fake tool invoker (a unit test of one class): results, and hostile
 * programs that must each end with a clear error within their limit.
 */
@Timeout(120)
class SandboxTest {

  private static final CodeModeConfig.Limits LIMITS = new CodeModeConfig.Limits(Duration.ofSeconds(20), 1_000_000,
      64 * 1024, 4 * 1024 * 1024, 256L * 1024 * 1024, 100, 64 * 1024, 2, 4);

  private Sandbox sandbox = new Sandbox(LIMITS);
  private final AtomicInteger toolCalls = new AtomicInteger();

  @AfterEach
  void close() {
    sandbox.close();
  }

  private static final Bindings.ToolRef SUM = new Bindings.ToolRef("everything", "everything", "get_sum", "get-sum",
      "everything__get-sum");
  private static final Bindings.ToolRef FAIL = new Bindings.ToolRef("everything", "everything", "fail", "fail",
      "everything__fail");

  private final Sandbox.ToolInvoker invoker = (tool, args) -> {
    toolCalls.incrementAndGet();
    if (tool.original().equals("fail")) {
      return json("{\"isError\": true, \"content\": [{\"type\": \"text\", \"text\": \"boom\"}]}");
    }
    long sum = args.path("a").asLong() + args.path("b").asLong();
    return json("{\"content\": [{\"type\": \"text\", \"text\": \"The sum of "
        + args.path("a") + " and " + args.path("b") + " is " + sum + ".\"}],"
        + " \"structuredContent\": {\"sum\": " + sum + "}}");
  };

  private static JsonNode json(String s) {
    try {
      return Json.MAPPER.readTree(s);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private Sandbox.Outcome run(String code) throws Exception {
    return sandbox.submit(code, Bindings.of(List.of(SUM, FAIL)), invoker).outcome().get(60, TimeUnit.SECONDS);
  }

  private void assertLimit(Sandbox.Outcome o, String message) {
    assertThat(o.ok()).as("should have failed: %s", o).isFalse();
    assertThat(o.errorKind()).as(o.error()).isEqualTo(Sandbox.Kind.LIMIT);
    assertThat(o.error()).contains(message);
  }

  @Test
  void resultAndPrintsComeBack() throws Exception {
    Sandbox.Outcome o = run("""
        total = 0
        for i in range(3):
            total += everything.get_sum(a=i, b=10)["sum"]
        print("total is %d" % total)
        result = {"total": total, "items": [1, "two", 3.5, None, True], "text": "x" * 3}
        """);
    assertThat(o.ok()).as(String.valueOf(o.error())).isTrue();
    assertThat(o.output()).isEqualTo("total is 33\n");
    assertThat(Json.write(o.result())).isEqualTo("{\"total\":33,\"items\":[1,\"two\",3.5,null,true],\"text\":\"xxx\"}");
    assertThat(toolCalls).hasValue(3);
  }

  @Test
  void topLevelLoopsAndIfsWorkWithHelperFunctions() throws Exception {
    Sandbox.Outcome o = run("""
        def double(x):
            return x * 2

        names = []
        for n in ["a", "b"]:
            if n == "a":
                names.append(double(n))
            else:
                names.append(n)
        result = ",".join(names)
        """);
    assertThat(o.ok()).as(String.valueOf(o.error())).isTrue();
    assertThat(o.result().asText()).isEqualTo("aa,b");
    Sandbox.Outcome noResult = run("x = 1\n");
    assertThat(noResult.ok()).isTrue();
    assertThat(noResult.result()).isNull();
  }

  @Test
  void runtimeErrorsNameTheProgramsLine() throws Exception {
    Sandbox.Outcome o = run("def f():\n    return 1\n\nx = 1\ny = {}\nz = y[\"missing\"]\n");
    assertThat(o.errorKind()).isEqualTo(Sandbox.Kind.RUNTIME);
    assertThat(o.error()).startsWith("line 6: ").contains("missing");
  }

  @Test
  void aToolErrorRaisesAStarlarkError() throws Exception {
    Sandbox.Outcome o = run("x = everything.fail()\nresult = 1\n");
    assertThat(o.errorKind()).isEqualTo(Sandbox.Kind.RUNTIME);
    assertThat(o.error()).isEqualTo("line 1: everything.fail failed: boom");
  }

  @Test
  void anUnknownToolIsAnAttributeError() throws Exception {
    Sandbox.Outcome o = run("result = everything.secret(a=1)\n");
    assertThat(o.errorKind()).isEqualTo(Sandbox.Kind.RUNTIME);
    assertThat(o.error()).contains("unknown tool everything.secret");
    Sandbox.Outcome p = run("result = github.search(q=1)\n");
    assertThat(p.errorKind()).isEqualTo(Sandbox.Kind.SYNTAX);
    assertThat(p.error()).contains("name 'github' is not defined");
  }

  @Test
  void syntaxErrorsNameTheirLine() throws Exception {
    Sandbox.Outcome o = run("x = 1\ny = (2\n");
    assertThat(o.errorKind()).isEqualTo(Sandbox.Kind.SYNTAX);
    assertThat(o.error()).startsWith("line ");
    Sandbox.Outcome imports = run("import os\n");
    assertThat(imports.errorKind()).isEqualTo(Sandbox.Kind.SYNTAX);
  }

  @Test
  void anEndlessLoopStopsAtTheStepLimit() throws Exception {
    assertLimit(run("for i in range(2000000000):\n    pass\n"), "ran more than 1000000 steps (limits.max_steps)");
  }

  @Test
  void aLoopUnderAHighStepLimitStopsAtTheWallClock() throws Exception {
    sandbox.close();
    sandbox = new Sandbox(new CodeModeConfig.Limits(Duration.ofMillis(300), 10_000_000_000L, 64 * 1024,
        4 * 1024 * 1024, 256L * 1024 * 1024, 100, 64 * 1024, 1, 1));
    assertLimit(run("for i in range(2000000000):\n    pass\n"), "ran longer than 300ms (limits.wall_time)");
  }

  @Test
  void recursionIsRefused() throws Exception {
    Sandbox.Outcome o = run("def f(n):\n    return f(n + 1)\nresult = f(0)\n");
    assertThat(o.errorKind()).isEqualTo(Sandbox.Kind.RUNTIME);
    assertThat(o.error()).contains("called recursively");
  }

  @Test
  void hugeRepetitionIsRefusedBeforeAllocating() throws Exception {
    assertLimit(run("result = \"x\" * 1000000000\n"), "value too large: string * int");
    assertLimit(run("result = len([0] * 1000000000)\n"), "value too large: list * int");
    assertLimit(run("n = 1000000000\ns = \"ab\"\ns *= n\n"), "value too large");
    assertLimit(run("result = 1 << 100000000000\n"), "value too large");
  }

  @Test
  void exponentialGrowthIsRefused() throws Exception {
    assertLimit(run("s = \"x\"\nfor i in range(64):\n    s = s + s\n"), "value too large: string + string");
    assertLimit(run("s = \"x\"\nfor i in range(64):\n    s += s\n"), "value too large");
    assertLimit(run("l = [1]\nfor i in range(64):\n    l.extend(l)\n"), "value too large: extend");
    assertLimit(run("l = [1]\nfor i in range(64):\n    l += l\n"), "value too large");
    assertLimit(run("s = \"ab\"\nfor i in range(64):\n    s = s.replace(\"\", s)\n"), "value too large: replace");
    assertLimit(run("s = \"ab\"\nfor i in range(64):\n    s = \",\".join([s, s, s])\n"), "value too large: join");
    assertLimit(run("result = list(range(1000000000))\n"), "value too large: list()");
    assertLimit(run("l = [\"x\" * 1000000] * 100\nresult = str(l)\n"), "value too large: str()");
  }

  @Test
  void aGrowingListStops() throws Exception {
    // one entry per step: the step limit ends it long before memory matters
    assertLimit(run("l = []\nfor i in range(2000000000):\n    l.append(i)\n"), "steps");
    // large values one by one: the allocation limit ends it
    assertLimit(run("l = []\nfor i in range(100000):\n    l.append(\"x\" * 4000000)\n"),
        "allocated more than 256 MiB (limits.max_allocation)");
  }

  @Test
  void aMillionPrintsStopAtTheOutputLimit() throws Exception {
    Sandbox.Outcome o = run("for i in range(1000000):\n    print(i)\n");
    assertLimit(o, "printed more than 65536 bytes (limits.max_output)");
    assertThat(o.output().length()).isLessThan(70_000);
  }

  @Test
  void aTenMegabyteProgramIsRefusedUnread() throws Exception {
    String big = "x = 1\n".repeat(10 * 1024 * 1024 / 6);
    assertLimit(run(big), "bytes; the limit is 65536 (limits.max_code_size)");
  }

  @Test
  void tenThousandToolCallsStopAtTheNestedCallLimit() throws Exception {
    Sandbox.Outcome o = run("for i in range(10000):\n    everything.get_sum(a=i, b=1)\n");
    assertLimit(o, "made more than 100 tool calls (limits.max_nested_calls)");
    assertThat(toolCalls).hasValue(100);
  }

  @Test
  void deeplyNestedValuesAreRefused() throws Exception {
    assertLimit(run("x = []\nfor i in range(10000):\n    x = [x]\nresult = x\n"), "");
  }

  @Test
  void cancellationStopsARun() throws Exception {
    sandbox.close();
    sandbox = new Sandbox(new CodeModeConfig.Limits(Duration.ofMinutes(5), 10_000_000_000L, 64 * 1024,
        4 * 1024 * 1024, 256L * 1024 * 1024, 100, 64 * 1024, 1, 1));
    Sandbox.Run run = sandbox.submit("for i in range(2000000000):\n    pass\n", Map.of(), invoker);
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (sandbox.running() == 0 && !run.outcome().isDone() && System.nanoTime() < until) {
      Thread.sleep(5);
    }
    assertThat(run.outcome().isDone()).as("still running when cancelled").isFalse();
    run.cancel("user pressed stop");
    Sandbox.Outcome o = run.outcome().get(30, TimeUnit.SECONDS);
    assertThat(o.errorKind()).isEqualTo(Sandbox.Kind.CANCELLED);
    assertThat(o.error()).isEqualTo("the run was cancelled: user pressed stop");
  }

  @Test
  void aFullSandboxRefusesAtOnce() throws Exception {
    sandbox.close();
    sandbox = new Sandbox(new CodeModeConfig.Limits(Duration.ofMinutes(5), 10_000_000_000L, 64 * 1024,
        4 * 1024 * 1024, 256L * 1024 * 1024, 100, 64 * 1024, 1, 0));
    CountDownLatch inTool = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Sandbox.ToolInvoker blocking = (tool, args) -> {
      inTool.countDown();
      release.await();
      return json("{\"content\": []}");
    };
    Sandbox.Run first = sandbox.submit("everything.get_sum(a=1, b=2)\nresult = 1\n", Bindings.of(List.of(SUM)), blocking);
    assertThat(inTool.await(30, TimeUnit.SECONDS)).isTrue();
    assertThatThrownBy(() -> sandbox.submit("result = 1\n", Map.of(), invoker))
        .isInstanceOf(Sandbox.Overloaded.class).hasMessageContaining("at capacity");
    release.countDown();
    assertThat(first.outcome().get(30, TimeUnit.SECONDS).ok()).isTrue();
  }

  @Test
  void toolResultsBecomeStarlarkValues() {
    JsonNode parsed = Bindings.value(Json.object().set("content", Json.NODES.arrayNode()
        .add(Json.object().put("type", "text").put("text", "{\"a\": [1, 2]}"))));
    assertThat(parsed.path("a").size()).isEqualTo(2);
    JsonNode text = Bindings.value(Json.object().set("content", Json.NODES.arrayNode()
        .add(Json.object().put("type", "text").put("text", "plain words"))));
    assertThat(text.asText()).isEqualTo("plain words");
  }
}
