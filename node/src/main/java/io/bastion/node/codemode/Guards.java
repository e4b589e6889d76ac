package io.bastion.node.codemode;

import com.google.common.collect.ImmutableList;
import java.util.Map;
import net.starlark.java.eval.Dict;
import net.starlark.java.eval.EvalException;
import net.starlark.java.eval.HasBinary;
import net.starlark.java.eval.Sequence;
import net.starlark.java.eval.Starlark;
import net.starlark.java.eval.StarlarkCallable;
import net.starlark.java.eval.StarlarkFloat;
import net.starlark.java.eval.StarlarkInt;
import net.starlark.java.eval.StarlarkThread;
import net.starlark.java.eval.Structure;
import net.starlark.java.syntax.TokenKind;

/**
 * The size checks behind {@link Rewriter}: each one estimates what an operation would build and
 * refuses it with a clear error when that exceeds {@code limits.max_value_size}, before any memory
 * is taken. Strings count their characters, lists, tuples and dicts 8 per entry, ints their bytes.
 */
final class Guards {

  private Guards() {}

  /** Bytes counted per list, tuple or dict entry. */
  static final long ENTRY = 8;
  /** Printed values deeper than this are refused (Starlark prints them recursively). */
  static final int MAX_DEPTH = 200;

  /** A limit of the run was reached (not a mistake in the program's logic). */
  static final class LimitExceeded extends EvalException {
    LimitExceeded(String message) {
      super(message);
    }
  }

  static EvalException tooLarge(String what, long size, long limit) {
    return new LimitExceeded("value too large: " + what + " would take about " + size + " bytes; the limit is "
        + limit + " (limits.max_value_size)");
  }

  /** The size of {@code v} as counted here (no walk: its own length only). */
  static long shallow(Object v) {
    if (v instanceof String s) {
      return s.length();
    }
    if (v instanceof Sequence<?> q) {
      return q.size() * ENTRY;
    }
    if (v instanceof Dict<?, ?> d) {
      return d.size() * ENTRY;
    }
    if (v instanceof StarlarkInt i) {
      return i.toBigInteger().bitLength() / 8 + 1;
    }
    return 0;
  }

  /**
   * The length of {@code v} printed, counted until it passes {@code limit} (then {@code limit + 1}):
   * the walk stops early, so it costs at most about {@code limit} steps.
   */
  static long printed(Object v, long limit) throws EvalException {
    long[] total = {0};
    walk(v, limit, total, 0);
    return total[0];
  }

  private static void walk(Object v, long limit, long[] total, int depth) throws EvalException {
    if (total[0] > limit) {
      return;
    }
    if (depth > MAX_DEPTH) {
      throw new LimitExceeded("value nested more than " + MAX_DEPTH + " levels deep");
    }
    if (v instanceof String s) {
      total[0] += s.length() + 2;
    } else if (v instanceof Sequence<?> q) {
      total[0] += 2;
      for (Object e : q) {
        total[0] += 2;
        walk(e, limit, total, depth + 1);
        if (total[0] > limit) {
          return;
        }
      }
    } else if (v instanceof Dict<?, ?> d) {
      total[0] += 2;
      for (Map.Entry<?, ?> e : d.entrySet()) {
        total[0] += 4;
        walk(e.getKey(), limit, total, depth + 1);
        walk(e.getValue(), limit, total, depth + 1);
        if (total[0] > limit) {
          return;
        }
      }
    } else if (v instanceof StarlarkInt i) {
      total[0] += i.toBigInteger().bitLength() / 3 + 2;
    } else if (v instanceof StarlarkFloat || v instanceof Boolean || Starlark.isNullOrNone(v)) {
      total[0] += 24;
    } else {
      total[0] += 64;
    }
    if (total[0] > limit) {
      total[0] = limit + 1;
    }
  }

  /** Refuses a value whose printed form would pass the limit. */
  static void checkPrinted(String what, Object v, long limit) throws EvalException {
    long n = printed(v, limit);
    if (n > limit) {
      throw tooLarge(what, n, limit);
    }
  }

  /** Refuses an iterable argument with more entries than the limit allows. */
  static void checkEntries(String what, Object v, long limit) throws EvalException {
    if (v instanceof Sequence<?> || v instanceof Dict<?, ?>) {
      long size = (long) Starlark.len(v) * ENTRY;
      if (size > limit) {
        throw tooLarge(what + " over " + Starlark.len(v) + " entries", size, limit);
      }
    }
  }

  /** The estimated size of {@code x op y}, checked; 0 when the operation cannot grow anything. */
  static void checkBinary(TokenKind op, Object x, Object y, long limit) throws EvalException {
    long size = 0;
    String what = Starlark.type(x) + " " + op + " " + Starlark.type(y);
    switch (op) {
      case PLUS -> {
        if ((x instanceof String && y instanceof String) || (x instanceof Sequence<?> && y instanceof Sequence<?>)) {
          size = shallow(x) + shallow(y);
        }
      }
      case STAR -> {
        if (x instanceof StarlarkInt n && !(y instanceof StarlarkInt)) {
          size = repeat(y, n);
        } else if (y instanceof StarlarkInt n && !(x instanceof StarlarkInt)) {
          size = repeat(x, n);
        } else if (x instanceof StarlarkInt && y instanceof StarlarkInt) {
          size = shallow(x) + shallow(y);
        }
      }
      case PERCENT -> {
        if (x instanceof String s) {
          size = s.length() + printed(y, limit);
        }
      }
      case LESS_LESS -> {
        if (x instanceof StarlarkInt a && y instanceof StarlarkInt b) {
          long shift = b.toBigInteger().min(java.math.BigInteger.valueOf(Long.MAX_VALUE / 2)).longValue();
          size = shallow(a) + Math.max(0, shift) / 8;
        }
      }
      default -> size = 0;
    }
    if (size > limit) {
      throw tooLarge(what, size, limit);
    }
  }

