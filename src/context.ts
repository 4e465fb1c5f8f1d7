/**
 * Context variables, as Python's `contextvars`.
 *
 * A Context maps ContextVars to values. Its map is never changed in place:
 * `set` installs a new map, so `copy()` only shares the reference. A new task
 * does not even take a copy of its own: the tasks made from the same values
 * share one frozen snapshot (snapshotContext), and a task gets its own copy
 * when it first writes to it or someone asks for it (task.getContext()).
 */
import { describe } from "./coro.js";
import { classNameOf, inspectAsString } from "./util/inspect.js";
import { argTypeError, checkFunction, checkOptions, type OptionNames } from "./validate.js";

/** The values of a Context, by variable: what `new Context(store)` starts from. */
export type ContextStore = ReadonlyMap<ContextVar<unknown>, unknown>;
const EMPTY: ContextStore = new Map();

/**
 * A mapping of context variables to values. Every task runs in its own
 * Context, a copy of the one current when the task was created.
 *
 * @example
 * ```ts
 * import { ContextVar, copyContext } from "asynkit";
 * const user = new ContextVar<string>("user", { default: "nobody" });
 * const ctx = copyContext();
 * ctx.run(() => user.set("ann"));
 * console.log(ctx.get(user), user.get()); // "ann" "nobody"
 * ```
 */
export class Context {
  /** @internal The name its printed form shows (see classNameOf): its body names it, so a bundler renames it. */
  static readonly _className: string = "Context";
  /** @internal */
  _store: ContextStore;
  /** @internal */
  _entered = false;
  /** @internal `_store` is this context's alone (made by its first write), so a write may change it in place. */
  _owned = false;
  /** @internal How many eager starts run in this context as if in a copy (see lendContext). */
  _lent = 0;
  /** @internal A snapshot shared by tasks (see snapshotContext): never written, always copied first. */
  _frozen = false;
  /**
   * @internal The snapshot of this context's values that tasks made in it
   * share, while they are its values. Kept here rather than in one module
   * variable, so that it holds no values longer than this context does.
   */
  _snapshot: Context | null = null;

  constructor(store: ContextStore = EMPTY) {
    if (!(store instanceof Map)) {
      throw argTypeError(
        "new Context()",
        "store",
        store,
        "a Map of ContextVars to values",
        "call new Context() for an empty context, or copyContext() for a copy of the current one",
      );
    }
    this._store = store;
  }

  /**
   * Calls `fn` with this context as the current one, then restores the previous.
   * A context can be entered only once at a time.
   */
  run<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
    checkFunction("context.run()", "fn", fn, "pass the function to call in this context");
    if (this._entered) {
      throw new Error(
        "Cannot enter a Context that is already entered: run a copy of it instead (context.copy().run(...)).",
      );
    }
    const previous = swapContext(this);
    this._entered = true;
    try {
      return fn(...args);
    } finally {
      this._entered = false;
      swapContext(previous);
    }
  }

  /** The value of `variable` in this context, or undefined when it has none. */
  get<T>(variable: ContextVar<T>): T | undefined {
    checkVariable("context.get()", variable);
    return this._store.get(variable as ContextVar<unknown>) as T | undefined;
  }

  /** True when `variable` has a value in this context. */
  has(variable: ContextVar<unknown>): boolean {
    checkVariable("context.has()", variable);
    return this._store.has(variable);
  }

  /** A shallow copy: later changes to either do not show in the other. */
  copy(): Context {
    return new Context(this._shared());
  }

  /** How many variables have a value here: `<Context vars=2>`, not the values. */
  toString(): string {
    return `<${classNameOf(this)} vars=${this._store.size}>`;
  }

  /** The variables that have a value here. */
  keys(): IterableIterator<ContextVar<unknown>, undefined> {
    return this._shared().keys(); // an iterator that later writes do not change
  }

  /** @internal The store, to be shared: the next write copies it rather than change it. */
  _shared(): ContextStore {
    this._owned = false;
    return this._store;
  }

  /** @internal The store to write to: this context's own, copied from the shared one at the first write. */
  _ownStore(): Map<ContextVar<unknown>, unknown> {
    if (this._owned) return this._store as Map<ContextVar<unknown>, unknown>;
    const own = new Map(this._store);
    this._store = own;
    this._owned = true;
    return own;
  }

  /** How many variables have a value in this context. */
  get size(): number {
    return this._store.size;
  }
}

