package io.bastion.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.bastion.config.BastionConfig;
import io.bastion.config.ClusterConfig;
import io.bastion.config.ConfigLoader;
import io.bastion.config.StoreConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The deployment files cannot be run here (no container engine, no Kubernetes): this parses every
 * one of them and checks that ports, paths, names and config keys agree with each other and with
 * what the node really uses. Every embedded {@code bastion.yaml} must load with Bastion's own
 * {@link ConfigLoader}.
 */
class DeployFilesTest {
  static final Path DEPLOY = deployDir();
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  static final int HTTP = 8080;
  static final int ARTERY = 25520;
  static final int MANAGEMENT = 7626;
  static final String CONFIG_PATH = "/etc/bastion/bastion.yaml";

  static Path deployDir() {
    Path here = Path.of("").toAbsolutePath();
    return Files.isRegularFile(here.resolve("cluster.sh")) ? here : here.resolve("deploy");
  }

  // ------------------------------------------------------------------ every file

  @Test
  void everyYamlFileParses() throws IOException {
    List<Path> files = yamlFiles();
    assertThat(files).extracting(p -> DEPLOY.relativize(p).toString().replace('\\', '/'))
        .contains("compose/docker-compose.yml", "config/cluster-example.yaml", "k8s/configmap.yaml",
            "k8s/statefulset.yaml", "k8s/services.yaml", "k8s/secret.yaml", "k8s/pdb.yaml");
    for (Path f : files) {
      List<JsonNode> docs = documents(f);
      assertThat(docs).as(f.toString()).isNotEmpty();
      for (JsonNode d : docs) {
        assertThat(d.isObject()).as("%s: every document is a map", f).isTrue();
      }
    }
  }

