/** Helpers shared by the ports of CPython's asyncio tests. */
import type { Coro } from "../../src/index.js";

/** `async def coro(): return value`: a coroutine that returns `value` without suspending. */
// biome-ignore lint/correctness/useYield: finishing without suspending is the point.
export function* returns<T>(value: T): Coro<T> {
  return value;
}
