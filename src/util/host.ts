/** Scheduling on the host itself, outside any asynkit loop. */

/** Runs `fn` in a host macrotask, so host I/O and timers get their turn first. */
export const yieldToHost: (fn: () => void) => void = (() => {
  const host = globalThis as { setImmediate?: (fn: () => void) => unknown };
  const setImmediate = host.setImmediate;
  if (typeof setImmediate === "function") return (fn: () => void) => void setImmediate(fn);
  if (typeof MessageChannel === "function") {
    const channel = new MessageChannel();
    const queue: (() => void)[] = [];
    channel.port1.onmessage = () => queue.shift()?.();
    return (fn: () => void) => {
      queue.push(fn);
      channel.port2.postMessage(null);
    };
  }
  return (fn: () => void) => void setTimeout(fn, 0);
})();
