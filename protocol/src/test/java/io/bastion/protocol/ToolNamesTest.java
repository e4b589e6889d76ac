package io.bastion.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ToolNamesTest {

  private static final String VALID = "^[a-zA-Z0-9_-]{1,64}$";

  /** The hash, computed independently of the implementation: first 8 hex digits of SHA-256. */
  private static String sha8(String s) throws Exception {
    byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(d).substring(0, 8);
  }

  @Test
  void anEmptyPrefixExposesTheBareName() {
    assertThat(ToolNames.expose("", "search")).isEqualTo("search");
    assertThat(ToolNames.expose(null, "get-file_2")).isEqualTo("get-file_2");
  }

  @Test
  void aPrefixIsJoinedWithADoubleUnderscore() {
    assertThat(ToolNames.expose("github", "search_issues")).isEqualTo("github__search_issues");
    assertThat(ToolNames.expose("gh-mcp", "a__b")).isEqualTo("gh-mcp__a__b");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "fs | read.file   | fs__read_file",
      "fs | a/b/c       | fs__a_b_c",
      "fs | with space  | fs__with_space",
      "fs | café        | fs__caf_",
      "'' | tool.v2     | tool_v2",
      "my.srv | x       | my_srv__x"})
  void invalidCharactersAreReplacedAndAHashSuffixIsAdded(String prefix, String name, String sanitized) throws Exception {
    String exposed = ToolNames.expose(prefix, name);

    assertThat(exposed).isEqualTo(sanitized + "_" + sha8(prefix + "\u0000" + name));
    assertThat(exposed).matches(VALID);
  }

  @Test
  void unicodeOutsideTheBasicPlaneIsSanitizedToo() {
    String exposed = ToolNames.expose("emoji", "rocket\uD83D\uDE80launch");

    assertThat(exposed).matches(VALID).startsWith("emoji__rocket").contains("launch").matches(".*_[0-9a-f]{8}$");
  }

  @Test
  void theHashSuffixIsDeterministic() {
    assertThat(ToolNames.expose("fs", "read.file")).isEqualTo(ToolNames.expose("fs", "read.file"));
    assertThat(ToolNames.disambiguate("x__y", "srv")).isEqualTo(ToolNames.disambiguate("x__y", "srv"));
  }

  @Test
  void differentOriginalsThatSanitizeAlikeGetDifferentExposedNames() {
    String dot = ToolNames.expose("fs", "read.file");
    String slash = ToolNames.expose("fs", "read/file");
    String space = ToolNames.expose("fs", "read file");
    String valid = ToolNames.expose("fs", "read_file");

    assertThat(dot).isNotEqualTo(slash).isNotEqualTo(space).isNotEqualTo(valid);
    assertThat(slash).isNotEqualTo(space).isNotEqualTo(valid);
    assertThat(space).isNotEqualTo(valid);
    assertThat(valid).isEqualTo("fs__read_file");
  }

  @Test
  void theHashCoversPrefixAndNameSeparatelyNotJustTheJoinedText() {
    // Both join to "x___y.z" and sanitize to "x___y_z"; only the (prefix, name) pair tells them apart.
    String one = ToolNames.expose("x", "_y.z");
    String two = ToolNames.expose("x_", "y.z");

    assertThat(one).startsWith("x___y_z_").isNotEqualTo(two);
    assertThat(two).startsWith("x___y_z_");
  }

  @Test
  void aLongValidNameIsShortenedTo64Deterministically() throws Exception {
    String name = "x".repeat(80);

    String exposed = ToolNames.expose("server", name);

    assertThat(exposed).hasSize(64).matches(VALID);
    assertThat(exposed).isEqualTo(("server__" + name).substring(0, 55) + "_" + sha8("server\u0000" + name));
    assertThat(ToolNames.expose("server", name)).isEqualTo(exposed);
  }

  @Test
  void twoLongNamesSharingTheirFirst64CharactersStayDistinct() {
    String common = "y".repeat(70);

    assertThat(ToolNames.expose("p", common + "a")).isNotEqualTo(ToolNames.expose("p", common + "b"));
  }

  @Test
  void aNameOf64CharactersIsKeptAndOf65IsShortened() {
    String sixtyFour = "ab__" + "n".repeat(60);
    assertThat(ToolNames.expose("ab", "n".repeat(60))).isEqualTo(sixtyFour);
    assertThat(ToolNames.expose("ab", "n".repeat(61))).hasSize(64).isNotEqualTo("ab__" + "n".repeat(60));
  }

  @Test
  void disambiguateAppendsTheServerHashAndStaysWithin64() throws Exception {
    assertThat(ToolNames.disambiguate("search", "beta")).isEqualTo("search_" + sha8("beta\u0000search"));

    String long64 = "z".repeat(64);
    String d = ToolNames.disambiguate(long64, "srv");
    assertThat(d).hasSize(64).matches(VALID).isNotEqualTo(long64);
    assertThat(ToolNames.disambiguate(long64, "other")).isNotEqualTo(d);
  }

  @Test
  void everyExposedNameIsValidForRandomInputs() {
    Random random = new Random(20250611L);
    String alphabet = "abcXYZ019_-.:/ @#$%\t\néü中\uD83D\uDE80";
    Map<String, String> originalByExposed = new HashMap<>();
    for (int i = 0; i < 5_000; i++) {
      String prefix = random.nextInt(4) == 0 ? "" : randomString(random, alphabet, 1 + random.nextInt(20));
      String name = randomString(random, alphabet, 1 + random.nextInt(random.nextBoolean() ? 10 : 120));

      String exposed = ToolNames.expose(prefix, name);

      assertThat(exposed).as("expose(%s, %s)", prefix, name).matches(VALID);
      assertThat(ToolNames.expose(prefix, name)).isEqualTo(exposed);
      assertThat(ToolNames.disambiguate(exposed, "server-" + i)).matches(VALID);
      if (exposed.equals(prefix.isEmpty() ? name : prefix + "__" + name)) {
        continue; // valid originals are kept as they are; their clashes are the catalog's to resolve
      }
      String original = prefix + "\u0000" + name;
      String previous = originalByExposed.putIfAbsent(exposed, original);
      assertThat(previous).as("%s and %s both exposed as %s", previous, original, exposed)
          .satisfiesAnyOf(p -> assertThat(p).isNull(), p -> assertThat(p).isEqualTo(original));
    }
  }

  private static String randomString(Random random, String alphabet, int length) {
    int[] cps = alphabet.codePoints().toArray();
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < length; i++) {
      sb.appendCodePoint(cps[random.nextInt(cps.length)]);
    }
    return sb.toString();
  }
}
