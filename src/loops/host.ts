/**
 * HostEventLoop: runs asynkit's loop on the JavaScript host's own event loop
 * (Node, Deno, Bun, browsers), in real time.
 */
import type { Handle } from "../events.js";
import { now } from "../util/clock.js";
import { hostClearTimeout, hostSetTimeout } from "../util/host.js";
import { hostDelay } from "../util/hostdelay.js";
import { BaseEventLoop } from "./base.js";

/** setTimeout's longest delay; longer ones would fire at once. */
const MAX_HOST_DELAY = 2 ** 31 - 1;

/**
 * An event loop in real time on the JavaScript host. It runs ready work
 * synchronously, sleeps on a host timer until the next timer of its own, and
 * hands control back to the host (I/O, timers, promise callbacks) after every
 * 5 ms of continuous work plus the one step running when they end: a step
 * that computes for 100 ms without yielding holds the host that long. Heavy
 * steps queued behind many cheap ones can run together once (up to 64, so the
 * host may wait 64 times such a step's cost, once); from
 * then on each is timed, and ends its slice.
 *
 * @example
 * ```ts
 * import { HostEventLoop, sleep } from "asynkit";
 * const loop = new HostEventLoop();
 * function* main() { yield* sleep(5); return loop.time(); }
 * console.log(await loop.runUntilComplete(main()));
 * loop.close();
 * ```
 */
export class HostEventLoop extends BaseEventLoop {
  private _hostTimer: unknown = null;

  /** Milliseconds on the host's monotonic clock (performance.now()). */
  time(): number {
    return now();
  }

  /**
   * @internal A loop timer would hold the process open for a report alone,
   * and keep the exit's deadlock check from ever running: the host's clock is
   * the loop's, so an unref'd host timer waits as long and holds nothing (or,
   * where node:test faked the timers, host turns that hold nothing: see
   * hostDelay). The report itself runs as the loop's callback, as a timer's
   * would, so the exception handler finds its loop running.
   */
  override _reportAfter(ms: number, report: () => void): () => void {
    let queued: Handle | null = null;
    const stopWaiting = hostDelay(
      () => {
        if (this.isRunning()) queued = this._call(report, 0, undefined, undefined, null);
      },
      ms,
      false,
    );
    return () => {
      stopWaiting();
      queued?.cancel();
    };
  }

  /** @internal Nothing is ready: sleep on a host timer until the next timer is due, or until woken. */
  _idle(nextTimer: number | undefined): boolean {
    if (nextTimer !== undefined) {
      const delay = Math.min(MAX_HOST_DELAY, Math.max(0, Math.ceil(nextTimer - now())));
      this._hostTimer = hostSetTimeout(this._onHostTimer, delay);
    }
    return false;
  }

  /** @internal */
  _unpark(): void {
    this._parkCleanup();
    this._queueDrive();
  }

  /** @internal */
  override _parkCleanup(): void {
    if (this._hostTimer !== null) {
      hostClearTimeout(this._hostTimer);
      this._hostTimer = null;
    }
  }

  private _onHostTimer = (): void => {
    this._hostTimer = null;
    this._parked = false;
    this._driveAfterHostTurn = true;
    this._drive();
  };
}
