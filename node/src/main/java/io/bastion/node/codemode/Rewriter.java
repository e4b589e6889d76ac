package io.bastion.node.codemode;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import net.starlark.java.syntax.AssignmentStatement;
import net.starlark.java.syntax.BinaryOperatorExpression;
import net.starlark.java.syntax.CallExpression;
import net.starlark.java.syntax.DotExpression;
import net.starlark.java.syntax.Expression;
import net.starlark.java.syntax.NodeVisitor;
import net.starlark.java.syntax.StarlarkFile;
import net.starlark.java.syntax.TokenKind;

/**
 * Starlark has no memory limit, so every operation that can build a value much larger than its
 * inputs is routed through a size check before it runs: the parsed program's left operand of
 * {@code + * % <<}, the right side of {@code += *= %= <<=}, and the receiver of the growing
 * methods ({@code join replace format extend update}) are wrapped in a call to a guard ({@link
 * Guards}) that checks the result's size and then performs the operation itself.
 *
 * <p>The rewrite works on the parser's own tree (node offsets), inserting text only inside each
 * wrapped expression's span, so parentheses stay balanced and line numbers do not move.
 */
final class Rewriter {

  static final String GUARD = "__bastion_guard";
  static final String GUARD_RIGHT = "__bastion_guard_right";

  private static final Set<TokenKind> GROWING_OPS =
      Set.of(TokenKind.PLUS, TokenKind.STAR, TokenKind.PERCENT, TokenKind.LESS_LESS);
  static final Set<String> GROWING_METHODS = Set.of("join", "replace", "format", "extend", "update");

  static final String MAIN = "__bastion_main";
  static final String RESULT = "__bastion_result";
  static final String UNSET = "__bastion_unset";

  private Rewriter() {}

  /**
   * A program ready to run, and for each of its lines the program's own line (for messages).
   */
  record Hoisted(String source, int[] lines) {
    int original(int line) {
      return line >= 1 && line <= lines.length ? lines[line - 1] : line;
    }
  }

  /**
   * Java Starlark (like Bazel's BUILD dialect) refuses {@code for} and {@code if} at the top
   * level, where models write them. So the program's top-level {@code def}s stay on top and every
   * other top-level statement moves, in order, into one function that is then called; it starts
   * with {@code result} unset and returns it. Lines are indented by four spaces (a triple-quoted
   * string spanning lines gains them too); {@link Hoisted#lines} maps lines back.
   */
  static Hoisted hoist(String source, StarlarkFile file) {
    String[] lines = source.split("\n", -1);
    StringBuilder defs = new StringBuilder();
    List<Integer> defLines = new ArrayList<>();
    StringBuilder main = new StringBuilder();
    List<Integer> mainLines = new ArrayList<>();
    int done = 0;
    for (net.starlark.java.syntax.Statement st : file.getStatements()) {
      int from = st.getStartLocation().line();
      int to = Math.max(from, st.getEndLocation().line());
      if (from <= done) {
        continue; // shares a line with the statement before (a; b)
      }
      boolean def = st instanceof net.starlark.java.syntax.DefStatement;
      for (int l = from; l <= to && l <= lines.length; l++) {
        if (def) {
          defs.append(lines[l - 1]).append('\n');
          defLines.add(l);
        } else {
          main.append("    ").append(lines[l - 1]).append('\n');
          mainLines.add(l);
        }
      }
      done = to;
    }
    StringBuilder out = new StringBuilder(defs);
    List<Integer> map = new ArrayList<>(defLines);
    out.append("def ").append(MAIN).append("():\n    result = ").append(UNSET).append('\n');
    map.add(1);
    map.add(1);
    out.append(main);
    map.addAll(mainLines);
    out.append("    return result\n").append(RESULT).append(" = ").append(MAIN).append("()\n");
    int last = lines.length;
    map.add(last);
    map.add(last);
    return new Hoisted(out.toString(), map.stream().mapToInt(Integer::intValue).toArray());
  }

  private record Insert(int offset, boolean close, String text) {}

  /** The program with its growing operations guarded; {@code file} is {@code source} parsed, without errors. */
  static String rewrite(String source, StarlarkFile file) {
    List<Insert> inserts = new ArrayList<>();
    new NodeVisitor() {
      private void wrap(Expression e, String fn) {
        inserts.add(new Insert(e.getStartOffset(), false, fn + "("));
        inserts.add(new Insert(e.getEndOffset(), true, ")"));
      }

      @Override
      public void visit(BinaryOperatorExpression e) {
        if (GROWING_OPS.contains(e.getOperator())) {
          wrap(e.getX(), GUARD);
        }
        super.visit(e);
      }

      @Override
      public void visit(AssignmentStatement s) {
        if (s.isAugmented() && GROWING_OPS.contains(s.getOperator())) {
          wrap(s.getRHS(), GUARD_RIGHT);
        }
        super.visit(s);
      }

      @Override
      public void visit(CallExpression c) {
        if (c.getFunction() instanceof DotExpression d && GROWING_METHODS.contains(d.getField().getName())) {
          wrap(d.getObject(), GUARD);
        }
        super.visit(c);
      }
    }.visit(file);
    if (inserts.isEmpty()) {
      return source;
    }
    // At one offset, closing parentheses end expressions that began earlier: they come first.
    inserts.sort(Comparator.comparingInt(Insert::offset).thenComparing(i -> !i.close()));
    StringBuilder b = new StringBuilder(source.length() + inserts.size() * 20);
    int at = 0;
    for (Insert i : inserts) {
      b.append(source, at, i.offset()).append(i.text());
      at = i.offset();
    }
    return b.append(source, at, source.length()).toString();
  }
}
