/**
 * Code Mode: agents read compact Python stubs of the tools they may call and send one Starlark
 * program that calls them, instead of receiving every tool's JSON Schema on every turn.
 *
 * <ul>
 *   <li>{@link io.bastion.node.codemode.CodeMode}: whether a caller gets it (config, key, group,
 *       auto threshold), the four meta-tools, runs, nested calls through the dispatcher's own
 *       tools/call path, cancellation.
 *   <li>{@code StubFiles}, {@code MetaTools}: the stub files and texts (rendering is
 *       {@link io.bastion.protocol.PythonStubs} in {@code protocol}).
 *   <li>{@link io.bastion.node.codemode.Sandbox}: Starlark on its own bounded pool, never a Pekko
 *       dispatcher thread; {@code Rewriter}, {@code Guards}, {@code Builtins}: the size checks
 *       Starlark lacks; {@code Values}, {@code Bindings}: JSON and tools as Starlark values.
 *   <li>{@code NestedCalls}: nested calls as {@link io.bastion.node.call.Exchange}s answered from
 *       any node.
 * </ul>
 *
 * <p>Depends on {@code call}, {@code upstream} (the replicated catalog, cancel messages) and
 * {@code protocol}; only the composition root and {@code http} (the dispatcher) depend on it.
 * Design and limits: {@code docs/code-mode.md}.
 */
package io.bastion.node.codemode;
