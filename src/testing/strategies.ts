/**
 * The strategies explore() searches schedules with: a random walk, PCT
 * (probabilistic concurrency testing: random priorities with `depth - 1`
 * change points), and a bounded depth-first search over every decision.
 * Iteration 0 is always the FIFO schedule; the rest follow from the seed.
 */
import { taskOfEntry } from "../tasktree.js";
import type { Chooser, Outcome, Ready } from "./run.js";

/** A Chooser that learns from each run and says when nothing is left to try. */
export interface Strategy extends Chooser {
  /** Starts iteration `iteration`; false when the search has nothing left to run. */
  begin(iteration: number): boolean;
  /** The iteration ended with `outcome`. */
  end(outcome: Outcome): void;
  /** True once every schedule within the bounds was run (dfs only). */
  readonly exhausted: boolean;
}

/** The settings a strategy is made from. */
export interface StrategySettings {
  readonly strategy: "random" | "pct" | "dfs";
  readonly seed: number;
  readonly depth: number;
  readonly preemptionBound: number;
}

export function makeStrategy(settings: StrategySettings): Strategy {
  switch (settings.strategy) {
    case "random":
      return new RandomWalk(settings.seed);
    case "pct":
      return new Pct(settings.seed, settings.depth);
    case "dfs":
      return new BoundedDfs(settings.preemptionBound);
  }
}

/** @internal mulberry32: a small, fast PRNG whose numbers, in [0, 1), follow from its seed alone. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The numbers of one iteration: a function of the seed and the iteration alone.
 * `^` reads only a number's low 32 bits, so a seed's high bits are mixed in
 * apart: seeds a multiple of 2^32 apart would run the same search.
 */
function iterationRandom(seed: number, iteration: number): () => number {
  const high = Math.floor(seed / 2 ** 32);
  return prng(
    Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^
      Math.imul(high, 0xc2b2ae35) ^
      Math.imul(iteration, 0x85ebca6b),
  );
}

/** Each decision uniformly at random. */
class RandomWalk implements Strategy {
  readonly exhausted = false;
  private _random: (() => number) | null = null;

  constructor(private readonly _seed: number) {}

  begin(iteration: number): boolean {
    this._random = iteration === 0 ? null : iterationRandom(this._seed, iteration);
    return true;
  }

  pick(_index: number, n: number): number {
    return this._random === null ? 0 : Math.floor(this._random() * n);
  }

  end(): void {}
}

/**
 * PCT (Burckhardt et al., 2010): each task gets a random priority when first
 * seen and the highest ready one runs; at `depth - 1` random decisions the
 * task about to run drops below every other. A bug that needs `depth`
 * ordering constraints is found with a probability that does not shrink with
 * the number of interleavings, only with the number of steps.
 */
class Pct implements Strategy {
  readonly exhausted = false;
  private _random: (() => number) | null = null;
  private readonly _priorities = new Map<object, number>();
  private readonly _changePoints: number[] = [];
  /** Decisions made by the runs so far, and runs: change points fall among a run's mean. */
  private _decisions = 0;
  private _runs = 0;

  constructor(
    private readonly _seed: number,
    private readonly _depth: number,
  ) {}

  begin(iteration: number): boolean {
    this._priorities.clear();
    if (iteration === 0) {
      this._random = null;
      return true;
    }
    const random = iterationRandom(this._seed, iteration);
    this._random = random;
    // Among the decisions of a run of mean length, not of the longest: a change point
    // past the end of the run is lost, and the longest run is longer than most.
    const horizon = this._runs === 0 ? 1 : Math.max(1, Math.round(this._decisions / this._runs));
    // Written over in place: the array always holds depth - 1 of them.
    for (let i = 0; i < this._depth - 1; i++) {
      this._changePoints[i] = Math.floor(random() * horizon);
    }
    return true;
  }

  pick(index: number, n: number, ready: Ready | null): number {
    const random = this._random;
    if (random === null) return 0;
    if (ready === null) return Math.floor(random() * n);
    let chosen = this._highest(ready, n, random);
    const change = this._changePoints.indexOf(index);
    if (change >= 0) {
      // Initial priorities are >= depth: change point i drops the task to i, below them all.
      this._priorities.set(keyOf(ready, chosen), change);
      chosen = this._highest(ready, n, random);
    }
    return chosen;
  }

  end(outcome: Outcome): void {
    this._decisions += outcome.choices.length;
    this._runs++;
  }

  private _highest(ready: Ready, n: number, random: () => number): number {
    let chosen = 0;
    let top = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const key = keyOf(ready, i);
      let priority = this._priorities.get(key);
      if (priority === undefined) {
        priority = this._depth + random();
        this._priorities.set(key, priority);
      }
      if (priority > top) {
        top = priority;
        chosen = i;
      }
    }
    return chosen;
  }
}

/** What a priority belongs to: the task an entry resumes, else the entry (a callback, a timer). */
function keyOf(ready: Ready, index: number): object {
  const entry = ready.get(index);
  return taskOfEntry(entry) ?? entry;
}

/**
 * Depth-first search over every decision, FIFO first: each run takes the
 * path of the last one up to its deepest decision with an untried option
 * left, takes the next option there, and FIFO after. With a preemption bound,
 * only schedules with at most that many departures from FIFO order are run.
 */
class BoundedDfs implements Strategy {
  exhausted = false;
  /** The choice made and the options there were, at each decision of the current path. */
  private readonly _choices: number[] = [];
  private readonly _options: number[] = [];

  constructor(private readonly _bound: number) {}

  begin(): boolean {
    return !this.exhausted;
  }

  pick(index: number, n: number): number {
    if (index < this._choices.length) {
      const choice = this._choices[index] as number;
      return choice < n ? choice : 0; // only a program that is not deterministic changes n
    }
    this._choices.push(0);
    this._options.push(n);
    return 0;
  }

  end(): void {
    const choices = this._choices;
    let deviations = choices.filter((choice) => choice !== 0).length;
    for (let i = choices.length - 1; i >= 0; i--) {
      const choice = choices[i] as number;
      if (choice !== 0) deviations--; // now those before i
      if (choice + 1 < (this._options[i] as number) && deviations < this._bound) {
        choices[i] = choice + 1;
        choices.length = this._options.length = i + 1;
        return;
      }
    }
    this.exhausted = true;
  }
}
