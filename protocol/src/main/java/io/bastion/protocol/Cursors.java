package io.bastion.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Bastion's own opaque pagination cursors over a merged list. Upstream cursors never reach the
 * client: Bastion lists every upstream fully (following their cursors) and pages the merged,
 * sorted list itself. The cursor carries the offset and the list kind, so a cursor from
 * {@code tools/list} is refused by {@code prompts/list}. A cursor that does not decode → -32602.
 */
public final class Cursors {
  private static final String MAGIC = "bastion:1:";

  private Cursors() {}

  public static String encode(String kind, int offset) {
    return Base64.getUrlEncoder().withoutPadding()
        .encodeToString((MAGIC + kind + ":" + offset).getBytes(StandardCharsets.UTF_8));
  }

  /** The offset a cursor points at; throws -32602 for anything Bastion did not mint for this kind. */
  public static int decode(String kind, String cursor) {
    try {
      String s = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
      String expected = MAGIC + kind + ":";
      if (!s.startsWith(expected)) {
        throw new IllegalArgumentException();
      }
      int offset = Integer.parseInt(s.substring(expected.length()));
      if (offset < 0) {
        throw new IllegalArgumentException();
      }
      return offset;
    } catch (IllegalArgumentException e) {
      throw JsonRpcException.invalidParams("Invalid cursor");
    }
  }
}
