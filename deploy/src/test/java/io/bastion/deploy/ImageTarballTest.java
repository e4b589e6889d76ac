package io.bastion.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The OCI image tarball Jib builds without a Docker daemon ({@code mvn -Pimage package}, see
 * node/pom.xml): its config runs the node as a non-root user with the config path and ports the
 * other deployment files use, and its layers hold the runtime jars (no test jars) and the example
 * config at {@code /etc/bastion/bastion.yaml}. Runs when {@code node/target/jib-image.tar} exists;
 * without it (a plain {@code mvn test}) it is skipped, saying how to build it.
 */
class ImageTarballTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path TAR = DeployFilesTest.DEPLOY.getParent().resolve("node/target/jib-image.tar");

  /** One tar entry: its mode and its bytes (directories have none). */
  record Entry(int mode, byte[] data) {}

  @Test
  void theImageRunsTheNodeAsANonRootUserWithTheDeploymentsPortsAndConfigPath() throws IOException {
    Assumptions.assumeTrue(Files.isRegularFile(TAR),
        "no image tarball: build it with mvn -Pimage package (-Dbastion.image.base=scratch where no registry is reachable)");
    Map<String, Entry> oci = untar(Files.readAllBytes(TAR));
    assertThat(oci).containsKeys("oci-layout", "index.json");
    JsonNode index = JSON.readTree(oci.get("index.json").data());
    assertThat(index.get("manifests")).hasSize(1);
    JsonNode ref = index.get("manifests").get(0);
    assertThat(ref.get("mediaType").asText()).isEqualTo("application/vnd.oci.image.manifest.v1+json");
    assertThat(ref.at("/annotations/org.opencontainers.image.ref.name").asText()).startsWith("bastion:");
    JsonNode manifest = JSON.readTree(blob(oci, ref.get("digest").asText()));
    JsonNode config = JSON.readTree(blob(oci, manifest.at("/config/digest").asText())).get("config");

    List<String> entrypoint = strings(config.get("Entrypoint"));
    assertThat(entrypoint).first().isEqualTo("java");
    assertThat(entrypoint).last().isEqualTo("io.bastion.node.Main");
    String cmd = String.join(" ", strings(config.get("Cmd")));
    assertThat(cmd).contains("--config " + DeployFilesTest.CONFIG_PATH, "--port " + DeployFilesTest.HTTP);
    assertThat(config.get("User").asText()).isEqualTo("10001:10001");
    List<String> ports = new ArrayList<>();
    config.get("ExposedPorts").fieldNames().forEachRemaining(ports::add);
    assertThat(ports).containsExactlyInAnyOrder(DeployFilesTest.HTTP + "/tcp", DeployFilesTest.ARTERY + "/tcp",
        DeployFilesTest.MANAGEMENT + "/tcp");
    Map<String, String> env = new HashMap<>();
    strings(config.get("Env")).forEach(e -> env.put(e.substring(0, e.indexOf('=')), e.substring(e.indexOf('=') + 1)));
    // The same environment as the Dockerfile's image, so the example config binds the same ports.
    DeployFilesTest.dockerfileEnv().forEach((k, v) -> {
      if (k.startsWith("BASTION_")) {
        assertThat(env).containsEntry(k, v);
      }
    });

    Map<String, Entry> files = new LinkedHashMap<>();
    for (JsonNode layer : manifest.get("layers")) {
      assertThat(layer.get("mediaType").asText()).isEqualTo("application/vnd.oci.image.layer.v1.tar+gzip");
      try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(blob(oci, layer.get("digest").asText())))) {
        files.putAll(untar(in.readAllBytes()));
      }
    }
    Entry yaml = files.get("etc/bastion/bastion.yaml");
    assertThat(yaml).as("the config at " + DeployFilesTest.CONFIG_PATH).isNotNull();
    assertThat(new String(yaml.data(), StandardCharsets.UTF_8))
        .isEqualTo(Files.readString(DeployFilesTest.DEPLOY.resolve("config/cluster-example.yaml")));
    assertThat(files.get("var/lib/bastion/data").mode() & 0777).as("data directory writable by the node's user")
        .isEqualTo(0777);
    List<String> jars = files.keySet().stream().filter(n -> n.startsWith("app/libs/") && n.endsWith(".jar"))
        .map(n -> n.substring("app/libs/".length())).toList();
    assertThat(jars).anyMatch(j -> j.startsWith("bastion-protocol-")).anyMatch(j -> j.startsWith("pekko-http_2.13-"));
    assertThat(jars).filteredOn(j -> DeployFilesTest.TEST_JAR.matcher(j).matches()).as("test jars in the image").isEmpty();
    assertThat(files).containsKey("app/classpath/bastion-node-0.1.0-SNAPSHOT.jar");
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static byte[] blob(Map<String, Entry> oci, String digest) {
    Entry e = oci.get("blobs/sha256/" + digest.substring("sha256:".length()));
    assertThat(e).as("blob " + digest).isNotNull();
    return e.data();
  }

  /** A tar's regular files and directories by name (ustar, with PAX {@code path} records). */
  static Map<String, Entry> untar(byte[] tar) {
    Map<String, Entry> out = new LinkedHashMap<>();
    int pos = 0;
    String paxPath = null;
    while (pos + 512 <= tar.length && tar[pos] != 0) {
      String name = field(tar, pos, 100);
      int mode = Integer.parseInt(field(tar, pos + 100, 8).trim(), 8);
      long size = Long.parseLong(field(tar, pos + 124, 12).trim(), 8);
      char type = (char) tar[pos + 156];
      String prefix = field(tar, pos + 345, 155);
      byte[] data = java.util.Arrays.copyOfRange(tar, pos + 512, pos + 512 + (int) size);
      pos += 512 + (int) ((size + 511) / 512 * 512);
      if (type == 'x') {
        for (String rec : new String(data, StandardCharsets.UTF_8).split("\n")) {
          int eq = rec.indexOf(" path=");
          if (eq >= 0) {
            paxPath = rec.substring(eq + " path=".length());
          }
        }
        continue;
      }
      String full = paxPath != null ? paxPath : prefix.isEmpty() ? name : prefix + "/" + name;
      paxPath = null;
      if (full.startsWith("./")) {
        full = full.substring(2);
      }
      if (full.endsWith("/")) {
        full = full.substring(0, full.length() - 1);
      }
      out.put(full, new Entry(mode, data));
    }
    return out;
  }

  private static String field(byte[] b, int off, int len) {
    int end = off;
    while (end < off + len && b[end] != 0) {
      end++;
    }
    return new String(b, off, end - off, StandardCharsets.US_ASCII);
  }
}