const rootContext = new Context();
let current: Context = rootContext;

/** What context.ts needs of a task: its context, and one of its own to write to. */
interface ContextOwner {
  readonly _context: Context;
  getContext(): Context;
}

let codeOwner: () => ContextOwner | null | undefined = () => undefined;

/** @internal tasks.ts hands over how to ask whose code runs (see hostCodeOwnerNow in events.ts). */
export function onCodeOwner(lookup: () => ContextOwner | null | undefined): void {
  codeOwner = lookup;
}

let runningTaskContext: () => Context | null = () => null;

/** @internal tasks.ts hands over how to find the context of the task running now. */
export function onRunningTaskContext(lookup: () => Context | null): void {
  runningTaskContext = lookup;
}

/**
 * True while a loop's native step is handed over to the microtasks: the
 * current context is that step's task's, but code the host runs meanwhile
 * may be another task's, or no task's.
 */
let handedOver = false;

/** @internal native.ts says when a hand-over begins and ends. */
export function setHandedOver(on: boolean): void {
  handedOver = on;
}

/**
 * The context code reads: the current one, unless the code runs outside the
 * loops' steps (in the root context, or during a hand-over), not in a
 * context.run(), and the host's async context names its task (the
 * asyncLocalStorage option): then that task's, or the root one for code that
 * is no task's.
 */
function here(): Context {
  const owner = ownerOutsideSteps();
  return owner === undefined ? current : owner === null ? rootContext : owner._context;
}

/** Whose code runs where the current context may not be its own (see here()); undefined: it is. */
function ownerOutsideSteps(): ContextOwner | null | undefined {
  // An entered context is a context.run()'s, in this very stack: it wins. So does the
  // context an eager start outside the steps runs in (lendOwnersContext).
  if ((!handedOver && current !== rootContext) || current._entered || outside.lent !== null) {
    return undefined;
  }
  return codeOwner();
}

/** @internal Makes `context` current and returns the one it replaced. */
export function swapContext(context: Context): Context {
  const previous = current;
  current = context;
  return previous;
}

/**
 * A copy of the current context, as Python's `contextvars.copy_context()`.
 *
 * @example
 * ```ts
 * import { copyContext } from "asynkit";
 * const snapshot = copyContext();
 * snapshot.run(() => console.log("runs with the values of the moment the copy was made"));
 * ```
 */
export function copyContext(): Context {
  return here().copy();
}

function frozenCopy(context: Context): Context {
  const frozen = new Context(context._shared());
  frozen._frozen = true;
  frozen._lent = 1; // so that a write makes a copy first (see writable)
  return frozen;
}

/**
 * @internal The context a new task starts in: a copy of the current one, in
 * effect, but shared with the other tasks made from the same values. A write
 * makes the writer a copy of its own (writable), which the task keeps; so does
 * task.getContext(), so that the Context it hands out is the task's alone.
 */
export function snapshotContext(): Context {
  const context = here();
  let snapshot = context._snapshot;
  if (snapshot === null || snapshot._store !== context._store) {
    snapshot = context._frozen ? context : frozenCopy(context);
    context._snapshot = snapshot;
  }
  return snapshot;
}

/** @internal An eager start runs in `context` as if in a copy of it (see lendContext). */
export function lentToEagerStart(context: Context): boolean {
  return context._lent > (context._frozen ? 1 : 0);
}

/** @internal The current context, as it is (not a copy). */
export function currentContext(): Context {
  return current;
}

/** @internal A `context` option (or nothing): a Context, such as copyContext() returns. */
export function checkContextOption(where: string, context: unknown): void {
  if (context !== undefined && !(context instanceof Context)) {
    throw argTypeError(where, "options.context", context, "a Context", "pass copyContext()");
  }
}

