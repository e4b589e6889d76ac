package io.bastion.node.codemode;

import java.util.Map;
import java.util.Set;
import net.starlark.java.eval.EvalException;
import net.starlark.java.eval.Starlark;
import net.starlark.java.eval.StarlarkCallable;
import net.starlark.java.eval.StarlarkThread;

/**
 * The globals a program sees: Starlark's builtins, with those that build values or print wrapped in
 * size checks, the guards {@link Rewriter} inserts, and the servers' objects. There is no {@code
 * load}, no file, network, clock or environment access: Starlark has none, and none is added.
 */
final class Builtins {

  private Builtins() {}

  /** The value of {@code result} before the program sets it. */
  enum Unset implements net.starlark.java.eval.StarlarkValue { INSTANCE }

  /** Builtins that iterate over their arguments into a new value (or a long computation). */
  private static final Set<String> ITERATING =
      Set.of("list", "tuple", "sorted", "dict", "enumerate", "zip", "reversed", "max", "min", "all", "any");

  static Map<String, Object> predeclared(Sandbox.Run run, Map<String, Object> bindings) {
    long limit = run.limits().maxValueBytes();
    Map<String, Object> b = new java.util.HashMap<>();
    for (String name : ITERATING) {
      StarlarkCallable real = (StarlarkCallable) Starlark.UNIVERSE.get(name);
      b.put(name, wrap(name, real, (positional, named) -> {
        for (Object p : positional) {
          Guards.checkEntries(name + "()", p, limit);
        }
      }));
    }
    for (String name : Set.of("str", "repr")) {
      StarlarkCallable real = (StarlarkCallable) Starlark.UNIVERSE.get(name);
      b.put(name, wrap(name, real, (positional, named) -> {
        for (Object p : positional) {
          Guards.checkPrinted(name + "()", p, limit);
        }
      }));
    }
    b.put("print", new StarlarkCallable() {
      @Override
      public Object fastcall(StarlarkThread thread, Object[] positional, Object[] named) throws EvalException {
        String sep = " ";
        for (int i = 0; i < named.length; i += 2) {
          if ("sep".equals(named[i]) && named[i + 1] instanceof String s) {
            sep = s;
          } else {
            throw Starlark.errorf("print() got an unexpected keyword argument '%s'", named[i]);
          }
        }
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < positional.length; i++) {
          Guards.checkPrinted("print()", positional[i], run.limits().maxOutputBytes());
          line.append(i == 0 ? "" : sep).append(Starlark.str(positional[i]));
        }
        run.output().append(line.append('\n').toString());
        return Starlark.NONE;
      }

      @Override
      public String getName() {
        return "print";
      }
    });
    b.putAll(bindings);
    b.put(Rewriter.UNSET, Unset.INSTANCE);
    b.put(Rewriter.GUARD, guard(run, false));
    b.put(Rewriter.GUARD_RIGHT, guard(run, true));
    return b;
  }

  private interface Check {
    void check(Object[] positional, Object[] named) throws EvalException;
  }

  private static StarlarkCallable wrap(String name, StarlarkCallable real, Check check) {
    return new StarlarkCallable() {
      @Override
      public Object fastcall(StarlarkThread thread, Object[] positional, Object[] named)
          throws EvalException, InterruptedException {
        check.check(positional, named);
        return Starlark.fastcall(thread, real, positional, named);
      }

      @Override
      public String getName() {
        return name;
      }
    };
  }

  private static StarlarkCallable guard(Sandbox.Run run, boolean right) {
    return new StarlarkCallable() {
      @Override
      public Object fastcall(StarlarkThread thread, Object[] positional, Object[] named) throws EvalException {
        if (positional.length != 1 || named.length != 0) {
          throw Starlark.errorf("%s takes one value", getName());
        }
        return new Guards.Guarded(positional[0], right, thread, run);
      }

      @Override
      public String getName() {
        return right ? Rewriter.GUARD_RIGHT : Rewriter.GUARD;
      }
    };
  }
}