  private static long repeat(Object v, StarlarkInt n) {
    long times = n.toBigInteger().min(java.math.BigInteger.valueOf(Long.MAX_VALUE / 1024)).longValue();
    if (times <= 0) {
      return 0;
    }
    long unit = Math.max(1, shallow(v));
    return unit > Long.MAX_VALUE / times ? Long.MAX_VALUE : unit * times;
  }

  /** Checks one of {@link Rewriter#GROWING_METHODS} on {@code receiver} before it runs. */
  static void checkMethod(String name, Object receiver, Object[] positional, Object[] named, long limit)
      throws EvalException {
    switch (name) {
      case "join" -> {
        if (receiver instanceof String sep && positional.length > 0) {
          Object parts = positional[0];
          checkEntries("join", parts, limit);
          long size = 0;
          int n = 0;
          for (Object p : Starlark.toIterable(parts)) {
            size += shallow(p) + sep.length();
            n++;
            if (size > limit) {
              throw tooLarge("join of " + n + "+ strings", size, limit);
            }
          }
        }
      }
      case "replace" -> {
        if (receiver instanceof String s && positional.length >= 2
            && positional[0] instanceof String old && positional[1] instanceof String repl) {
          long times = old.isEmpty() ? s.length() + 1L : s.length() / old.length();
          if (positional.length >= 3 && positional[2] instanceof StarlarkInt count && count.signum() >= 0) {
            times = Math.min(times, count.toBigInteger().min(java.math.BigInteger.valueOf(Long.MAX_VALUE)).longValue());
          }
          long size = s.length() + times * Math.max(0, repl.length() - old.length());
          if (size > limit) {
            throw tooLarge("replace", size, limit);
          }
        }
      }
      case "format" -> {
        if (receiver instanceof String s) {
          long size = s.length();
          for (Object p : positional) {
            size += printed(p, limit);
          }
          for (int i = 1; i < named.length; i += 2) {
            size += printed(named[i], limit);
          }
          if (size > limit) {
            throw tooLarge("format", size, limit);
          }
        }
      }
      case "extend", "update" -> {
        long size = shallow(receiver);
        for (Object p : positional) {
          size += p instanceof Sequence<?> || p instanceof Dict<?, ?> ? Starlark.len(p) * ENTRY : 0;
        }
        size += named.length / 2 * ENTRY;
        if (size > limit) {
          throw tooLarge(name, size, limit);
        }
      }
      default -> { }
    }
  }

  /** A value in a growing position: operators and methods on it are checked, then performed. */
  static final class Guarded implements HasBinary, Structure {
    private final Object value;
    private final boolean right;
    private final StarlarkThread thread;
    private final Sandbox.Run run;

    Guarded(Object value, boolean right, StarlarkThread thread, Sandbox.Run run) {
      this.value = value;
      this.right = right;
      this.thread = thread;
      this.run = run;
    }

    @Override
    public Object binaryOp(TokenKind op, Object that, boolean thisLeft) throws EvalException {
      Object x = thisLeft ? value : that;
      Object y = thisLeft ? that : value;
      long limit = run.limits().maxValueBytes();
      checkBinary(op, x, y, limit);
      try {
        if (right && op == TokenKind.PLUS && x instanceof net.starlark.java.eval.StarlarkList<?>) {
          // x += y on a list extends it in place, as unguarded Starlark does
          Starlark.call(thread, Starlark.getattr(thread.mutability(), thread.getSemantics(), x, "extend", null),
              java.util.List.of(y), Map.of());
          return x;
        }
        return Starlark.fastcall(thread, run.operator(op), new Object[] {x, y}, new Object[0]);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new EvalException("interrupted");
      }
    }

    @Override
    public Object getValue(String name) throws EvalException {
      Object method;
      try {
        method = Starlark.getattr(thread.mutability(), thread.getSemantics(), value, name, null);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new EvalException("interrupted");
      }
      if (method == null) {
        throw Starlark.errorf("'%s' value has no field or method '%s'", Starlark.type(value), name);
      }
      return new StarlarkCallable() {
        @Override
        public Object fastcall(StarlarkThread t, Object[] positional, Object[] named)
            throws EvalException, InterruptedException {
          checkMethod(name, value, positional, named, run.limits().maxValueBytes());
          return Starlark.fastcall(t, method, positional, named);
        }

        @Override
        public String getName() {
          return name;
        }
      };
    }

    @Override
    public ImmutableList<String> getFieldNames() {
      return ImmutableList.of();
    }

    @Override
    public String getErrorMessageForUnknownField(String field) {
      return null;
    }

    @Override
    public String toString() {
      return String.valueOf(value);
    }
  }
}