/**
 * The context of the innermost eager start made outside the loops' steps
 * (lendOwnersContext), if any, and, for each such start, the context current
 * before it and the innermost one before it.
 */
const outside = { lent: null as Context | null, before: [] as (Context | null)[] };

/**
 * @internal Lets an eager start run in the current context as if in a copy of
 * it, without making the copy: the first ContextVar write while it is lent
 * makes the copy then (so tokens belong to the copy). Pair with returnContext.
 */
export function lendContext(): Context {
  const owner = ownerOutsideSteps();
  if (owner !== undefined) return lendOwnersContext(owner);
  current._lent++;
  return current;
}

/**
 * An eager start in code the host runs outside the loops' steps (the
 * asyncLocalStorage option tells whose): it runs as if in a copy of the
 * context of that code's task, or of the root one for code that is no
 * task's, as a start in a step does in the step's. Until its returnContext(),
 * code reads the context current, not its owner's. The context lent is one of
 * its own, sharing the owner's values, so that its return is told by identity.
 */
function lendOwnersContext(owner: ContextOwner | null): Context {
  outside.before.push(current, outside.lent);
  const lent = new Context((owner === null ? rootContext : owner._context)._shared());
  lent._lent = 1;
  outside.lent = current = lent;
  return lent;
}

/**
 * @internal Ends a lendContext(): makes the context current before it current
 * again and returns the copy the start wrote to, or null when it wrote nothing.
 */
export function returnContext(lent: Context): Context | null {
  const written = current;
  if (--lent._lent === 0 && lent === outside.lent) {
    outside.lent = outside.before.pop() as Context | null;
    current = outside.before.pop() as Context;
  } else current = lent;
  return written === lent ? null : written;
}

/**
 * @internal The current context, ready to be written: a lent one is copied
 * first, and the copy made current. An eager start that asks for its task
 * gives it this one, the very context the start goes on writing to.
 */
export function writable(): Context {
  const owner = ownerOutsideSteps();
  if (owner !== undefined) return owner === null ? rootContext : owner.getContext();
  if (current._lent > 0) current = ownContextSince(current) ?? new Context(current._shared());
  return current;
}

/**
 * The context of its own the running task got (its getContext()) while it
 * ran in `snapshot`, the one it shared, but was inside a context.run() or an
 * eager start, so that it could not go on in it at once: its writes go there.
 */
function ownContextSince(snapshot: Context): Context | null {
  if (!snapshot._frozen || snapshot._lent !== 1) return null; // not a task's snapshot, or lent to an eager start
  const own = runningTaskContext();
  return own !== null && own !== snapshot && !own._frozen ? own : null;
}

const MISSING: unique symbol = Symbol("missing");

/**
 * Restores a ContextVar to the value it had before a `set`, with `reset`.
 *
 * @example
 * ```ts
 * import { ContextVar } from "asynkit";
 * const v = new ContextVar<number>("v", { default: 0 });
 * const token = v.set(1);
 * v.reset(token); // back to 0
 * ```
 */
export class Token<T> {
  /** @internal */
  _used = false;
  /** @internal */
  constructor(
    /** The variable whose `set` made this token. */
    readonly variable: ContextVar<T>,
    /** @internal */ readonly _old: T | typeof MISSING,
    /** @internal */ readonly _context: Context,
  ) {}

  /** The value the variable had before the `set` that made this token. */
  get oldValue(): T | undefined {
    return this._old === MISSING ? undefined : this._old;
  }

  /** As Python's repr: `<Token var=<ContextVar name="a">>`, `<Token used var=…>` once reset. */
  toString(): string {
    return `<Token${this._used ? " used" : ""} var=${this.variable}>`;
  }
}

inspectAsString(Token);
inspectAsString(Context);

/** Context.get() and has() take a ContextVar: any other key has no value, which would say nothing. */
function checkVariable(where: string, variable: unknown): void {
  if (!(variable instanceof ContextVar)) {
    throw argTypeError(where, "variable", variable, "a ContextVar", "pass the variable to look up");
  }
}

