/** Scheduling on the host itself, outside any asynkit loop. */

/** With MessageChannel: how many yields in a row may go through the port before one goes through a timer. */
const TIMER_EVERY = 16;

/** Runs `fn` in a host macrotask, so host I/O and timers get their turn first. */
export const yieldToHost: (fn: () => void) => void = (() => {
  const host = globalThis as { setImmediate?: (fn: () => void) => unknown };
  const setImmediate = host.setImmediate;
  if (typeof setImmediate === "function") return (fn: () => void) => void setImmediate(fn);
  if (typeof MessageChannel === "function") {
    const channel = new MessageChannel();
    const queue: (() => void)[] = [];
    channel.port1.onmessage = () => queue.shift()?.();
    let yields = 0;
    return (fn: () => void) => {
      // A port may deliver many messages before the host's timers get a turn
      // (Node's delivers up to 1,000 in a row): every 16th yield goes through
      // a timer instead, so a busy loop never holds the host's timers back long.
      if (++yields % TIMER_EVERY === 0) {
        setTimeout(fn, 0);
        return;
      }
      queue.push(fn);
      channel.port2.postMessage(null);
    };
  }
  return (fn: () => void) => void setTimeout(fn, 0);
})();

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
