/**
 * Scheduling on the host itself, outside any asynkit loop, with the host's
 * own timers as they were. Fake timers that a test installs
 * (vi.useFakeTimers(), jest's, @sinonjs/fake-timers) replace the globals,
 * before asynkit loads or after it; a loop that took its host turns, its
 * wake-ups and its clock from them would wait for the test to advance the
 * fake clock, and hang. On Node (and hosts with its process.getBuiltinModule)
 * they come from the timers and perf_hooks modules; elsewhere, from the
 * globals as asynkit loads. Recent @sinonjs/fake-timers (which jest's fake
 * timers are) replace the modules' functions too: a fake of theirs installed
 * before asynkit loads is seen through (see unfaked). Virtual time is
 * VirtualEventLoop's.
 */

/** A builtin module of the host, where it has Node's process.getBuiltinModule. */
export function builtinModule<T>(id: string): T | undefined {
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
    .process;
  return typeof process?.getBuiltinModule === "function"
    ? (process.getBuiltinModule(id) as T | undefined)
    : undefined;
}

/**
 * The host's own function behind `fn` where `fn` is a fake of
 * @sinonjs/fake-timers, which keeps each function it replaced on its clock
 * as `_<name>`; else `fn` itself.
 */
export function unfaked<F>(fn: F, name: string): F {
  const clock = (fn as { clock?: Record<string, unknown> } | undefined)?.clock;
  const original = typeof clock === "object" && clock !== null ? clock[`_${name}`] : undefined;
  return typeof original === "function" ? (original as F) : fn;
}

interface HostTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
  setImmediate?: ((fn: () => void) => unknown) | undefined;
}

const timers: HostTimers = builtinModule<HostTimers>("node:timers") ?? {
  setTimeout: globalThis.setTimeout.bind(globalThis),
  clearTimeout: globalThis.clearTimeout.bind(globalThis),
  setImmediate: (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate,
};

/** The host's setTimeout(), as it was (see above). */
export const hostSetTimeout: (fn: () => void, ms: number) => unknown = unfaked(
  timers.setTimeout,
  "setTimeout",
);

/** The host's clearTimeout(), as it was (see above). */
export const hostClearTimeout: (timer: unknown) => void = unfaked(
  timers.clearTimeout,
  "clearTimeout",
);

/**
 * True for a function node:test's MockTimers put in place (`mock.timers.enable()`):
 * a bound private method of its own ("bound #setImmediate", "bound #createTimer"
 * on Node 20.20), which keeps the host's function out of reach.
 */
function isNodeTestMock(fn: unknown): boolean {
  return typeof fn === "function" && fn.name.startsWith("bound #");
}

/**
 * True where node:test faked the host's setTimeout before asynkit loaded: a
 * timer would never fire (see hostDelay), and the host has none to hold back.
 */
export const timersFaked: boolean = isNodeTestMock(hostSetTimeout);

/** With MessageChannel: how many yields in a row may go through the port before one goes through a timer. */
const TIMER_EVERY = 16;

/** Runs `fn` in a host macrotask, so host I/O and timers get their turn first. */
export const yieldToHost: (fn: () => void) => void = (() => {
  const setImmediate = unfaked(timers.setImmediate, "setImmediate");
  if (typeof setImmediate === "function" && !isNodeTestMock(setImmediate)) {
    return (fn: () => void) => void setImmediate(fn);
  }
  if (typeof MessageChannel === "function") {
    const turn = portTurns(true);
    let yields = 0;
    return (fn: () => void) => {
      // A port may deliver many messages before the host's timers get a turn
      // (Node's delivers up to 1,000 in a row): every 16th yield goes through
      // a timer instead, so a busy loop never holds the host's timers back long.
      if (++yields % TIMER_EVERY === 0 && !timersFaked) {
        hostSetTimeout(fn, 0);
        return;
      }
      turn(fn);
    };
  }
  return (fn: () => void) => void hostSetTimeout(fn, 0);
})();

/**
 * Host turns through a MessageChannel's port. A listening port keeps a
 * process-style host alive (Node's, Deno's, Bun's): with `keepAlive`, only
 * while a turn is pending, as a pending setImmediate() does; without, never,
 * so the process may exit with a turn still to come. A browser's has no ref().
 */
function portTurns(keepAlive: boolean): (fn: () => void) => void {
  const channel = new MessageChannel();
  const port = channel.port1 as MessagePort & { ref?(): void; unref?(): void };
  const queue: (() => void)[] = [];
  port.onmessage = () => {
    const fn = queue.shift();
    if (queue.length === 0) port.unref?.();
    fn?.();
  };
  port.unref?.();
  return (fn: () => void) => {
    queue.push(fn);
    if (keepAlive) port.ref?.();
    channel.port2.postMessage(null);
  };
}

let weakTurns: ((fn: () => void) => void) | null = null;

/**
 * As yieldToHost, for a wait that must not keep a Node process alive where
 * only host turns can give it (node:test faked the timers: see hostDelay).
 */
export function yieldToHostWeakly(fn: () => void): void {
  if (typeof MessageChannel !== "function") {
    yieldToHost(fn);
    return;
  }
  weakTurns ??= portTurns(false);
  weakTurns(fn);
}

const settled = Promise.resolve();

/**
 * Runs `fn` in a microtask, queued now: as a reaction to a settled promise,
 * which takes its place in the microtask queue as queueMicrotask() would, at a
 * fraction of the cost on Node (whose queueMicrotask makes an AsyncResource
 * and a bound function per call). `fn` must not throw.
 */
export function inMicrotask(fn: () => void): void {
  void settled.then(fn);
}
