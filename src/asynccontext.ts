/**
 * The host's async context, the one Node's AsyncLocalStorage reads: captured
 * where a task or a callback is made, entered where it runs, so that
 * AsyncLocalStorage follows tasks as it follows native awaits.
 *
 * The capture is one AsyncResource (the init hook copies every store into
 * it); entering it is `runInAsyncScope`. Hosts without `node:async_hooks`
 * (browsers) capture nothing and enter nothing.
 */

/** @internal A captured async context: an AsyncResource. */
export interface AsyncScope {
  runInAsyncScope<This, A extends unknown[], R>(
    fn: (this: This, ...args: A) => R,
    thisArg: This,
    ...args: A
  ): R;
}

/** @internal A value that follows the host's async context: an AsyncLocalStorage. */
export interface AsyncStore<T> {
  run<R>(store: T, fn: () => R): R;
  /** Runs `fn` with no store, as the async work it starts will have. */
  exit<R>(fn: () => R): R;
  getStore(): T | undefined;
}

type AsyncHooks = {
  AsyncResource?: new (type: string) => AsyncScope;
  AsyncLocalStorage?: new () => AsyncStore<never>;
};
const host = globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } };

/** Reached without a static import, so every host loads this module and require() works. */
const hooks = host.process?.getBuiltinModule?.("node:async_hooks") as AsyncHooks | undefined;
const AsyncResource = hooks?.AsyncResource;

/** @internal True on a host with an async context (Node's async_hooks): the asyncLocalStorage option has one to follow. */
export const hostHasAsyncContext = AsyncResource !== undefined;

/** @internal The current async context, or undefined on a host that has none. */
export const captureAsyncScope: (type: string) => AsyncScope | undefined =
  AsyncResource === undefined ? () => undefined : (type) => new AsyncResource(type);

/** @internal A new AsyncLocalStorage, or undefined on a host that has none. */
export function newAsyncStore<T>(): AsyncStore<T> | undefined {
  const Store = hooks?.AsyncLocalStorage;
  return Store === undefined ? undefined : (new Store() as AsyncStore<T>);
}
