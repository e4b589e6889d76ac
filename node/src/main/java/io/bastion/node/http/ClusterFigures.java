package io.bastion.node.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bastion.node.metrics.Metrics;
import io.bastion.persistence.CborSerializable;
import io.bastion.protocol.Json;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * {@code GET /api/v1/cluster/metrics}: the traffic figures of every member, for the console's
 * overview. Each node runs one small actor, registered with the receptionist, that answers with
 * the lines of its own {@code /metrics} the overview reads (tool calls by outcome, the tools/call
 * latency histogram, open sessions); the node that serves the request asks every registered actor
 * and answers with one entry per member: its address and that text, or the error in words when it
 * did not answer in time. Rates and quantiles are left to the reader, which keeps the scrapes.
 */
public final class ClusterFigures extends org.apache.pekko.http.javadsl.server.AllDirectives {
  /** The metric families the overview needs (everything else stays off the wire). */
  static final Set<String> FAMILIES = Set.of("bastion_tool_calls_total", "bastion_tool_call_duration_seconds_bucket",
      "bastion_sessions_open");
  static final ServiceKey<Get> KEY = ServiceKey.create(Get.class, "bastion-node-figures");

  /** Ask one node for its figures. */
  public record Get(ActorRef<Figures> replyTo) implements CborSerializable {}

  /** One node's figures: its cluster address and the Prometheus lines of {@link #FAMILIES}. */
  public record Figures(String address, String metrics) implements CborSerializable {}

  private final ActorSystem<?> system;
  private final Duration timeout;
  private final AdminGuard guard;

  private ClusterFigures(ActorSystem<?> system, Duration timeout, AdminGuard guard) {
    this.system = system;
    this.timeout = timeout;
    this.guard = guard;
  }

  /** The route, behind the admin token. */
  public org.apache.pekko.http.javadsl.server.Route route() {
    return path(org.apache.pekko.http.javadsl.server.PathMatchers.segment("api").slash("v1").slash("cluster")
        .slash("metrics"), () -> get(() -> extractRequest(r -> completeWithFuture(guard.refuse(r)
            .<CompletionStage<HttpResponse>>map(CompletableFuture::completedFuture).orElseGet(this::all)))));
  }

  /** Starts this node's figures actor; the returned object answers the route. */
  public static ClusterFigures start(ActorSystem<?> system, Duration timeout, AdminGuard guard) {
    String self = Cluster.get(system).selfAddress().toString();
    system.systemActorOf(Behaviors.<Get>setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
      return Behaviors.receiveMessage(g -> {
        g.replyTo().tell(new Figures(self, ownLines()));
        return Behaviors.same();
      });
    }), "bastion-node-figures", Props.empty());
    return new ClusterFigures(system, timeout, guard);
  }

  /** The lines of this node's scrape that the overview reads. */
  static String ownLines() {
    return Metrics.scrape().lines().filter(l -> {
      int end = l.indexOf('{') >= 0 ? l.indexOf('{') : l.indexOf(' ');
      return !l.startsWith("#") && end > 0 && FAMILIES.contains(l.substring(0, end));
    }).collect(Collectors.joining("\n", "", "\n"));
  }

  /** Every member's figures: {@code {self, nodes: [{address, metrics} | {address, error}]}}. */
  public CompletionStage<HttpResponse> all() {
    Cluster cluster = Cluster.get(system);
    String self = cluster.selfAddress().toString();
    CompletionStage<Receptionist.Listing> listing = AskPattern.ask(system.receptionist(),
        r -> Receptionist.find(KEY, r), timeout, system.scheduler());
    return listing.thenCompose(l -> {
      List<ActorRef<Get>> refs = List.copyOf(l.getServiceInstances(KEY));
      List<CompletableFuture<ObjectNode>> asks = refs.stream().map(ref -> AskPattern.<Get, Figures>ask(ref,
          Get::new, timeout, system.scheduler()).toCompletableFuture()
          .thenApply(f -> Json.object().put("address", f.address()).put("metrics", f.metrics()))
          .exceptionally(err -> Json.object().put("address", addressOf(ref, self))
              .put("error", "no answer within " + timeout.toMillis() + " ms (" + err.getClass().getSimpleName() + ")")))
          .toList();
      return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApply(x -> {
        ObjectNode body = Json.object().put("self", self);
        ArrayNode nodes = body.putArray("nodes");
        asks.stream().map(CompletableFuture::join).sorted(Comparator.comparing(o -> o.path("address").asText()))
            .forEach(nodes::add);
        return EdgeResponses.json(200, body);
      });
    });
  }

  private static String addressOf(ActorRef<?> ref, String self) {
    var a = ref.path().address();
    return a.hasGlobalScope() ? a.toString() : self;
  }
}
