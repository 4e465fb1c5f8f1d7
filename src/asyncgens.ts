/**
 * The GeneratorObjects a loop has begun and not seen finish, which
 * `loop.shutdownAsyncgens()` closes (and run() with it), as asyncio closes
 * the async generators its loop began: a body left suspended in a `try`
 * gets to run its `finally`.
 */
import type { Coro } from "./coro.js";
import { CancelledError } from "./errors.js";
import { peekRunningLoop, runningTask } from "./events.js";
import type { GeneratorObject } from "./generatorobject.js";
import { lintHeldGenerators } from "./lints.js";
import type { BaseEventLoop } from "./loops/base.js";
import { type Op, thenable } from "./thenable.js";

type AnyGenerator = GeneratorObject<unknown, unknown, unknown>;

/**
 * @internal The loop's live generators, held until each is done: a weak hold
 * would let one dropped half-read be collected before its loop shuts down,
 * and its `finally` would not run (asyncio runs it from the collector, which
 * JavaScript cannot do).
 */
export class LiveGenerators extends Set<AnyGenerator> {
  /** shutdownAsyncgens() was called: a generator begun later is reported. */
  shutDown = false;
}

/**
 * @internal `gen` begins on the running loop, if there is one (a generator
 * read with aiterSync() runs on none): returns the set to leave once done.
 */
export function trackGenerator(gen: AnyGenerator): LiveGenerators | null {
  const loop = peekRunningLoop();
  if (loop === null) return null;
  const live = (loop._generators ??= new LiveGenerators());
  if (live.shutDown) {
    loop.callExceptionHandler({
      message: `${gen} began after loop.shutdownAsyncgens() was called, which does not close it: close it where it is read.`,
      asyncgen: gen,
    });
  }
  live.add(gen);
  if (loop.getDebug()) lintHeldGenerators(loop, live.size, gen);
  return live;
}

/** @internal True while a GeneratorObject begun on `loop` is not done: shutdownAsyncgens() has work. */
export function hasLiveGenerators(loop: BaseEventLoop): boolean {
  return (loop._generators?.size ?? 0) > 0;
}

/** @internal loop.shutdownAsyncgens(). */
export function shutdownAsyncgens(loop: BaseEventLoop): Op<void> {
  return closeAll(loop) as Op<void>;
}

/**
 * Closes them all at once, each in a task of its own, and reports each that
 * fails to close. Each close starts eagerly, as asyncio's gather() does under
 * the eager task factory: a `finally` that does not wait is done within this
 * step, so a shutdown whose time has run out still runs it.
 */
function* closeAll(loop: BaseEventLoop): Coro<void> {
  const live = (loop._generators ??= new LiveGenerators());
  live.shutDown = true;
  const generators = [...live];
  live.clear();
  const closing = generators.map(
    (gen) => [gen, loop.createTask(gen.close(), { eagerStart: true })] as const,
  );
  for (const [gen, task] of closing) {
    try {
      yield* task;
    } catch (error) {
      // The shutdown itself was cancelled (a closing task cancelled alone is reported).
      if (error instanceof CancelledError && (runningTask(loop)?.cancelling() ?? 0) > 0)
        throw error;
      loop.callExceptionHandler({
        message: `an error occurred during closing of ${gen}`,
        exception: error,
        asyncgen: gen,
      });
    }
  }
}

thenable(closeAll);
