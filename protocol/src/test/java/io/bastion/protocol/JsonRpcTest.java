package io.bastion.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonRpcTest {

  private static JsonNode tree(String json) {
    return JsonRpc.parseTree(json.getBytes(StandardCharsets.UTF_8));
  }

  private static JsonRpc.Message classify(String json) {
    return JsonRpc.classify(tree(json));
  }

  private static JsonRpcException classifyFails(String json) {
    JsonNode node = tree(json);
    return catchThrowableOfType(JsonRpcException.class, () -> JsonRpc.classify(node));
  }

  private static JsonRpcException parseFails(byte[] bytes) {
    return catchThrowableOfType(JsonRpcException.class, () -> JsonRpc.parseTree(bytes));
  }

  @Nested
  class Classify {

    @Test
    void aMessageWithMethodAndIdIsARequest() {
      JsonRpc.Message m = classify("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\",\"params\":{\"cursor\":\"c\"}}");

      assertThat(m).isInstanceOf(JsonRpc.Request.class);
      JsonRpc.Request r = (JsonRpc.Request) m;
      assertThat(r.id()).isEqualTo(IntNode.valueOf(7));
      assertThat(r.method()).isEqualTo("tools/list");
      assertThat(r.paramsObject().path("cursor").asText()).isEqualTo("c");
      assertThat(r.raw().path("jsonrpc").asText()).isEqualTo("2.0");
    }

    @Test
    void aStringIdIsAcceptedAndKeptAsAString() {
      JsonRpc.Request r = (JsonRpc.Request) classify("{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"ping\"}");

      assertThat(r.id()).isEqualTo(TextNode.valueOf("abc"));
      assertThat(r.params()).isNull();
      assertThat(r.paramsObject()).isEmpty();
    }

    @Test
    void nullParamsAreAcceptedAndReadAsAnEmptyObject() {
      JsonRpc.Request r = (JsonRpc.Request) classify("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":null}");

      assertThat(r.paramsObject()).isEmpty();
    }

    @Test
    void aMessageWithMethodAndNoIdIsANotification() {
      JsonRpc.Message m = classify("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\",\"params\":{\"a\":1}}");

      assertThat(m).isInstanceOf(JsonRpc.Notification.class);
      JsonRpc.Notification n = (JsonRpc.Notification) m;
      assertThat(n.method()).isEqualTo(Methods.NOTIFICATION_INITIALIZED);
      assertThat(n.paramsObject().path("a").asInt()).isEqualTo(1);
    }

    @Test
    void aMessageWithIdAndResultIsASuccessResponse() {
      JsonRpc.Message m = classify("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"tools\":[]}}");

      assertThat(m).isInstanceOf(JsonRpc.Response.class);
      JsonRpc.Response r = (JsonRpc.Response) m;
      assertThat(r.isError()).isFalse();
      assertThat(r.id()).isEqualTo(IntNode.valueOf(3));
      assertThat(r.result().path("tools").isArray()).isTrue();
      assertThat(r.error()).isNull();
    }

    @Test
    void aMessageWithIdAndErrorIsAnErrorResponse() {
      JsonRpc.Response r = (JsonRpc.Response) classify(
          "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":{\"code\":-32601,\"message\":\"nope\"}}");

      assertThat(r.isError()).isTrue();
      assertThat(r.error().path("code").asInt()).isEqualTo(ErrorCodes.METHOD_NOT_FOUND);
      assertThat(r.result()).isNull();
    }

    @Test
    void aNullResultIsStillAResult() {
      JsonRpc.Response r = (JsonRpc.Response) classify("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":null}");

      assertThat(r.isError()).isFalse();
      assertThat(r.result().isNull()).isTrue();
    }

    @Test
    void unknownFieldsAndContentPassThroughUntouchedInRaw() {
      String json = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}],"
          + "\"structuredContent\":{\"n\":1.50},\"_meta\":{\"x\":[1,2]},\"future\":true}}";

      JsonRpc.Response r = (JsonRpc.Response) classify(json);

      assertThat(r.raw()).isEqualTo(tree(json));
      assertThat(r.result().path("future").asBoolean()).isTrue();
    }
  }

  @Nested
  class ParseErrors {

    @ParameterizedTest
    @ValueSource(strings = {"not json", "{\"jsonrpc\":", "{'a':1}", "{\"a\":1} {\"b\":2}", "[1,2"})
    void textThatIsNotOneJsonValueIsAParseError(String body) {
      JsonRpcException e = parseFails(body.getBytes(StandardCharsets.UTF_8));

      assertThat(e).isNotNull();
      assertThat(e.code()).isEqualTo(ErrorCodes.PARSE_ERROR).isEqualTo(-32700);
      assertThat(e.id()).isNull();
      assertThat(e.getMessage()).startsWith("Parse error");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "\n\t  "})
    void anEmptyOrBlankBodyIsAParseError(String body) {
      JsonRpcException e = parseFails(body.getBytes(StandardCharsets.UTF_8));

      assertThat(e).isNotNull();
      assertThat(e.code()).isEqualTo(ErrorCodes.PARSE_ERROR);
      assertThat(e.getMessage()).contains("empty");
    }

    @Test
    void validJsonParsesToTheSameTree() {
      JsonNode n = JsonRpc.parseTree("{\"a\":[1,\"b\",null]}".getBytes(StandardCharsets.UTF_8));

      assertThat(Json.write(n)).isEqualTo("{\"a\":[1,\"b\",null]}");
    }
  }

  @Nested
  class InvalidRequests {

    @ParameterizedTest
    @ValueSource(strings = {"[]", "[{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}]", "\"text\"", "42", "null", "true"})
    void aValueThatIsNotAnObjectIsInvalid(String json) {
      JsonRpcException e = classifyFails(json);

      assertThat(e).isNotNull();
      assertThat(e.code()).isEqualTo(ErrorCodes.INVALID_REQUEST).isEqualTo(-32600);
      assertThat(e.id()).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"id\":1,\"method\":\"ping\"}",
        "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}",
        "{\"jsonrpc\":2.0,\"id\":1,\"method\":\"ping\"}",
        "{\"jsonrpc\":null,\"id\":1,\"method\":\"ping\"}",
        "{\"jsonrpc\":[\"2.0\"],\"id\":1,\"method\":\"ping\"}"})
    void aMissingOrWrongJsonrpcVersionIsInvalid(String json) {
      JsonRpcException e = classifyFails(json);

      assertThat(e).isNotNull();
      assertThat(e.code()).isEqualTo(ErrorCodes.INVALID_REQUEST);
      assertThat(e.getMessage()).contains("jsonrpc");
    }

    @ParameterizedTest
    @ValueSource(strings = {"42", "null", "{}", "[\"ping\"]", "true", "\"\""})
    void aMethodThatIsNotANonEmptyStringIsInvalid(String method) {
      JsonRpcException e = classifyFails("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":" + method + "}");

      assertThat(e).isNotNull();
      assertThat(e.code()).isEqualTo(ErrorCodes.INVALID_REQUEST);
      assertThat(e.getMessage()).contains("method");
    }

    @Test
    void aNullIdIsInvalidAndNotCarried() {
      JsonRpcException e = classifyFails("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}");

      assertThat(e).isNotNull();
      assertThat(e.code()).isEqualTo(ErrorCodes.INVALID_REQUEST);
      assertThat(e.getMessage()).contains("id");
      assertThat(e.id()).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"a\":1}", "[1]", "1.5", "true"})
    void anIdThatIsNotAStringOrIntegerIsInvalid(String id) {
      JsonRpcException e = classifyFails("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"ping\"}");

      assertThat(e).isNotNull();
      assertThat(e.code()).isEqualTo(ErrorCodes.INVALID_REQUEST);
      assertThat(e.id()).isNull();
    }

    @Test
    void anObjectIdOnAResponseIsInvalid() {
      JsonRpcException e = classifyFails("{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"result\":{}}");

      assertThat(e).isNotNull();
      assertThat(e.code()).isEqualTo(ErrorCodes.INVALID_REQUEST);
    }

    @ParameterizedTest
    @ValueSource(strings = {"[1,2]", "[]", "\"p\"", "3", "false"})
    void paramsThatAreNotAnObjectAreInvalid(String params) {
      JsonRpcException e = classifyFails("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":" + params + "}");

      assertThat(e).isNotNull();
      assertThat(e.code()).isEqualTo(ErrorCodes.INVALID_REQUEST);
      assertThat(e.getMessage()).contains("params");
    }

    @Test
    void arrayParamsOnANotificationAreInvalidToo() {
      JsonRpcException e = classifyFails("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":[1]}");

      assertThat(e).isNotNull();
      assertThat(e.code()).isEqualTo(ErrorCodes.INVALID_REQUEST);
      assertThat(e.id()).isNull();
    }

    @Test
    void aResponseWithBothResultAndErrorIsInvalid() {
      JsonRpcException e = classifyFails(
          "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{},\"error\":{\"code\":-32603,\"message\":\"x\"}}");

      assertThat(e).isNotNull();
      assertThat(e.code()).isEqualTo(ErrorCodes.INVALID_REQUEST);
      assertThat(e.getMessage()).contains("exactly one");
    }

    @Test
    void aResponseWithNeitherResultNorErrorIsInvalid() {
      JsonRpcException e = classifyFails("{\"jsonrpc\":\"2.0\",\"id\":5}");

      assertThat(e).isNotNull();
      assertThat(e.code()).isEqualTo(ErrorCodes.INVALID_REQUEST);
    }

    @Test
    void aMessageWithNeitherMethodNorIdIsInvalid() {
      JsonRpcException e = classifyFails("{\"jsonrpc\":\"2.0\",\"result\":{}}");

      assertThat(e).isNotNull();
      assertThat(e.code()).isEqualTo(ErrorCodes.INVALID_REQUEST);
      assertThat(e.id()).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"message\":\"no code\"}",
        "{\"code\":\"-32603\",\"message\":\"string code\"}",
        "{\"code\":-32603.5,\"message\":\"fractional code\"}",
        "{\"code\":null}",
        "\"just text\"",
        "-32603"})
    void anErrorWithoutAnIntegerCodeIsInvalid(String error) {
      JsonRpcException e = classifyFails("{\"jsonrpc\":\"2.0\",\"id\":5,\"error\":" + error + "}");

      assertThat(e).isNotNull();
      assertThat(e.code()).isEqualTo(ErrorCodes.INVALID_REQUEST);
      assertThat(e.getMessage()).contains("code");
    }
  }

  @Nested
  class IdCarriedIntoTheException {

    @Test
    void anIntegerIdIsCarriedWhenTheVersionIsWrong() {
      JsonRpcException e = classifyFails("{\"jsonrpc\":\"1.0\",\"id\":42,\"method\":\"ping\"}");

      assertThat(e.id()).isEqualTo(IntNode.valueOf(42));
    }

    @Test
    void aStringIdIsCarriedWhenTheMethodIsInvalid() {
      JsonRpcException e = classifyFails("{\"jsonrpc\":\"2.0\",\"id\":\"req-1\",\"method\":5}");

      assertThat(e.id()).isEqualTo(TextNode.valueOf("req-1"));
    }

    @Test
    void theIdIsCarriedWhenParamsAreAnArray() {
      JsonRpcException e = classifyFails("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":[]}");

      assertThat(e.id()).isEqualTo(IntNode.valueOf(9));
    }

    @Test
    void theIdIsCarriedWhenAResponseHasBothResultAndError() {
      JsonRpcException e = classifyFails(
          "{\"jsonrpc\":\"2.0\",\"id\":\"r\",\"result\":1,\"error\":{\"code\":1,\"message\":\"m\"}}");

      assertThat(e.id()).isEqualTo(TextNode.valueOf("r"));
    }

    @Test
    void theIdIsCarriedWhenTheErrorHasNoIntegerCode() {
      JsonRpcException e = classifyFails("{\"jsonrpc\":\"2.0\",\"id\":11,\"error\":{\"message\":\"m\"}}");

      assertThat(e.id()).isEqualTo(IntNode.valueOf(11));
    }

    @Test
    void anInvalidIdIsNotCarriedEvenWhenSomethingElseIsWrong() {
      JsonRpcException e = classifyFails("{\"jsonrpc\":\"1.0\",\"id\":{\"x\":1},\"method\":\"ping\"}");

      assertThat(e.code()).isEqualTo(ErrorCodes.INVALID_REQUEST);
      assertThat(e.id()).isNull();
    }

    @Test
    void theErrorBuiltFromTheExceptionAnswersWithTheCarriedId() {
      JsonRpcException e = classifyFails("{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"ping\",\"params\":[1]}");

      JsonNode expected = Json.object().put("jsonrpc", "2.0").put("id", 42);
      ((com.fasterxml.jackson.databind.node.ObjectNode) expected).putObject("error")
          .put("code", -32600).put("message", "Invalid request: \"params\" must be an object");
      assertThat(JsonRpc.error(null, e)).isEqualTo(expected);
    }
  }

  @Nested
  class Builders {

    @Test
    void requestWithParams() {
      assertThat(Json.write(JsonRpc.request(IntNode.valueOf(1), "tools/call", Json.object().put("name", "t"))))
          .isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"t\"}}");
    }

    @Test
    void requestWithoutParamsOmitsTheField() {
      assertThat(Json.write(JsonRpc.request(TextNode.valueOf("a"), "ping", null)))
          .isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"ping\"}");
    }

    @Test
    void notificationHasNoId() {
      assertThat(Json.write(JsonRpc.notification("notifications/initialized", null)))
          .isEqualTo("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
      assertThat(Json.write(JsonRpc.notification("notifications/progress", Json.object().put("progress", 1))))
          .isEqualTo("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}");
    }

    @Test
    void resultDefaultsToAnEmptyObject() {
      assertThat(Json.write(JsonRpc.result(IntNode.valueOf(2), null)))
          .isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}");
      assertThat(Json.write(JsonRpc.result(TextNode.valueOf("x"), Json.object().put("ok", true))))
          .isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{\"ok\":true}}");
    }

    @Test
    void errorWithDataAndWithoutId() {
      assertThat(Json.write(JsonRpc.error(null, -32602, "bad", Json.object().put("k", "v"))))
          .isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32602,\"message\":\"bad\",\"data\":{\"k\":\"v\"}}}");
    }

    @Test
    void errorWithoutDataOmitsTheField() {
      assertThat(Json.write(JsonRpc.error(IntNode.valueOf(4), -32601, "Method not found: x", null)))
          .isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":-32601,\"message\":\"Method not found: x\"}}");
    }

    @Test
    void errorFromExceptionPrefersTheGivenIdOverTheCarriedOne() {
      JsonRpcException e = new JsonRpcException(ErrorCodes.RATE_LIMITED, "slow down", null, IntNode.valueOf(1));

      assertThat(Json.write(JsonRpc.error(TextNode.valueOf("given"), e)))
          .isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":\"given\",\"error\":{\"code\":-32011,\"message\":\"slow down\"}}");
    }

    @Test
    void toolErrorIsAResultWithIsErrorAndOneTextBlock() {
      assertThat(Json.write(JsonRpc.toolError("boom")))
          .isEqualTo("{\"content\":[{\"type\":\"text\",\"text\":\"boom\"}],\"isError\":true}");
    }

    @Test
    void builtMessagesClassifyBackToTheirKind() {
      assertThat(JsonRpc.classify(JsonRpc.request(IntNode.valueOf(1), "ping", null))).isInstanceOf(JsonRpc.Request.class);
      assertThat(JsonRpc.classify(JsonRpc.notification("n", null))).isInstanceOf(JsonRpc.Notification.class);
      assertThat(JsonRpc.classify(JsonRpc.result(IntNode.valueOf(1), null))).isInstanceOf(JsonRpc.Response.class);
      assertThat(((JsonRpc.Response) JsonRpc.classify(JsonRpc.error(IntNode.valueOf(1), -1, "m", null))).isError()).isTrue();
    }
  }

  @Test
  void exceptionFactoriesUseTheirCodes() {
    assertThat(JsonRpcException.invalidParams("x").code()).isEqualTo(-32602);
    JsonRpcException nf = JsonRpcException.methodNotFound("foo/bar");
    assertThat(nf.code()).isEqualTo(-32601);
    assertThat(nf.getMessage()).isEqualTo("Method not found: foo/bar");
    JsonRpcException withId = nf.withId(IntNode.valueOf(3));
    assertThat(withId.id()).isEqualTo(IntNode.valueOf(3));
    assertThat(withId.code()).isEqualTo(nf.code());
    assertThat(withId.getMessage()).isEqualTo(nf.getMessage());
    assertThat(nf.id()).isNull();
  }

  @Test
  void idsAreComparedByValue() {
    assertThat(JsonRpc.sameId(com.fasterxml.jackson.databind.node.LongNode.valueOf(7), IntNode.valueOf(7))).isTrue();
    assertThat(JsonRpc.sameId(IntNode.valueOf(7), IntNode.valueOf(8))).isFalse();
    assertThat(JsonRpc.sameId(TextNode.valueOf("7"), IntNode.valueOf(7))).as("a string id is not a number").isFalse();
    assertThat(JsonRpc.sameId(TextNode.valueOf("a"), TextNode.valueOf("a"))).isTrue();
    assertThat(JsonRpc.sameId(null, IntNode.valueOf(7))).isFalse();
  }
}
