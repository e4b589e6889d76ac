package io.bastion.node.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;

/**
 * Journal entries written by older classes, kept as test resources so that a rename or a changed
 * field shows up as a failing recovery test rather than as a node that cannot read its journal.
 * Format: one entry per line, {@code <serializer id> <manifest> <base64 bytes>}; {@code #} starts
 * a comment.
 */
public final class JournalFixtures {
  private JournalFixtures() {}

  /** Deserializes every entry of the classpath resource {@code resource} with today's classes. */
  public static List<Object> read(ActorSystem<?> system, String resource) {
    Serialization serialization = SerializationExtension.get(system);
    List<Object> out = new ArrayList<>();
    try (InputStream in = JournalFixtures.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalArgumentException("no resource " + resource);
      }
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      for (String line; (line = r.readLine()) != null; ) {
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        String[] f = line.split(" ");
        out.add(serialization.deserialize(Base64.getDecoder().decode(f[2]), Integer.parseInt(f[0]), f[1]).get());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }
}
