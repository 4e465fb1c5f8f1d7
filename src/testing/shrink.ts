/**
 * Shrinking a failing schedule: fewest departures from FIFO order first, then
 * fewest steps, keeping only schedules that still fail the same way. First
 * greedily (drop a departure, take a nearer option), then, to get below what
 * greedy steps reach, a search of every schedule with fewer departures, as
 * iterative context bounding does, within what is left of the budget.
 */
import { now } from "../util/clock.js";
import { type Chooser, entryKey, type Outcome } from "./run.js";
import { makeStrategy } from "./strategies.js";
import { deviationsOf } from "./token.js";

/** A departure from the ready queue's FIFO order to try: the entry to run, else the option. */
interface Departure {
  readonly choice: number;
  readonly entry: string | undefined;
}

/**
 * The departures of a schedule: of the ready queue by decision, of choose()
 * by call (the k-th choose() of the run). Without a departure before it, a
 * run may make fewer decisions, and a choose() comes as an earlier decision:
 * it is still the same call.
 */
interface Plan {
  readonly entries: Map<number, Departure>;
  readonly values: Map<number, number>;
}

function planOf(outcome: Outcome): Plan {
  const entries = new Map<number, Departure>();
  const values = new Map<number, number>();
  const ran = outcome.ran;
  const calls = outcome.valueDecisions;
  let call = 0;
  for (const [index, choice] of deviationsOf(outcome.choices)) {
    while (call < calls.length && (calls[call] as number) < index) call++;
    if (calls[call] === index) values.set(call, choice);
    else entries.set(index, { choice, entry: ran.get(index) });
  }
  return { entries, values };
}

/** Runs the program under `chooser`. */
export type Rerun = (chooser: Chooser) => Outcome | Promise<Outcome>;

/**
 * True if `outcome` fails as `failing` does: the same kind and, for an error
 * the program threw or reported, the same class and message, numbers aside
 * ("n is 2" and "n is 3" are one bug; a TypeError is another).
 */
function sameFailure(outcome: Outcome, failing: Outcome): boolean {
  const a = outcome.failure;
  const b = failing.failure;
  if (a === null || b === null || a.kind !== b.kind) return false;
  if (a.kind !== "main threw" && a.kind !== "exception report") return true;
  return errorShape(a.cause) === errorShape(b.cause);
}

function errorShape(cause: unknown): string {
  const said = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return said.replace(/\d+/g, "#");
}

/**
 * A shrunk schedule; `cutShort` when the runs ran out before no departure
 * could be dropped alone any more.
 */
export interface Shrunk {
  readonly outcome: Outcome;
  readonly cutShort: boolean;
}

/**
 * The smallest schedule found that fails as `failing` does, in at most
 * `budget` runs begun before `deadline` (on the clock of util/clock.js).
 */
export async function shrink(
  failing: Outcome,
  rerun: Rerun,
  budget: number,
  deadline: number,
): Promise<Shrunk> {
  let runsLeft = budget;
  let spent = false;
  /** The outcome under `chooser` if it fails the same way, null if not; undefined once the budget is spent. */
  const attempt: Attempt = async (chooser, passed) => {
    if (runsLeft === 0 || now() > deadline) {
      spent = true;
      return undefined;
    }
    runsLeft--;
    const outcome = await rerun(chooser);
    if (sameFailure(outcome, failing)) return outcome;
    passed?.(outcome);
    return null;
  };
  let best = await shrinkGreedily(failing, attempt);
  // Spent in the search for fewer departures, the runs leave the greedy result as it was.
  let cutShort = spent;
  const fewest = await fewestDepartures(best, attempt);
  if (fewest !== null) {
    best = await shrinkGreedily(fewest, attempt);
    cutShort = spent;
  }
  return { outcome: best, cutShort };
}

type Attempt = (
  chooser: Chooser,
  passed?: (outcome: Outcome) => void,
) => Promise<Outcome | null | undefined>;

async function shrinkGreedily(failing: Outcome, attempt: Attempt): Promise<Outcome> {
  let best = failing;
  for (;;) {
    const smaller = await shrinkOnce(best, attempt);
    if (smaller === null) return best;
    best = smaller;
  }
}

async function shrinkOnce(best: Outcome, attempt: Attempt): Promise<Outcome | null> {
  for (const candidate of candidates(planOf(best))) {
    const tried = await attempt(targeted(candidate));
    if (tried === undefined) return null;
    if (tried !== null && smallerThan(tried, best)) return tried;
  }
  return null;
}

/**
 * The plans one step smaller than `plan`, made one at a time as they are
 * tried: each is a copy of the plan, and a schedule of D departures has
 * about 3D of them, most never tried once one of the first fails.
 */
function* candidates({ entries, values }: Plan): Generator<Plan> {
  for (const index of entries.keys()) yield { entries: without(entries, index), values };
  // The same drops with the others taken as the token numbers them (the option, not the
  // entry): where a dropped departure moved entries, either reading may keep the failure.
  const numbered = new Map([...entries].map(([index, d]) => [index, byOption(d)]));
  for (const index of entries.keys()) yield { entries: without(numbered, index), values };
  for (const call of values.keys()) yield { entries, values: without(values, call) };
  // The nearest other option is often as good, and makes for a shorter run.
  for (const [index, departure] of entries) {
    if (departure.choice !== 1) {
      yield { entries: new Map(entries).set(index, { choice: 1, entry: undefined }), values };
    }
  }
  for (const [call, choice] of values) {
    if (choice !== 1) yield { entries, values: new Map(values).set(call, 1) };
  }
}

/** A copy of `map` without `key`. */
function without<K, V>(map: ReadonlyMap<K, V>, key: K): Map<K, V> {
  const copy = new Map(map);
  copy.delete(key);
  return copy;
}

/** A failing schedule with fewer departures than `best`, the fewest there are, or null. */
async function fewestDepartures(best: Outcome, attempt: Attempt): Promise<Outcome | null> {
  const most = deviationsOf(best.choices).size;
  for (let bound = 1; bound < most; bound++) {
    const dfs = makeStrategy({ strategy: "dfs", seed: 0, depth: 1, preemptionBound: bound });
    // The FIFO schedule (iteration 0) passed, or there would be nothing to shrink.
    for (let iteration = 0; dfs.begin(iteration); iteration++) {
      const tried = await attempt(dfs, (outcome) => dfs.end(outcome));
      if (tried === undefined) return null;
      if (tried !== null) return tried;
    }
  }
  return null;
}

/**
 * Makes the departures `plan` lists, FIFO order elsewhere. A departure of the
 * ready queue runs the same entry (the same task) as before, wherever it now
 * is in the queue: removing an earlier departure moves entries, not what the
 * schedule meant; and one of choose() is of the same call.
 */
function targeted(plan: Plan): Chooser {
  let calls = 0;
  return {
    pick(index, n, ready) {
      if (ready === null) {
        const choice = plan.values.get(calls++);
        return choice !== undefined && choice < n ? choice : 0;
      }
      const departure = plan.entries.get(index);
      if (departure === undefined) return 0;
      if (departure.entry !== undefined) {
        for (let i = 0; i < n; i++) if (entryKey(ready.get(i)) === departure.entry) return i;
      }
      return departure.choice < n ? departure.choice : 0;
    },
  };
}

/** `departure`, made by its option alone (see targeted). */
function byOption(departure: Departure): Departure {
  return { choice: departure.choice, entry: undefined };
}

function smallerThan(a: Outcome, b: Outcome): boolean {
  const da = deviationsOf(a.choices).size;
  const db = deviationsOf(b.choices).size;
  return da < db || (da === db && a.steps < b.steps);
}
