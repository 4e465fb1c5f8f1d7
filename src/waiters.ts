/**
 * The line of calls waiting on a primitive (a lock's acquirers, a queue's
 * getters): first in, first out, and a waiter that leaves from anywhere in
 * the line (cancelled, timed out, interrupted) leaves in O(1), where asyncio's
 * deque.remove() searches the line.
 */
import { CANCELLED, PENDING, WaitFuture } from "./futures.js";
import type { BaseEventLoop } from "./loops/base.js";
import { Deque } from "./util/deque.js";

/** @internal A waiting call's future, which knows its place in its line. */
export class Waiter<T> extends WaitFuture<T> {
  /** @internal How many had joined the line before it: its place, with the line's `_head`. */
  declare _seq: number;

  // The field is assigned, not initialised, so that `super()` inlines (see Future).
  constructor(loop: BaseEventLoop, what: string | { toString(): string }) {
    super(loop, what);
    this._seq = 0;
  }
}

/**
 * What a waiter that left from the middle of the line leaves behind: it reads
 * as a cancelled waiter, which every reader of the line skips already.
 */
const LEFT = Object.create(Waiter.prototype, {
  _state: { value: CANCELLED },
  _seq: { value: -1 },
}) as Waiter<never>;

/** Tombstones are closed up once they are half the line, and more than this. */
const CLOSE_UP_AT = 16;

/**
 * @internal The waiters of one line. A waiter leaving from the middle leaves
 * a tombstone; neither end ever holds one, so the first waiter is always a
 * real one.
 */
export class WaiterLine<T> {
  private readonly _line = new Deque<Waiter<T>>();
  /** The `_seq` of the first waiter in the line. */
  private _head = 0;
  private _tombstones = 0;
  /**
   * Every waiter before this place is done (woken, cancelled, or a
   * tombstone), and a done one never waits again: the search for the first
   * pending waiter starts here, so waking n in a row costs n, not n².
   */
  private _doneBefore = 0;
  /**
   * Every waiter whose `_seq` is below this is cancelled (or a tombstone): see
   * allCancelled(). A number of the line's, not a place, so that taking the
   * first waiter out need not move it.
   */
  private _cancelledBelow = 0;

  /** The line's length, tombstones included: each reads as a cancelled waiter. */
  get length(): number {
    return this._line.length;
  }

  /** The waiters still in the line, tombstones left out. */
  get waiting(): number {
    return this._line.length - this._tombstones;
  }

  get(index: number): Waiter<T> {
    return this._line.get(index);
  }

  /** The first waiter still waiting to be woken (not woken, not cancelled), if any. */
  firstPending(): Waiter<T> | undefined {
    const line = this._line;
    let index = this._doneBefore;
    while (index < line.length && line.get(index)._state !== PENDING) index++;
    this._doneBefore = index;
    return index < line.length ? line.get(index) : undefined;
  }

  /**
   * True when every waiter in the line is cancelled: a free lock goes to the
   * caller, not to them. A cancelled waiter stays cancelled, so the search
   * goes on from where the last one stopped, and n cancelled waiters cost
   * n in all, not n at each call.
   */
  allCancelled(): boolean {
    const line = this._line;
    let index = Math.max(this._cancelledBelow - this._head, 0);
    while (index < line.length && line.get(index)._state === CANCELLED) index++;
    this._cancelledBelow = this._head + index;
    return index === line.length;
  }

  /** True while `waiter` is in the line: from its push until it is taken out. */
  has(waiter: Waiter<T>): boolean {
    const index = waiter._seq - this._head;
    return index >= 0 && index < this._line.length && this._line.get(index) === waiter;
  }

  push(waiter: Waiter<T>): void {
    waiter._seq = this._head + this._line.length;
    this._line.push(waiter);
  }

  /** Takes the first waiter out of the line (a woken one that goes at once). */
  shift(): Waiter<T> | undefined {
    const first = this._line.shift();
    if (first !== undefined) this._shifted();
    return first;
  }

  /** `waiter` leaves the line, from wherever it is; one taken out already is not in it. */
  remove(waiter: Waiter<T>): void {
    if (!this.has(waiter)) return;
    const line = this._line;
    const index = waiter._seq - this._head;
    if (index === 0) {
      line.shift();
      this._shifted();
    } else if (index === line.length - 1) {
      line.pop();
      while (line.length > 0 && line.get(line.length - 1) === LEFT) {
        line.pop();
        this._tombstones--;
      }
      if (this._doneBefore > line.length) this._doneBefore = line.length;
      // The waiters that take the places popped are new.
      this._cancelledBelow = Math.min(this._cancelledBelow, this._head + line.length);
    } else {
      line.set(index, LEFT);
      this._tombstones++;
      if (this._tombstones > CLOSE_UP_AT && this._tombstones * 2 > line.length) this._closeUp();
    }
  }

  /** The first waiter was taken out: so are the tombstones it uncovered. */
  private _shifted(): void {
    const line = this._line;
    this._head++;
    if (this._doneBefore > 0) this._doneBefore--;
    while (line.length > 0 && line.get(0) === LEFT) {
      line.shift();
      this._head++;
      this._tombstones--;
      if (this._doneBefore > 0) this._doneBefore--;
    }
  }

  /** Takes the tombstones out, and numbers the waiters again. */
  private _closeUp(): void {
    const waiters = this._line.toArray();
    this._line.clear();
    this._head = 0;
    this._tombstones = 0;
    this._doneBefore = 0;
    this._cancelledBelow = 0;
    for (const waiter of waiters) if (waiter !== LEFT) this.push(waiter);
  }
}
