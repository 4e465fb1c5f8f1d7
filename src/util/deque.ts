/**
 * A double-ended queue on a power-of-two ring buffer.
 *
 * Push and pop at either end are O(1). Indexed access is O(1). Inserting or
 * removing at position `pos` moves the shorter side, so work near either end
 * stays cheap however long the queue grows: the scheduling tools rely on that.
 */
/**
 * What an event loop's ready queue offers: a ChunkDeque (chunkdeque.ts), or an
 * ordering of its own with the same operations (a priority loop's).
 */
export interface ReadyQueue<T> {
  readonly length: number;
  push(item: T): void;
  unshift(item: T): void;
  shift(): T | undefined;
  pop(): T | undefined;
  get(index: number): T;
  set(index: number, item: T): void;
  insert(index: number, item: T): void;
  removeAt(index: number): T;
  rotate(n: number): void;
  clear(): void;
  toArray(): T[];
}

export class Deque<T> implements ReadyQueue<T> {
  private buffer: (T | undefined)[];
  private mask: number;
  private head = 0;
  private size = 0;

  constructor(capacity = 16) {
    let cap = 16;
    while (cap < capacity) cap <<= 1;
    this.buffer = emptyBuffer<T>(cap);
    this.mask = cap - 1;
  }

  get length(): number {
    return this.size;
  }

  push(item: T): void {
    if (this.size === this.buffer.length) this.grow();
    this.buffer[(this.head + this.size) & this.mask] = item;
    this.size++;
  }

  unshift(item: T): void {
    if (this.size === this.buffer.length) this.grow();
    this.head = (this.head - 1) & this.mask;
    this.buffer[this.head] = item;
    this.size++;
  }

  /** Removes and returns the first item; undefined when empty. */
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.buffer[this.head];
    this.buffer[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.size--;
    return item;
  }

  /** Removes and returns the last item; undefined when empty. */
  pop(): T | undefined {
    if (this.size === 0) return undefined;
    this.size--;
    const index = (this.head + this.size) & this.mask;
    const item = this.buffer[index];
    this.buffer[index] = undefined;
    return item;
  }

  /** The item at `index` (0 is the first); the caller checks the range. */
  get(index: number): T {
    return this.buffer[(this.head + index) & this.mask] as T;
  }

  /** Replaces the item at `index` (0 ≤ index < length). */
  set(index: number, item: T): void {
    this.buffer[(this.head + index) & this.mask] = item;
  }

  /** Inserts so that the item ends up at `index` (0 ≤ index ≤ length). */
  insert(index: number, item: T): void {
    if (index <= 0) {
      this.unshift(item);
      return;
    }
    if (index >= this.size) {
      this.push(item);
      return;
    }
    if (this.size === this.buffer.length) this.grow();
    const buf = this.buffer;
    const mask = this.mask;
    if (index < this.size >> 1) {
      // Move the front part one slot towards the head.
      this.head = (this.head - 1) & mask;
      for (let i = 0; i < index; i++) {
        buf[(this.head + i) & mask] = buf[(this.head + i + 1) & mask];
      }
    } else {
      for (let i = this.size; i > index; i--) {
        buf[(this.head + i) & mask] = buf[(this.head + i - 1) & mask];
      }
    }
    buf[(this.head + index) & mask] = item;
    this.size++;
  }

  /** Removes and returns the item at `index` (0 ≤ index < length). */
  removeAt(index: number): T {
    const buf = this.buffer;
    const mask = this.mask;
    const item = buf[(this.head + index) & mask] as T;
    if (index < this.size >> 1) {
      for (let i = index; i > 0; i--) {
        buf[(this.head + i) & mask] = buf[(this.head + i - 1) & mask];
      }
      buf[this.head] = undefined;
      this.head = (this.head + 1) & mask;
    } else {
      for (let i = index; i < this.size - 1; i++) {
        buf[(this.head + i) & mask] = buf[(this.head + i + 1) & mask];
      }
      buf[(this.head + this.size - 1) & mask] = undefined;
    }
    this.size--;
    return item;
  }

  /** Python's deque.rotate: n > 0 moves the last n items to the front. */
  rotate(n: number): void {
    rotate(this, n);
  }

  clear(): void {
    this.buffer.fill(undefined);
    this.head = 0;
    this.size = 0;
  }

  *[Symbol.iterator](): Generator<T, void, undefined> {
    for (let i = 0; i < this.size; i++) yield this.buffer[(this.head + i) & this.mask] as T;
  }

  /** The index of the first item that is `item`, or -1, as an array's indexOf(). */
  indexOf(item: T): number {
    for (let i = 0; i < this.size; i++)
      if (this.buffer[(this.head + i) & this.mask] === item) return i;
    return -1;
  }

  /** The index of the last item that is `item`, or -1, as an array's lastIndexOf(). */
  lastIndexOf(item: T): number {
    for (let i = this.size - 1; i >= 0; i--) {
      if (this.buffer[(this.head + i) & this.mask] === item) return i;
    }
    return -1;
  }

  toArray(): T[] {
    const out = new Array<T>(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.buffer[(this.head + i) & this.mask] as T;
    return out;
  }

  /**
   * Doubles a full buffer. Two copies of it back to back hold the ring in
   * order from `head` on, so the head stays where it is and only the stale
   * halves of the two copies are cleared: builtins do all the copying.
   */
  private grow(): void {
    const cap = this.buffer.length;
    const next = this.buffer.concat(this.buffer);
    next.fill(undefined, 0, this.head);
    next.fill(undefined, this.head + cap);
    this.buffer = next;
    this.mask = cap * 2 - 1;
  }
}

/**
 * @internal A buffer of `n` empty slots that can hold any value from the start: a bare
 * `new Array(n)` holds small integers until its first object, so each new
 * deque's buffer would have another hidden class than the last one's, and the
 * code V8 optimised for the ready queue would be thrown away at every run().
 */
export function emptyBuffer<T>(n: number): (T | undefined)[] {
  return new Array<T | undefined>(n).fill(undefined);
}

/** Python's deque.rotate on any ReadyQueue: n > 0 moves the last n items to the front. */
export function rotate<T>(queue: ReadyQueue<T>, n: number): void {
  const size = queue.length;
  if (size <= 1) return;
  n %= size;
  if (n < 0) n += size;
  if (n === 0) return;
  if (n <= size >> 1) {
    for (let i = 0; i < n; i++) queue.unshift(queue.pop() as T);
  } else {
    for (let i = n; i < size; i++) queue.push(queue.shift() as T);
  }
}
