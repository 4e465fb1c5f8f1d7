/** Helpers shared by the ports of CPython's asyncio tests. */
import { type BaseEventLoop, type Coro, HostEventLoop, VirtualEventLoop } from "../../src/index.js";

/** `async def coro(): return value`: a coroutine that returns `value` without suspending. */
// biome-ignore lint/correctness/useYield: finishing without suspending is the point.
export function* returns<T>(value: T): Coro<T> {
  return value;
}

/** test_utils.CLOCK_RES: the resolution the time checks allow for, in ms. */
export const CLOCK_RES = 20;

/** test_utils.run_briefly: runs a task that does nothing to completion on `loop`. */
export async function runBriefly(loop: BaseEventLoop): Promise<void> {
  await loop.runUntilComplete((function* () {})());
}

/** test_utils.run_once, `loop.call_soon(loop.stop); loop.run_forever()`: one iteration of `loop`. */
export async function runOnce(loop: BaseEventLoop): Promise<void> {
  loop.callSoon(() => loop.stop());
  await loop.runForever();
}

/** CPython runs its event loop tests on every loop class of the platform; these are asynkit's two. */
export const LOOPS: [name: string, makeLoop: () => BaseEventLoop][] = [
  ["HostEventLoop", () => new HostEventLoop()],
  ["VirtualEventLoop", () => new VirtualEventLoop()],
];

/** A callback that does nothing, whose name shows in a handle's string. */
export function noop(..._args: unknown[]): void {}

/** The one element of `list`: fails the test if it has none or more than one. */
export function only<T>(list: readonly T[]): T {
  const [first] = list;
  if (list.length !== 1 || first === undefined) {
    throw new Error(`expected exactly one element, got ${list.length}`);
  }
  return first;
}
