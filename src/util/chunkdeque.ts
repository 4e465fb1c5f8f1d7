/**
 * The event loop's ready queue: a deque kept in fixed-size chunks.
 *
 * A ring buffer (Deque) doubles when it fills: a burst of 100k tasks copies
 * the ring thirteen times, and past 16k slots each copy is an array too big
 * for V8's young generation, allocated fresh from the system and traced as an
 * old object, so every young task pushed into it takes the write barrier's
 * slow path. Chunks of CHUNK slots never move: the queue grows by a chunk at
 * the back (or the front) and gives a chunk back to a pool once it empties,
 * so a queue that cycles allocates nothing. Indexed access reaches any slot in two loads: the chunks are
 * aligned, the first item at `head` of the first chunk.
 */
import { emptyBuffer, type ReadyQueue, rotate } from "./deque.js";

const CHUNK_BITS = 8;
const CHUNK = 1 << CHUNK_BITS;
const SLOT_MASK = CHUNK - 1;

type Chunk<T> = (T | undefined)[];

/**
 * Empty chunks given back (a queue's front or back emptied, a loop closed),
 * for any queue to take: a queue that cycles, or a program that runs many
 * short loops (tests, explore()), makes none of its own.
 */
const pool: Chunk<unknown>[] = [];
const POOL_MAX = 4;

function takeChunk<T>(): Chunk<T> {
  return (pool.pop() as Chunk<T> | undefined) ?? emptyBuffer<T>(CHUNK);
}

/**
 * Where a queue with no chunk yet pushes: its first push() takes one. Made as
 * the chunks are, so that push() and shift() see one hidden class.
 */
const NO_CHUNK: Chunk<never> = emptyBuffer(1);
NO_CHUNK.length = 0;

export class ChunkDeque<T> implements ReadyQueue<T> {
  /** The chunks in order; none before the first push, so an idle loop allocates nothing. */
  private chunks: Chunk<T>[] = [];
  /** chunks[0] and the last chunk, kept at hand for shift() and push(). */
  private front: Chunk<T> = NO_CHUNK;
  private back: Chunk<T> = NO_CHUNK;
  /** The first item's slot in `front`, and the first free slot in `back`. */
  private head = 0;
  private tail = CHUNK;
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(item: T): void {
    if (this.tail === CHUNK) this.addBack();
    this.back[this.tail++] = item;
    this.size++;
  }

  unshift(item: T): void {
    if (this.size === 0) {
      this.push(item);
      return;
    }
    if (this.head === 0) this.addFront();
    this.front[--this.head] = item;
    this.size++;
  }

  /** Removes and returns the first item; undefined when empty. */
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const front = this.front;
    const head = this.head;
    const item = front[head];
    front[head] = undefined;
    if (--this.size === 0) {
      // Empty, its one chunk starts over: a queue that cycles stays on a few slots.
      this.head = 0;
      this.tail = 0;
    } else if (head + 1 === CHUNK) this.dropFront();
    else this.head = head + 1;
    return item;
  }

  /** Removes and returns the last item; undefined when empty. */
  pop(): T | undefined {
    if (this.size === 0) return undefined;
    const back = this.back;
    const tail = this.tail - 1;
    const item = back[tail];
    back[tail] = undefined;
    this.size--;
    if (tail === 0 && this.chunks.length > 1) this.dropBack();
    else this.tail = tail;
    return item;
  }

  /** The item at `index` (0 is the first); the caller checks the range. */
  get(index: number): T {
    const slot = this.head + index;
    return (this.chunks[slot >> CHUNK_BITS] as Chunk<T>)[slot & SLOT_MASK] as T;
  }

  /** Replaces the item at `index` (0 ≤ index < length). */
  set(index: number, item: T): void {
    const slot = this.head + index;
    (this.chunks[slot >> CHUNK_BITS] as Chunk<T>)[slot & SLOT_MASK] = item;
  }

  /** Inserts so that the item ends up at `index` (0 ≤ index ≤ length): the shorter side moves. */
  insert(index: number, item: T): void {
    const size = this.size;
    if (index <= 0) this.unshift(item);
    else if (index >= size) this.push(item);
    else if (index < size >> 1) {
      this.unshift(this.get(0));
      for (let i = 1; i < index; i++) this.set(i, this.get(i + 1));
      this.set(index, item);
    } else {
      this.push(this.get(size - 1));
      for (let i = size - 1; i > index; i--) this.set(i, this.get(i - 1));
      this.set(index, item);
    }
  }

  /** Removes and returns the item at `index` (0 ≤ index < length): the shorter side moves. */
  removeAt(index: number): T {
    const item = this.get(index);
    if (index < this.size >> 1) {
      for (let i = index; i > 0; i--) this.set(i, this.get(i - 1));
      this.shift();
    } else {
      for (let i = index; i < this.size - 1; i++) this.set(i, this.get(i + 1));
      this.pop();
    }
    return item;
  }

  /** Python's deque.rotate: n > 0 moves the last n items to the front. */
  rotate(n: number): void {
    rotate(this, n);
  }

  /** Empties the queue and gives its chunks back to the pool. */
  clear(): void {
    // Only the items' slots hold anything: emptied, every chunk is clean (a loop
    // closes with an empty queue, as a run() ends, and then there is nothing to do).
    for (let i = 0; i < this.size; i++) this.set(i, undefined as T);
    for (const chunk of this.chunks) release(chunk);
    this.chunks = [];
    this.front = this.back = NO_CHUNK;
    this.head = 0;
    this.tail = CHUNK;
    this.size = 0;
  }

  *[Symbol.iterator](): Generator<T, void, undefined> {
    for (let i = 0; i < this.size; i++) yield this.get(i);
  }

  toArray(): T[] {
    const out = new Array<T>(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.get(i);
    return out;
  }

  /** A chunk for the back, from the pool or new. */
  private addBack(): void {
    const chunk = takeChunk<T>();
    this.chunks.push(chunk);
    if (this.chunks.length === 1) {
      this.front = chunk;
      this.head = 0;
    }
    this.back = chunk;
    this.tail = 0;
  }

  /** A chunk for the front (the queue is not empty). */
  private addFront(): void {
    const chunk = takeChunk<T>();
    this.chunks.unshift(chunk);
    this.front = chunk;
    this.head = CHUNK;
  }

  /** The front chunk emptied, and another follows: it goes back to the pool. */
  private dropFront(): void {
    release(this.chunks.shift() as Chunk<T>);
    this.front = this.chunks[0] as Chunk<T>;
    this.head = 0;
  }

  /** The back chunk emptied, and another precedes it: it goes back to the pool. */
  private dropBack(): void {
    release(this.chunks.pop() as Chunk<T>);
    this.back = this.chunks[this.chunks.length - 1] as Chunk<T>;
    this.tail = CHUNK;
  }
}

/** An empty chunk goes to the pool, if it has room. */
function release(chunk: Chunk<unknown>): void {
  if (pool.length < POOL_MAX) pool.push(chunk);
}