  @Test
  void scriptsPassBashSyntaxCheck() throws Exception {
    List<Path> scripts = new ArrayList<>();
    try (Stream<Path> s = Files.walk(DEPLOY)) {
      s.filter(p -> p.toString().endsWith(".sh") && !p.toString().contains("/target/")).forEach(scripts::add);
    }
    scripts.add(DEPLOY.getParent().resolve("bastion"));
    assertThat(scripts).extracting(p -> p.getFileName().toString()).contains("cluster.sh", "ensure-postgres.sh");
    for (Path script : scripts) {
      Process p = new ProcessBuilder("bash", "-n", script.toString()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as("bash -n %s: %s", script, out).isZero();
      assertThat(Files.isExecutable(script)).as("%s is executable", script).isTrue();
    }
  }

  @Test
  void clusterScriptOffersEveryCommandAndPortOverride() throws Exception {
    String script = Files.readString(DEPLOY.resolve("cluster.sh"));
    for (String cmd : List.of("start)", "add)", "leave)", "down)", "kill)", "status)", "stop)")) {
      assertThat(script).contains("  " + cmd);
    }
    for (String env : List.of("BASTION_HTTP_BASE", "BASTION_ARTERY_BASE", "BASTION_MGMT_BASE",
        "BASTION_CLUSTER_DIR", "/health/ready", "/api/v1/cluster", "/cluster/members/", "operation=$op")) {
      assertThat(script).contains(env);
    }
    // The flags it passes are the node's (part of the node's usage; see node Main).
    for (String flag : List.of("--config", "--port", "--data", "--cluster-host", "--cluster-port",
        "--seed", "--management-port")) {
      assertThat(script).contains(flag + " ");
    }
    // Its default config exists and names the database variables the script exports.
    String example = Files.readString(DEPLOY.resolve("config/cluster-example.yaml"));
    assertThat(script).contains("deploy/config/cluster-example.yaml");
    assertThat(example).contains("${BASTION_DB_URL", "${BASTION_DB_USER", "${BASTION_DB_PASSWORD");
    // Without arguments it prints its usage and exits 2.
    Process p = new ProcessBuilder("bash", DEPLOY.resolve("cluster.sh").toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(out).contains("start N", "leave NODE", "kill NODE");
  }

  // ------------------------------------------------------------------ deploy/config

  @Test
  void exampleConfigsLoadWithDefaultsAndWithTheImageEnvironment() throws IOException {
    try (Stream<Path> s = Files.list(DEPLOY.resolve("config"))) {
      for (Path f : s.filter(p -> p.toString().matches(".*\\.ya?ml")).toList()) {
        String yaml = Files.readString(f);
        BastionConfig c = ConfigLoader.parse(yaml, f, Map.of());
        assertThat(c.store().type()).as(f.toString()).isEqualTo(StoreConfig.Type.POSTGRES);
        assertThat(c.cluster().seedNodes()).as(f + ": cluster.seed_nodes").isNotEmpty();
        assertThat(c.cluster().management().enabled()).isTrue();
        assertThat(interpolated(yaml, Map.of()).has("cluster")).isTrue();
      }
    }
    // The image runs cluster-example.yaml with the Dockerfile's ENV: the ports must be the exposed ones.
    Map<String, String> env = new HashMap<>(dockerfileEnv());
    env.put("BASTION_CLUSTER_HOST", "bastion-1");
    env.put("BASTION_SEED_1", "bastion-1:25520");
    String yaml = Files.readString(DEPLOY.resolve("config/cluster-example.yaml"));
    BastionConfig c = ConfigLoader.parse(yaml, Path.of("cluster-example.yaml"), env);
    assertThat(c.gateway().port()).isEqualTo(HTTP);
    assertThat(c.gateway().host()).isEqualTo("0.0.0.0");
    assertThat(c.cluster().port()).isEqualTo(ARTERY);
    assertThat(c.cluster().host()).isEqualTo("bastion-1");
    assertThat(c.cluster().management().port()).isEqualTo(MANAGEMENT);
    assertThat(c.cluster().management().host()).isEqualTo("0.0.0.0");
  }

  // ------------------------------------------------------------------ Dockerfile

  @Test
  void dockerfileExposesTheNodePortsAndRunsMain() throws IOException {
    String df = Files.readString(DEPLOY.resolve("docker/Dockerfile"));
    assertThat(df).containsPattern("(?m)^FROM maven:\\S+ AS build$").containsPattern("(?m)^FROM eclipse-temurin:17-jre$");
    Matcher expose = Pattern.compile("(?m)^EXPOSE (.+)$").matcher(df);
    assertThat(expose.find()).isTrue();
    assertThat(expose.group(1).trim().split("\\s+")).containsExactlyInAnyOrder("" + HTTP, "" + ARTERY, "" + MANAGEMENT);
    String entry = line(df, "ENTRYPOINT");
    assertThat(entry).contains("-jar /opt/bastion/bastion-node.jar", "--port " + HTTP, "--config " + CONFIG_PATH);
    // The image runs the node's distribution (jar + lib/ of runtime dependencies), not a classpath
    // of its own making: the jar's manifest (checked below) names io.bastion.node.Main.
    assertThat(df).contains("cp -r node/target/lib /out/lib", "COPY --from=build /out/lib /opt/bastion/lib")
        .doesNotContain("copy-dependencies").doesNotContain("build-classpath");
    assertThat(line(df, "HEALTHCHECK")).contains("http://127.0.0.1:" + HTTP + "/health/ready");
    assertThat(df).contains("nodejs", "npm").contains("COPY deploy/config/cluster-example.yaml " + CONFIG_PATH);
    Map<String, String> env = dockerfileEnv();
    assertThat(env).containsEntry("BASTION_HTTP_PORT", "" + HTTP).containsEntry("BASTION_CLUSTER_PORT", "" + ARTERY)
        .containsEntry("BASTION_MANAGEMENT_PORT", "" + MANAGEMENT);
    // every path the build copies exists in the repository
    Matcher copy = Pattern.compile("(?m)^COPY (?!--from)(\\S+) ").matcher(df);
    while (copy.find()) {
      assertThat(DEPLOY.getParent().resolve(copy.group(1))).as("COPY %s", copy.group(1)).exists();
    }
  }

  // ------------------------------------------------------------------ distribution

  /** Test and test-tool jars that must never reach the runtime classpath (issue 10). */
  static final Pattern TEST_JAR = Pattern.compile(
      "^(junit|assertj|opentest4j|apiguardian|archunit|byte-buddy|mockito|hamcrest|reactor-|mcp-|mcp\\.|"
          + "json-schema-validator|mock-oauth2).*|.*testkit.*");

  /**
   * node/target/lib is what {@code ./bastion} and the Dockerfile run: only compile and runtime
   * scope dependencies of the node. Third-party jars are there once the node is compiled; after
   * {@code mvn package} the jar's manifest lists exactly the jars of lib/ and names the main class.
   */
  @Test
  void theNodesLibHoldsOnlyRuntimeDependencies() throws IOException {
    Path target = DEPLOY.getParent().resolve("node/target");
    Path lib = target.resolve("lib");
    assertThat(lib).as("node/target/lib (build the node first: mvn package, or mvn test from the root)")
        .isDirectory();
    List<String> jars;
    try (Stream<Path> files = Files.list(lib)) {
      jars = files.map(p -> p.getFileName().toString()).sorted().toList();
    }
    assertThat(jars).isNotEmpty().allSatisfy(j -> assertThat(j).endsWith(".jar"));
    assertThat(jars).filteredOn(j -> TEST_JAR.matcher(j).matches()).as("test jars in lib/").isEmpty();
    assertThat(jars).anyMatch(j -> j.startsWith("pekko-cluster-sharding-typed_2.13-"))
        .anyMatch(j -> j.startsWith("pekko-http_2.13-")).anyMatch(j -> j.startsWith("logback-classic-"))
        .anyMatch(j -> j.startsWith("h2-")).anyMatch(j -> j.startsWith("postgresql-"));
    Path jar = target.resolve("bastion-node-0.1.0-SNAPSHOT.jar");
    if (Files.isRegularFile(jar)) {
      java.util.jar.Manifest mf;
      try (java.util.jar.JarFile jf = new java.util.jar.JarFile(jar.toFile())) {
        mf = jf.getManifest();
      }
      assertThat(mf.getMainAttributes().getValue("Main-Class")).isEqualTo("io.bastion.node.Main");
      List<String> classPath = List.of(mf.getMainAttributes().getValue("Class-Path").trim().split("\\s+"));
      assertThat(classPath).allSatisfy(e -> assertThat(e).startsWith("lib/"))
          .allSatisfy(e -> assertThat(lib.resolve(e.substring(4))).as(e).isRegularFile());
      assertThat(classPath).filteredOn(e -> TEST_JAR.matcher(e.substring(4)).matches()).isEmpty();
      // and nothing else: no jar of an earlier dependency version left beside its successor
      assertThat(jars).containsExactlyInAnyOrderElementsOf(classPath.stream().map(e -> e.substring(4)).toList());
      assertThat(classPath).anyMatch(e -> e.startsWith("lib/bastion-protocol-"));
    }
  }

  @Test
  void theLauncherRunsTheDistributionNotAClasspathOfItsOwn() throws IOException {
    String launcher = Files.readString(DEPLOY.getParent().resolve("bastion"));
    assertThat(launcher).contains("-jar \"$jar\"").contains("node/target/lib")
        .doesNotContain("build-classpath").doesNotContain("classpath.txt");
  }

  // ------------------------------------------------------------------ compose

  @Test
  void composeRunsThreeNodesOnPostgresWithConsistentSeedsAndPorts() throws IOException {
    JsonNode compose = documents(DEPLOY.resolve("compose/docker-compose.yml")).get(0);
    JsonNode services = compose.path("services");
    assertThat(services.has("postgres")).isTrue();
    List<String> nodes = new ArrayList<>();
    services.fieldNames().forEachRemaining(n -> { if (n.startsWith("bastion-")) nodes.add(n); });
    assertThat(nodes).hasSize(3);
    // Compose interpolates the whole file: $${VAR} becomes the ${VAR} Bastion then reads.
    String yaml = compose.path("configs").path("bastion_yaml").path("content").asText().replace("$$", "$");
    JsonNode pg = services.path("postgres").path("environment");
    for (String node : nodes) {
      JsonNode svc = services.path(node);
      assertThat(svc.path("build").path("dockerfile").asText()).isEqualTo("deploy/docker/Dockerfile");
      assertThat(DEPLOY.getParent().resolve("deploy/compose").resolve(svc.path("build").path("context").asText())
          .resolve(svc.path("build").path("dockerfile").asText()).normalize()).exists();
      assertThat(svc.path("configs").get(0).path("target").asText()).isEqualTo(CONFIG_PATH);
      assertThat(svc.path("depends_on").path("postgres").path("condition").asText()).isEqualTo("service_healthy");
      Map<String, String> env = new HashMap<>();
      svc.path("environment").fields().forEachRemaining(e -> env.put(e.getKey(), composeDefault(e.getValue().asText())));
      assertThat(env.get("BASTION_CLUSTER_HOST")).isEqualTo(node);
      BastionConfig c = ConfigLoader.parse(yaml, Path.of("docker-compose.yml#bastion_yaml"), env);
      assertThat(c.gateway().port()).isEqualTo(HTTP);
      assertThat(c.store().type()).isEqualTo(StoreConfig.Type.POSTGRES);
      assertThat(c.store().url()).isEqualTo("jdbc:postgresql://postgres:5432/" + pg.path("POSTGRES_DB").asText());
      assertThat(c.store().user()).isEqualTo(pg.path("POSTGRES_USER").asText());
      assertThat(c.store().password()).isEqualTo(composeDefault(pg.path("POSTGRES_PASSWORD").asText()));
      ClusterConfig cluster = c.cluster();
      assertThat(cluster.host()).isEqualTo(node);
      int artery = cluster.port();
      List<String> seeds = cluster.seedNodes();
      assertThat(seeds).isNotEmpty().allSatisfy(s -> {
        assertThat(nodes).contains(s.substring(0, s.indexOf(':')));
        assertThat(s).endsWith(":" + artery);
      });
      assertThat(cluster.management().enabled()).isTrue();
      int mgmt = cluster.management().port();
      List<String> ports = new ArrayList<>();
      svc.path("ports").forEach(p -> ports.add(p.asText()));
      assertThat(ports).anyMatch(p -> p.endsWith(":" + HTTP)).anyMatch(p -> p.endsWith(":" + mgmt));
      assertThat(svc.path("healthcheck").path("test").toString())
          .contains("http://127.0.0.1:" + c.gateway().port() + "/health/ready");
    }
  }

  // ------------------------------------------------------------------ Kubernetes

  @Test
  void kubernetesManifestsAgreeWithTheConfigAndEachOther() throws IOException {
    Map<String, JsonNode> byKindName = new HashMap<>();
    try (Stream<Path> s = Files.list(DEPLOY.resolve("k8s"))) {
      for (Path f : s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        for (JsonNode d : documents(f)) {
          assertThat(d.path("apiVersion").asText()).as(f + ": apiVersion").isNotEmpty();
          String key = d.path("kind").asText() + "/" + d.path("metadata").path("name").asText();
          assertThat(byKindName.put(key, d)).as("duplicate " + key).isNull();
          if (!d.path("kind").asText().equals("Namespace")) {
            assertThat(d.path("metadata").path("namespace").asText()).as(key).isEqualTo("bastion");
          }
        }
      }
    }
    JsonNode sts = byKindName.get("StatefulSet/bastion");
    JsonNode cm = byKindName.get("ConfigMap/bastion-config");
    JsonNode secret = byKindName.get("Secret/bastion-secrets");
    JsonNode pdb = byKindName.get("PodDisruptionBudget/bastion");
    assertThat(sts).isNotNull();
    assertThat(cm).isNotNull();
    assertThat(secret).isNotNull();
    assertThat(pdb).isNotNull();
    String headlessName = sts.path("spec").path("serviceName").asText();
    JsonNode headless = byKindName.get("Service/" + headlessName);
    JsonNode http = byKindName.get("Service/bastion");
    assertThat(headless).as("headless service " + headlessName).isNotNull();
    assertThat(headless.path("spec").path("clusterIP").asText()).isEqualTo("None");
    assertThat(http).isNotNull();

    JsonNode podSpec = sts.path("spec").path("template").path("spec");
    JsonNode podLabels = sts.path("spec").path("template").path("metadata").path("labels");
    JsonNode container = podSpec.path("containers").get(0);
    Map<String, Integer> containerPorts = new HashMap<>();
    container.path("ports").forEach(p -> containerPorts.put(p.path("name").asText(), p.path("containerPort").asInt()));

    // env: plain values resolved with the pod name bastion-0; secrets from the Secret's keys
    Map<String, String> env = new HashMap<>();
    for (JsonNode e : container.path("env")) {
      String name = e.path("name").asText();
      JsonNode from = e.path("valueFrom");
      if (from.has("secretKeyRef")) {
        JsonNode ref = from.path("secretKeyRef");
        assertThat(ref.path("name").asText()).isEqualTo("bastion-secrets");
        assertThat(secret.path("stringData").has(ref.path("key").asText())).as("secret key " + ref).isTrue();
        env.put(name, secret.path("stringData").path(ref.path("key").asText()).asText());
      } else if (from.has("fieldRef")) {
        assertThat(from.path("fieldRef").path("fieldPath").asText()).isEqualTo("metadata.name");
        env.put(name, "bastion-0");
      } else {
        env.put(name, e.path("value").asText().replace("$(POD_NAME)", "bastion-0"));
      }
    }
    String yaml = cm.path("data").path("bastion.yaml").asText();
    BastionConfig c = ConfigLoader.parse(yaml, Path.of("configmap.yaml#bastion.yaml"), env);
    ClusterConfig cluster = c.cluster();

    // HTTP: config port = container port = probes = Service target
    int httpPort = c.gateway().port();
    assertThat(httpPort).isEqualTo(HTTP);
    assertThat(c.gateway().host()).isEqualTo("0.0.0.0");
    assertThat(containerPorts.get("http")).isEqualTo(httpPort);
    JsonNode ready = container.path("readinessProbe").path("httpGet");
    JsonNode live = container.path("livenessProbe").path("httpGet");
    assertThat(ready.path("path").asText()).isEqualTo("/health/ready");
    assertThat(live.path("path").asText()).isEqualTo("/health/live");
    assertThat(port(ready.path("port"), containerPorts)).isEqualTo(httpPort);
    assertThat(port(live.path("port"), containerPorts)).isEqualTo(httpPort);
    assertThat(port(http.path("spec").path("ports").get(0).path("targetPort"), containerPorts)).isEqualTo(httpPort);

    // Artery and management: config = container ports = headless Service
    int artery = cluster.port();
    int mgmt = cluster.management().port();
    assertThat(cluster.management().enabled()).isTrue();
    assertThat(artery).isEqualTo(ARTERY);
    assertThat(mgmt).isEqualTo(MANAGEMENT);
    assertThat(containerPorts.get("artery")).isEqualTo(artery);
    assertThat(containerPorts.get("management")).isEqualTo(mgmt);
    Map<String, Integer> headlessPorts = new HashMap<>();
    headless.path("spec").path("ports").forEach(p -> headlessPorts.put(p.path("name").asText(),
        port(p.path("targetPort"), containerPorts)));
    assertThat(headlessPorts).containsEntry("artery", artery).containsEntry("management", mgmt);
    assertThat(headless.path("spec").path("publishNotReadyAddresses").asBoolean()).isTrue();

    // Seeds: stable StatefulSet names <sts>-<i>.<headless>.<ns>.svc..., i < replicas; this pod's host likewise
    String suffix = "." + headlessName + ".bastion.svc.cluster.local";
    int replicas = sts.path("spec").path("replicas").asInt();
    assertThat(replicas).isGreaterThanOrEqualTo(3);
    List<String> seeds = cluster.seedNodes();
    assertThat(seeds).isNotEmpty().first().isEqualTo("bastion-0" + suffix + ":" + artery);
    for (String s : seeds) {
      assertThat(s).matches("bastion-(\\d+)" + Pattern.quote(suffix + ":" + artery));
      assertThat(Integer.parseInt(s.substring("bastion-".length(), s.indexOf('.')))).isLessThan(replicas);
    }
    assertThat(cluster.host()).isEqualTo("bastion-0" + suffix);

    // Selectors match the pod labels
    for (JsonNode sel : List.of(sts.path("spec").path("selector").path("matchLabels"),
        pdb.path("spec").path("selector").path("matchLabels"), headless.path("spec").path("selector"),
        http.path("spec").path("selector"))) {
      sel.fields().forEachRemaining(e -> assertThat(podLabels.path(e.getKey()).asText()).isEqualTo(e.getValue().asText()));
    }
    assertThat(pdb.path("spec").path("maxUnavailable").asInt()).isEqualTo(1);

    // The ConfigMap is mounted where the image's entrypoint reads it
    String mountPath = null;
    for (JsonNode m : container.path("volumeMounts")) {
      if (m.path("name").asText().equals("config")) {
        mountPath = m.path("mountPath").asText();
      }
    }
    String itemPath = null;
    for (JsonNode v : podSpec.path("volumes")) {
      if (v.path("name").asText().equals("config")) {
        assertThat(v.path("configMap").path("name").asText()).isEqualTo("bastion-config");
        itemPath = v.path("configMap").path("items").get(0).path("path").asText();
      }
    }
    assertThat(mountPath + "/" + itemPath).isEqualTo(CONFIG_PATH);
    assertThat(c.store().type()).isEqualTo(StoreConfig.Type.POSTGRES);
    assertThat(c.store().password()).isEqualTo(secret.path("stringData").path("postgres-password").asText());
    assertThat(c.adminToken()).isEqualTo(secret.path("stringData").path("admin-token").asText());
  }

  // ------------------------------------------------------------------ helpers

  static List<Path> yamlFiles() throws IOException {
    try (Stream<Path> s = Files.walk(DEPLOY)) {
      return s.filter(p -> p.toString().matches(".*\\.ya?ml") && !p.toString().contains("/target/")
          && !p.toString().contains("/src/")).sorted().toList();
    }
  }

  static List<JsonNode> documents(Path f) throws IOException {
    List<JsonNode> docs = new ArrayList<>();
    try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(f.toFile())) {
      while (it.hasNext()) {
        JsonNode n = it.next();
        if (n != null && !n.isNull() && !n.isMissingNode()) {
          docs.add(n);
        }
      }
    }
    return docs;
  }

  /** The YAML tree with {@code ${VAR}} / {@code ${VAR:-default}} replaced as Bastion does (strings only). */
  static JsonNode interpolated(String yaml, Map<String, String> env) throws IOException {
    Pattern ref = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
    StringBuilder sb = new StringBuilder();
    Matcher m = ref.matcher(yaml);
    while (m.find()) {
      String v = env.get(m.group(1));
      if (v == null || v.isEmpty()) {
        v = m.group(2) == null ? "" : m.group(2);
      }
      m.appendReplacement(sb, Matcher.quoteReplacement(v));
    }
    m.appendTail(sb);
    return YAML.readTree(sb.toString());
  }

  /** Compose's {@code ${VAR:-default}} in an environment value, with no variables set. */
  static String composeDefault(String v) {
    Matcher m = Pattern.compile("^\\$\\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)}$").matcher(v);
    return m.matches() ? m.group(1) : v;
  }

  static Map<String, String> dockerfileEnv() throws IOException {
    String df = Files.readString(DEPLOY.resolve("docker/Dockerfile")).replace("\\\n", " ");
    Map<String, String> env = new HashMap<>();
    Matcher line = Pattern.compile("(?m)^ENV (.+)$").matcher(df);
    while (line.find()) {
      Matcher kv = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\\S+)").matcher(line.group(1));
      while (kv.find()) {
        env.put(kv.group(1), kv.group(2).replace("\"", ""));
      }
    }
    return env;
  }

  static String line(String text, String start) {
    String joined = text.replace("\\\n", " ");
    return joined.lines().filter(l -> l.startsWith(start)).findFirst().orElseThrow(() -> new AssertionError("no " + start));
  }

  static int port(JsonNode p, Map<String, Integer> named) {
    if (p.isInt()) {
      return p.asInt();
    }
    assertThat(named).as("named port " + p.asText()).containsKey(p.asText());
    return named.get(p.asText());
  }
}
