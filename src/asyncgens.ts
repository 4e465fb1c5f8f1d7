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
import type { BaseEventLoop } from "./loops/base.js";
import { type Op, thenable } from "./thenable.js";

type AnyGenerator = GeneratorObject<unknown, unknown, unknown>;

/**
 * @internal Held weakly, as asyncio's WeakSet: a generator its consumer
 * dropped half-read is not kept alive for the loop's life. Dead entries are
 * swept when the set has doubled since the last sweep.
 */
export class LiveGenerators {
  private readonly refs = new Set<WeakRef<AnyGenerator>>();
  private sweepAt = 64;
  /** shutdownAsyncgens() was called: a generator begun later is reported. */
  shutDown = false;

  add(gen: AnyGenerator): WeakRef<AnyGenerator> {
    if (this.refs.size >= this.sweepAt) {
      for (const ref of this.refs) if (ref.deref() === undefined) this.refs.delete(ref);
      this.sweepAt = Math.max(64, 2 * this.refs.size);
    }
    const ref = new WeakRef(gen);
    this.refs.add(ref);
    return ref;
  }

  delete(ref: WeakRef<AnyGenerator>): void {
    this.refs.delete(ref);
  }

  /** Every live one, in the order they began; the set is emptied. */
  take(): AnyGenerator[] {
    const live: AnyGenerator[] = [];
    for (const ref of this.refs) {
      const gen = ref.deref();
      if (gen !== undefined) live.push(gen);
    }
    this.refs.clear();
    return live;
  }

  get size(): number {
    return this.refs.size;
  }
}

/**
 * @internal `gen` begins on the running loop, if there is one (a generator
 * read with aiterSync() runs on none): returns how to forget it once done.
 */
export function trackGenerator(gen: AnyGenerator): (() => void) | null {
  const loop = peekRunningLoop();
  if (loop === null) return null;
  const live = (loop._generators ??= new LiveGenerators());
  if (live.shutDown) {
    loop.callExceptionHandler({
      message: `${gen} began after loop.shutdownAsyncgens() was called: nothing will close it if it is left suspended.`,
      asyncgen: gen,
    });
  }
  const ref = live.add(gen);
  return () => live.delete(ref);
}

/** @internal loop.shutdownAsyncgens(). */
export function shutdownAsyncgens(loop: BaseEventLoop): Op<void> {
  return closeAll(loop) as Op<void>;
}

/** Closes them all at once, each in a task of its own, and reports each that fails to close. */
function* closeAll(loop: BaseEventLoop): Coro<void> {
  const live = (loop._generators ??= new LiveGenerators());
  live.shutDown = true;
  const generators = live.take();
  const closing = generators.map((gen) => [gen, loop.createTask(gen.close())] as const);
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
