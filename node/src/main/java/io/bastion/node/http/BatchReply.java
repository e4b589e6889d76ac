package io.bastion.node.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.call.RequestStream;
import io.bastion.protocol.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The HTTP response to one JSON-RPC batch (protocol 2025-03-26 and 2024-11-05 only), shared by
 * the batch's requests, each a {@link ReplyRouter.Pending} of its own. Like a single POST's
 * answer: when every request is answered before anything else has to be sent, the response is one
 * JSON array holding an answer per request (in the order the answers came, after the answers
 * the edge gave itself to invalid members). When a request sends a progress notification, a log
 * message or a server→client request first, or the batch is still unanswered after the
 * keep-alive interval, the response becomes an SSE body instead: what was answered so far, then
 * every message and answer as it comes (2025-03-26: the stream "SHOULD eventually include one
 * JSON-RPC response per each JSON-RPC request"), with keep-alive comments, ending after the last
 * answer. If the client leaves first, the requests still open are abandoned.
 */
final class BatchReply implements ReplyRouter.Target {
  private final ActorSystem<?> system;
  private final Duration keepAlive;
  private final CompletableFuture<HttpResponse> response;
  private final List<ObjectNode> answers;
  private final List<ReplyRouter.Pending> members = new ArrayList<>();
  private int unanswered;
  private BoundedSourceQueue<ByteString> sse;

  /**
   * @param requests how many requests of the batch will be opened as members
   * @param immediate answers already known (invalid members), sent first
   */
  BatchReply(ActorSystem<?> system, Duration keepAlive, CompletableFuture<HttpResponse> response,
      int requests, List<ObjectNode> immediate) {
    this.system = system;
    this.keepAlive = keepAlive;
    this.response = response;
    this.unanswered = requests;
    this.answers = new ArrayList<>(immediate);
  }

  /** A request of the batch, opened before it is dispatched. */
  synchronized void add(ReplyRouter.Pending member) {
    members.add(member);
  }

  @Override
  public synchronized void deliver(ReplyRouter.Pending p, RequestStream.Event event) {
    openSse();
    if (sse != null) {
      sse.offer(Sse.frame(Json.writeBytes(event.json())));
    }
  }

  @Override
  public synchronized long complete(ReplyRouter.Pending p, RequestStream.Final f) {
    byte[] json = Json.writeBytes(f.json());
    unanswered--;
    if (sse != null) {
      sse.offer(Sse.frame(json));
      if (unanswered == 0) {
        sse.complete();
      }
    } else {
      answers.add(f.json());
      if (unanswered == 0) {
        ArrayNode all = Json.MAPPER.createArrayNode();
        answers.forEach(all::add);
        response.complete(EdgeResponses.json(200, all));
      }
    }
    return json.length;
  }

  @Override
  public synchronized void slow(ReplyRouter.Pending p) {
    if (unanswered > 0) {
      openSse();
    }
  }

  /** The client left: the requests still open are abandoned (outside this lock: each takes its own). */
  private void abandonOpen() {
    List<ReplyRouter.Pending> all;
    synchronized (this) {
      all = List.copyOf(members);
    }
    all.forEach(ReplyRouter.Pending::abandon);
  }

  private void openSse() {
    if (sse != null || response.isDone()) {
      return;
    }
    Pair<BoundedSourceQueue<ByteString>, Source<ByteString, NotUsed>> q =
        Source.<ByteString>queue(1024).preMaterialize(system);
    sse = q.first();
    for (ObjectNode a : answers) {
      sse.offer(Sse.frame(Json.writeBytes(a)));
    }
    answers.clear();
    Source<ByteString, NotUsed> body = q.second()
        .keepAlive(keepAlive, () -> Sse.KEEP_ALIVE)
        .watchTermination((mat, finished) -> {
          finished.whenComplete((d, err) -> abandonOpen());
          return mat;
        });
    response.complete(EdgeResponses.sse(body));
  }
}