const CONTEXT_VAR_OPTIONS: OptionNames<{ default?: unknown }> = { default: true };

/**
 * A variable whose value depends on the context it is read in: each task sees
 * its own value, as Python's `contextvars.ContextVar`.
 *
 * @example
 * ```ts
 * import { ContextVar, createTask, run } from "asynkit";
 * const requestId = new ContextVar<number>("requestId", { default: 0 });
 * function* handler(id: number) { requestId.set(id); yield; return requestId.get(); }
 * await run(function* () {
 *   const a = createTask(handler(1));
 *   const b = createTask(handler(2));
 *   return [yield* a, yield* b, requestId.get()]; // [1, 2, 0]
 * });
 * ```
 */
export class ContextVar<T> {
  readonly #name: string;
  private readonly fallback: T | typeof MISSING;

  /**
   * A variable named `name`, with `options.default` as its default if given:
   * `{ default: undefined }` is a default, undefined (as Python's
   * `default=None`), so it takes a type that admits undefined.
   */
  constructor(name: string, options?: { default: T } | Record<string, never>) {
    if (typeof name !== "string") {
      throw argTypeError(
        "new ContextVar()",
        "name",
        name,
        "a string",
        'pass a name, e.g. new ContextVar("user")',
      );
    }
    checkOptions("new ContextVar()", options, "{ default: value }", CONTEXT_VAR_OPTIONS);
    this.#name = name;
    this.fallback =
      options !== undefined && "default" in options ? (options.default as T) : MISSING;
  }

  /** The name given at construction, for messages and debugging; read-only, as Python's. */
  get name(): string {
    return this.#name;
  }

  /**
   * The value in the current context; else `fallback` when given; else the
   * variable's default. Throws a LookupError-like Error when there is none.
   */
  get(): T;
  get<D>(fallback: D): T | D;
  get(...fallback: [unknown?]): unknown {
    const store = here()._store;
    const self = this as ContextVar<unknown>;
    if (store.has(self)) return store.get(self);
    if (fallback.length > 0) return fallback[0];
    if (this.fallback !== MISSING) return this.fallback;
    throw new Error(
      `ContextVar "${this.name}" has no value in this context and no default: set it first or pass a fallback to get().`,
    );
  }

  /** Sets the value in the current context; the token undoes it with `reset`. */
  set(value: T): Token<T> {
    const ctx = writable();
    const self = this as ContextVar<unknown>;
    const old = ctx._store.has(self) ? (ctx._store.get(self) as T) : MISSING;
    ctx._ownStore().set(self, value); // in place once the store is its own: O(1), not O(variables)
    return new Token(this, old, ctx);
  }

  /** Puts back the value from before the `set` that returned `token`. */
  reset(token: Token<T>): void {
    if (!(token instanceof Token)) {
      throw argTypeError(
        "contextVar.reset()",
        "token",
        token,
        "a Token",
        "pass the token that contextVar.set() returned",
      );
    }
    if (token._used)
      throw new Error("This Token has already been used once; a token resets only once.");
    if (token.variable !== this)
      throw new Error("This Token was created by a different ContextVar.");
    const ctx = writable();
    if (token._context !== ctx) throw new Error("This Token was created in a different Context.");
    const self = this as ContextVar<unknown>;
    const store = ctx._ownStore();
    if (token._old === MISSING) store.delete(self);
    else store.set(self, token._old);
    token._used = true;
  }

  /** As Python's repr: `<ContextVar name="a">`, `<ContextVar name="a" default=123>`. */
  toString(): string {
    const fallback = this.fallback;
    const shown =
      fallback === MISSING
        ? ""
        : ` default=${typeof fallback === "string" ? JSON.stringify(fallback) : describeDefault(fallback)}`;
    return `<ContextVar name=${JSON.stringify(this.name)}${shown}>`;
  }
}

inspectAsString(ContextVar);

/** A default that is not a string: a primitive as it reads, an object or function as describe() names it. */
function describeDefault(value: unknown): string {
  return (typeof value === "object" && value !== null) || typeof value === "function"
    ? describe(value)
    : String(value);
}
