/**
 * explore() and replay(): run a program under many schedules, each choice of
 * the next ready entry made by a strategy, until one fails; shrink that
 * schedule, and report it with a token that replays it exactly.
 */
import { checkSignal } from "../abort.js";
import { loopInThisStack } from "../events.js";
import { now } from "../util/clock.js";
import { hostDelay } from "../util/hostdelay.js";
import {
  argRangeError,
  argTypeError,
  checkBooleanOption,
  checkFunction,
  checkInteger,
  checkNonNegative,
  checkOptions,
  type OptionNames,
  rejectingThrows,
} from "../validate.js";
import {
  AWAIT_WHAT_THE_LOOP_MAKES,
  type FailureKind,
  type Outcome,
  type Program,
  Runner,
  type RunRules,
} from "./run.js";
import { shrink } from "./shrink.js";
import { makeStrategy, type StrategySettings } from "./strategies.js";
import { decodeToken, deviationsOf, encodeToken, scripted } from "./token.js";

/** Options of {@link explore}. */
export type ExploreOptions = ExploreRules &
  (
    | {
        /** How to choose: "random" (default) at each decision, "pct" by random priorities, "dfs" every schedule in turn. */
        strategy?: "random" | undefined;
        depth?: undefined;
        preemptionBound?: undefined;
      }
    | {
        strategy: "pct";
        /** PCT's bug depth (default 3): the number of ordering constraints a bug it should find needs. */
        depth?: number | undefined;
        preemptionBound?: undefined;
      }
    | {
        strategy: "dfs";
        depth?: undefined;
        /**
         * The most departures from FIFO order a schedule may have (default: no
         * bound); a choose() that returns anything but 0 counts as one.
         */
        preemptionBound?: number | undefined;
      }
  );

/** The options of {@link explore} that every strategy takes. */
export interface ExploreRules {
  /** How many schedules to run at most (default 1000); iteration 0 is the FIFO schedule. */
  iterations?: number | undefined;
  /**
   * The seed of the strategy's choices, an integer from 0 to
   * Number.MAX_SAFE_INTEGER (default 0): the same seed runs the same schedules.
   */
  seed?: number | undefined;
  /** The most entries one run may run (default 100000): a run past it fails, as a livelock. */
  maxSteps?: number | undefined;
  /**
   * Stop searching after this many milliseconds (default: no limit); the
   * report says the search was cut short. A run then still waiting on the
   * host alone (past an await of a promise the loop did not make) fails the
   * search, as kind "time limit".
   */
  timeLimitMs?: number | undefined;
  /** Fail on exception-handler reports without an exception (warnings) too, such as an await of a promise the loop did not make (default false). */
  failOnWarnings?: boolean | undefined;
  /**
   * Each run's loop keeps the AsyncLocalStorage context of the code that made
   * each task, callback and timer, as the loops' option of that name does
   * (default false): for a program that run() runs with it.
   */
  asyncLocalStorage?: boolean | undefined;
  /**
   * Each run's loop is in debug mode (default false), as run()'s option of
   * that name: a failure's task tree and deadlock report say where each task
   * suspended. It changes no schedule: a token found without it replays with it.
   */
  debug?: boolean | undefined;
  /**
   * Stops the search when it aborts (a test runner's timeout: vitest's
   * `context.signal`): it rejects with the signal's reason, and the next
   * search need not wait for it to end.
   */
  signal?: AbortSignal | undefined;
}

/** Options of {@link replay}: the rules of the run, as the search that found the token had them, and a signal. */
export type ReplayOptions = Pick<
  ExploreRules,
  "maxSteps" | "failOnWarnings" | "asyncLocalStorage" | "debug" | "signal"
>;

const EXPLORE_OPTIONS: OptionNames<ExploreOptions> = {
  iterations: true,
  seed: true,
  strategy: true,
  depth: true,
  preemptionBound: true,
  maxSteps: true,
  timeLimitMs: true,
  failOnWarnings: true,
  asyncLocalStorage: true,
  debug: true,
  signal: true,
};
const REPLAY_OPTIONS: OptionNames<ReplayOptions> = {
  maxSteps: true,
  failOnWarnings: true,
  asyncLocalStorage: true,
  debug: true,
  signal: true,
};

/** What {@link explore} found when no schedule failed. */
export interface ExploreReport {
  strategy: "random" | "pct" | "dfs";
  seed: number;
  /** Schedules run. */
  iterations: number;
  /** Distinct schedules among them. */
  schedules: number;
  /** "dfs": every schedule within the bounds was run (never with uncontrolledRuns, whose host order was not). */
  exhausted: boolean;
  /** timeLimitMs ended the search before `iterations`. */
  timedOut: boolean;
  /**
   * Runs in which a native task awaited a promise the loop did not make (a
   * host timer, I/O): past that await their order was the host's, not the
   * strategy's; a search that passes with such runs says so once with
   * console.warn. `failOnWarnings: true` fails the first such run instead.
   */
  uncontrolledRuns: number;
}

/** The fields of an {@link ExploreError} besides its message. */
interface Found {
  kind: FailureKind;
  iteration: number | null;
  seed: number | null;
  token: string;
  schedule: readonly string[];
  steps: number;
  cause: unknown;
}

/**
 * A schedule under which the program failed, found by {@link explore} or
 * run again by {@link replay}. `cause` is what failed: main's error, a
 * DeadlockError naming each blocked task and what it waits on, the error of
 * the step limit or of the time limit, or the exception the loop's exception handler was given.
 *
 * @example
 * ```ts
 * import { sleep } from "asynkit";
 * import { ExploreError, explore } from "asynkit/testing";
 * function* main() {
 *   yield* sleep(0);
 *   throw new Error("always");
 * }
 * try {
 *   await explore(main);
 * } catch (e) {
 *   if (e instanceof ExploreError) console.log(e.kind, e.iteration, e.token); // "main threw" 0 "1:"
 * }
 * ```
 */
export class ExploreError extends Error {
  override name = "ExploreError";
  /** How the run failed: "main threw", "deadlock", "step limit", "exception report" or "time limit". */
  readonly kind: FailureKind;
  /** The iteration that failed first (null from replay()). */
  readonly iteration: number | null;
  /** The seed of the search (null from replay()). */
  readonly seed: number | null;
  /** Every decision of the (shrunk) failing schedule: pass it to replay(). */
  readonly token: string;
  /** The decisions that departed from FIFO order, in words, e.g. `step 7: ran Task "writer" instead of Task "reader"`. */
  readonly schedule: readonly string[];
  /** Entries the failing run ran. */
  readonly steps: number;

  /** @internal Made by explore() and replay(). */
  constructor(message: string, found: Found) {
    super(message, { cause: found.cause });
    this.kind = found.kind;
    this.iteration = found.iteration;
    this.seed = found.seed;
    this.token = found.token;
    this.schedule = found.schedule;
    this.steps = found.steps;
  }
}

/** At most this many runs go into shrinking one failure. */
const MAX_SHRINK_RUNS = 500;

const STRATEGIES = ["random", "pct", "dfs"] as const;

/**
 * Runs the program `main` makes (a generator function, or an async function
 * run as a native task: a new program on each call) once per iteration, on a
 * fresh virtual loop whose every choice of the next ready entry is made by the
 * strategy, until a run fails: main
 * throws, deadlocks, passes `maxSteps`, or the loop's exception handler gets
 * an error. Then it shrinks the failing schedule and rejects with an
 * {@link ExploreError} whose token {@link replay} runs again exactly.
 * Resolves with a report when no schedule failed.
 *
 * @example
 * ```ts
 * import { createTask, sleep } from "asynkit";
 * import { explore } from "asynkit/testing";
 * function* main() {
 *   let n = 0;
 *   function* a() { const v = n; yield* sleep(0); n = v + 1; }
 *   function* b() { yield* sleep(0); yield* sleep(0); n += 1; }
 *   const ta = createTask(a(), { name: "A" });
 *   const tb = createTask(b(), { name: "B" });
 *   yield* ta;
 *   yield* tb;
 *   if (n !== 2) throw new Error(`lost update: n is ${n}`);
 * }
 * await explore(main, { strategy: "pct" }).catch((e) => console.log(e.schedule));
 * ```
 */
export function explore(main: Program, options?: ExploreOptions): Promise<ExploreReport> {
  return rejectingThrows(() => {
    checkMain("explore()", main);
    const settings = checkExploreOptions(options ?? {});
    checkNoLoopRunning("explore()");
    return inTurn(() => search(main, settings));
  });
}

/**
 * Runs the program `main` makes under the schedule `token` (from an
 * ExploreError) again, and rejects with the same failure, every time: a
 * regression test for a race. Resolves once the program no longer fails under
 * it. A decision the token chooses an option for that the program no longer
 * has (it changed since) is made in FIFO order. Pass the `maxSteps`,
 * `failOnWarnings` and `asyncLocalStorage` the search had, as the
 * ExploreError's message does.
 *
 * @example
 * ```ts
 * import { sleep } from "asynkit";
 * import { replay } from "asynkit/testing";
 * function* main() { yield* sleep(0); }
 * await replay(main, "1:"); // the FIFO schedule: passes
 * ```
 */
export function replay(main: Program, token: string, options?: ReplayOptions): Promise<void> {
  return rejectingThrows(() => {
    checkMain("replay()", main);
    const deviations = decodeToken("replay()", token);
    checkOptions("replay()", options, "{ maxSteps: 1000 }", REPLAY_OPTIONS);
    const rules = checkRunRules("replay()", options ?? {});
    const signal = checkSearchSignal("replay()", options?.signal);
    checkNoLoopRunning("replay()");
    return inTurn(() =>
      untilAborted(signal, new Runner(main, rules, "replay()"), async (runner) => {
        const outcome = await runner.run(scripted(deviations));
        if (outcome.failure !== null) throw reportFailure(main, outcome, null, rules);
      }),
    );
  });
}

/**
 * Runs `work` with `runner`, stopping it when `signal` aborts: the run under
 * way at once, the next one before it begins (see Runner.run).
 */
async function untilAborted<T>(
  signal: AbortSignal | undefined,
  runner: Runner,
  work: (runner: Runner) => Promise<T>,
): Promise<T> {
  if (signal === undefined) return work(runner);
  if (signal.aborted) throw signal.reason;
  const stop = (): void => runner.abort(signal.reason);
  signal.addEventListener("abort", stop, { once: true });
  try {
    return await work(runner);
  } finally {
    signal.removeEventListener("abort", stop);
  }
}

/** The searches and replays not yet done: they run one at a time, as choose() asks the one running. */
let running: Promise<unknown> = Promise.resolve();

/** Runs `work` once the searches and replays before it are done. */
function inTurn<T>(work: () => T | Promise<T>): Promise<T> {
  const result = running.then(work);
  running = result.catch(() => undefined);
  return result;
}

const DEFAULT_MAX_STEPS = 100_000;

interface Settings extends StrategySettings, RunRules {
  readonly iterations: number;
  readonly timeLimitMs: number;
  readonly signal: AbortSignal | undefined;
}

function search(main: Program, settings: Settings): Promise<ExploreReport> {
  const runner = new Runner(main, settings, "explore()");
  return untilAborted(settings.signal, runner, (r) => searchWith(r, main, settings));
}

async function searchWith(
  runner: Runner,
  main: Program,
  settings: Settings,
): Promise<ExploreReport> {
  const strategy = makeStrategy(settings);
  const deadline = now() + settings.timeLimitMs;
  const seen = new Set<number>();
  let iteration = 0;
  let timedOut = false;
  let uncontrolledRuns = 0;
  let firstUncontrolled: string | null = null;
  const timed = settings.timeLimitMs !== Number.POSITIVE_INFINITY;
  const restart = (): boolean => strategy.begin(iteration);
  const stopWatch = timed ? watchTimeLimit(runner, settings.timeLimitMs) : null;
  try {
    for (; iteration < settings.iterations; iteration++) {
      if (timed && iteration > 0 && now() > deadline) {
        timedOut = true;
        break;
      }
      if (!strategy.begin(iteration)) break;
      let outcome = runner.run(strategy, restart);
      if (outcome instanceof Promise) outcome = await outcome;
      strategy.end(outcome);
      seen.add(outcome.key());
      if (outcome.uncontrolled > 0 && uncontrolledRuns++ === 0) {
        firstUncontrolled = outcome.firstUncontrolled;
      }
      if (outcome.failure !== null) {
        // A run stopped by the time limit waited on the host: its schedule is not the cause.
        const shrunk =
          outcome.failure.kind === "time limit"
            ? { outcome, cutShort: false }
            : await shrink(outcome, (chooser) => runner.run(chooser), MAX_SHRINK_RUNS, deadline);
        // Not past the time limit (Infinity without one): the run that failed by it, or one
        // run again, says nothing.
        const checkAgain = outcome.failure.kind !== "time limit" && now() <= deadline;
        const fifoAgain =
          iteration > 0 && checkAgain ? await runAgain(runner, NO_DEPARTURES) : NO_ANSWER;
        const reported = deviationsOf(shrunk.outcome.choices);
        // Not for a run past an await of the host's: its report says a replay may differ.
        const scheduleAgain =
          !checkAgain || shrunk.outcome.uncontrolled > 0
            ? NO_ANSWER
            : reported.size === 0 && iteration > 0
              ? fifoAgain // the same schedule: run again once
              : await runAgain(runner, reported);
        const found = {
          first: outcome,
          cutShort: shrunk.cutShort,
          iteration,
          seed: settings.seed,
          fifoAgain:
            fifoAgain === NO_ANSWER || fifoAgain === null ? null : describeFailure(fifoAgain),
          passedAgain: scheduleAgain === null,
        };
        throw reportFailure(main, shrunk.outcome, found, settings);
      }
    }
  } finally {
    stopWatch?.();
  }
  if (uncontrolledRuns > 0) warnUncontrolled(uncontrolledRuns, iteration, firstUncontrolled);
  else if (settings.strategy === "dfs" && !strategy.exhausted && !timedOut) {
    warnNotExhausted(iteration, settings.preemptionBound);
  }
  return {
    strategy: settings.strategy,
    seed: settings.seed,
    iterations: iteration,
    schedules: seen.size,
    // Past an uncontrolled await the order was the host's: no schedule covered it.
    exhausted: strategy.exhausted && uncontrolledRuns === 0,
    timedOut,
    uncontrolledRuns,
  };
}

/**
 * A search that passed, though some runs left the loop's order: said once,
 * since a count in the report is easy to miss and the search may have missed
 * a bug there.
 */
function warnUncontrolled(runs: number, iterations: number, first: string | null): void {
  console.warn(
    `explore(): ${runs} of ${iterations} runs awaited a promise the loop did not make${first === null ? "" : ` (the first, ${first})`}: past it their order was the host's, which no schedule varies, so the search did not cover it. ` +
      `${AWAIT_WHAT_THE_LOOP_MAKES}, or pass failOnWarnings: true to fail at such an await.`,
  );
}

/**
 * A dfs search that passed on its budget of runs before it ran every
 * schedule: said, since its pass reads as a proof and is not one.
 */
function warnNotExhausted(iterations: number, preemptionBound: number): void {
  console.warn(
    `explore(): dfs ran its ${iterations} iterations without running every schedule, so the search is not exhaustive (its report says exhausted: false). ` +
      (preemptionBound === Number.POSITIVE_INFINITY
        ? "Bound the departures from FIFO order, where most bugs are (preemptionBound: 1 or 2), or raise iterations."
        : "Raise iterations, or lower preemptionBound."),
  );
}

/** How often a search past its time limit looks again for a run waiting on the host alone. */
const TIME_LIMIT_RECHECK_MS = 10;

/**
 * From the time limit on, stops a run on the host that waits on the host
 * alone: one stuck past an await of a host promise would hold the search
 * forever, since the limit is otherwise checked between runs. Returns the
 * function that stops watching.
 */
function watchTimeLimit(runner: Runner, timeLimitMs: number): () => void {
  let cancel: () => void;
  const check = (): void => {
    runner.stopIfWaitingOnHost(timeLimitMs);
    cancel = hostDelay(check, TIME_LIMIT_RECHECK_MS);
  };
  cancel = hostDelay(check, timeLimitMs);
  return () => cancel();
}

/** Where a search found a failure: its first failing run, and whether the shrink ran out of runs. */
interface Search {
  readonly first: Outcome;
  readonly cutShort: boolean;
  readonly iteration: number;
  readonly seed: number;
  /** How the FIFO schedule, which passed as iteration 0, fails when run again; null if it passes. */
  readonly fifoAgain: string | null;
  /** The failing schedule passed when run again: its outcome is not the schedule's alone. */
  readonly passedAgain: boolean;
}

/** How long a schedule's second run may wait on the host alone before it is no answer. */
const AGAIN_HOST_WAIT_MS = 1000;

const NO_DEPARTURES: ReadonlyMap<number, number> = new Map();

/** A second run that says nothing: aborted by the search's signal, or stopped waiting on the host. */
const NO_ANSWER = Symbol("no answer");

type Failure = NonNullable<Outcome["failure"]>;

/**
 * Runs a schedule again once a search found a failure: the FIFO schedule,
 * which passed as iteration 0 (a failure now is state kept between runs, or
 * something outside the loop's control), and the failing schedule (a pass now
 * is a failure that the schedule alone does not make). Either way the report
 * must say so, since the replay it offers may then pass. Null if it passes.
 */
async function runAgain(
  runner: Runner,
  deviations: ReadonlyMap<number, number>,
): Promise<Failure | null | typeof NO_ANSWER> {
  const stopWatch = watchTimeLimit(runner, AGAIN_HOST_WAIT_MS);
  let failure: Outcome["failure"];
  try {
    failure = (await runner.run(scripted(deviations))).failure;
  } catch {
    return NO_ANSWER; // aborted by the search's signal: the failure found stands
  } finally {
    stopWatch();
  }
  return failure?.kind === "time limit" ? NO_ANSWER : failure;
}

/** A failure in a few words, for a report that mentions a second one. */
function describeFailure(failure: Failure): string {
  const cause = failure.cause;
  if (failure.kind !== "main threw" || !(cause instanceof Error)) return failure.kind;
  const said = cause.message.split("\n")[0] as string;
  return `main threw ${cause.name}: ${said.length > 120 ? `${said.slice(0, 120)}…` : said}`;
}

function reportFailure(
  main: Program,
  outcome: Outcome,
  search: Search | null,
  rules: RunRules,
): ExploreError {
  const failure = outcome.failure as NonNullable<Outcome["failure"]>;
  const token = encodeToken(outcome.choices);
  const cause = failure.cause;
  const said = cause instanceof Error ? cause.message : String(cause);
  const named = cause instanceof Error ? `${cause.name}: ${said}` : said;
  const what =
    failure.kind === "main threw"
      ? `main threw ${named}`
      : failure.report !== undefined && failure.report !== said
        ? `${failure.kind}: ${failure.report}: ${named}`
        : `${failure.kind}: ${said.replace(/^(explore|replay)\(\): (deadlock: )?/, "")}`;
  const where =
    search === null
      ? "replay(): the schedule fails again"
      : `explore(): iteration ${search.iteration} (seed ${search.seed}) failed`;
  const deviations = outcome.schedule.length;
  const from = search?.first.schedule.length;
  const shrunk =
    search?.cutShort === true
      ? `, shrunk from ${from} until its ${MAX_SHRINK_RUNS} runs or the time limit ran out (some may go alone)`
      : from !== undefined && from !== deviations
        ? `, shrunk from ${from}`
        : "";
  const lines = [
    `${where}: ${what}`,
    ...(failure.unretrieved ?? []).map((report) => `Also reported in that run: ${report}`),
    `Schedule: ${deviations} departure(s) from FIFO order${shrunk}, ${outcome.steps} steps${deviations > 0 ? ":" : "."}`,
    ...outcome.schedule.map((line) => `  ${line}`),
    ...(search?.fifoAgain != null
      ? [
          `The FIFO schedule, which passed as iteration 0, fails when run again (${search.fifoAgain}): main does not make the program afresh. State kept from run to run (a module-level variable, a Lock, Event or Queue made outside main), or something outside the loop's control (Math.random(), the host's clock), makes a run's outcome depend on the runs before it, so this schedule may not be the cause, and its replay may pass on its own. Make that state inside main.`,
        ]
      : search?.passedAgain === true && outcome.uncontrolled === 0
        ? [
            `This schedule passed when run again: the failure is not the schedule's doing alone, but state kept from run to run (a module-level variable, a Lock, Event or Queue made outside main) or something outside the loop's control (Math.random(), the host's clock), so its replay may pass. Make main deterministic: its state made inside it, its randomness from choose().`,
          ]
        : []),
    ...(outcome.uncontrolled > 0
      ? [
          `This run awaited ${outcome.uncontrolled} promise(s) the loop did not make: past them its order was the host's, so a replay may not fail the same way. ${AWAIT_WHAT_THE_LOOP_MAKES}${rules.failOnWarnings ? "." : ", or pass failOnWarnings: true to fail at such an await."}`,
        ]
      : []),
    // A replay has no time limit: it would wait on the host as long as the run did.
    ...(failure.kind === "time limit"
      ? []
      : [
          `Replay it with replay(${nameIn(main)}, ${JSON.stringify(token)}${replayOptions(rules)}).`,
        ]),
  ];
  return new ExploreError(lines.join("\n"), {
    kind: failure.kind,
    iteration: search?.iteration ?? null,
    seed: search?.seed ?? null,
    token,
    schedule: outcome.schedule,
    steps: outcome.steps,
    cause,
  });
}

/** The options replay() needs to run by `rules`, as code: none for the defaults. */
function replayOptions(rules: RunRules): string {
  const options: string[] = [];
  if (rules.maxSteps !== DEFAULT_MAX_STEPS) options.push(`maxSteps: ${rules.maxSteps}`);
  if (rules.failOnWarnings) options.push("failOnWarnings: true");
  if (rules.asyncLocalStorage) options.push("asyncLocalStorage: true");
  // Debug mode changes no schedule, but its lints are warnings that failOnWarnings fails on.
  if (rules.debug) options.push("debug: true");
  return options.length === 0 ? "" : `, { ${options.join(", ")} }`;
}

/** What the program is called in a replay() call to paste: its function's name, or `main`. */
function nameIn(main: Program): string {
  return /^[A-Za-z_$][\w$]*$/.test(main.name) ? main.name : "main";
}

/** A search runs loops of its own: not from inside a running one. */
function checkNoLoopRunning(where: string): void {
  if (loopInThisStack() !== null) {
    throw new Error(
      `${where}: an event loop is running in this stack: call it from the test itself, not from inside a coroutine.`,
    );
  }
}

function checkMain(where: string, main: unknown): void {
  checkFunction(
    where,
    "main",
    main,
    "pass a generator function or an async function that makes the program afresh on each call",
  );
}

function checkExploreOptions(options: ExploreOptions): Settings {
  const where = "explore()";
  checkOptions(where, options, '{ iterations: 100, strategy: "pct" }', EXPLORE_OPTIONS);
  const { iterations = 1000, seed = 0, strategy = "random", depth = 3 } = options;
  const { preemptionBound = Number.POSITIVE_INFINITY } = options;
  const { timeLimitMs = Number.POSITIVE_INFINITY } = options;
  // Infinity: a search bounded by timeLimitMs or its signal alone.
  if (iterations !== Number.POSITIVE_INFINITY)
    checkInteger(where, "options.iterations", iterations, 1);
  checkInteger(where, "options.seed", seed, 0);
  if (seed > Number.MAX_SAFE_INTEGER) {
    // Past it, neighbouring integers are one number: two seeds would be one search.
    throw argRangeError(
      where,
      "options.seed",
      seed,
      "an integer from 0 to Number.MAX_SAFE_INTEGER",
      "pass a smaller whole number, such as Date.now()",
    );
  }
  if (typeof strategy !== "string" || !STRATEGIES.includes(strategy)) {
    const make = typeof strategy === "string" ? argRangeError : argTypeError;
    throw make(
      where,
      "options.strategy",
      strategy,
      '"random", "pct" or "dfs"',
      'pass strategy: "pct", for example',
    );
  }
  checkInteger(where, "options.depth", depth, 1);
  if (preemptionBound !== Number.POSITIVE_INFINITY) {
    checkInteger(where, "options.preemptionBound", preemptionBound, 0);
  }
  checkStrategyOption(where, "depth", options.depth, "pct", strategy);
  checkStrategyOption(where, "preemptionBound", options.preemptionBound, "dfs", strategy);
  checkNonNegative(
    where,
    "options.timeLimitMs",
    timeLimitMs,
    "pass a number of milliseconds, such as 5000",
  );
  return {
    iterations,
    seed,
    strategy,
    depth,
    preemptionBound,
    timeLimitMs,
    signal: checkSearchSignal(where, options.signal),
    ...checkRunRules(where, options),
  };
}

function checkSearchSignal(where: string, signal: unknown): AbortSignal | undefined {
  if (signal !== undefined) checkSignal(where, "options.signal", signal);
  return signal as AbortSignal | undefined;
}

/** An option only `owner` reads, given with another strategy: the caller meant something else. */
function checkStrategyOption(
  where: string,
  name: string,
  value: unknown,
  owner: string,
  strategy: string,
): void {
  if (value === undefined || strategy === owner) return;
  throw argTypeError(
    where,
    `options.${name}`,
    value,
    `an option of strategy "${owner}" alone (the strategy is "${strategy}")`,
    `pass strategy: "${owner}" with it, or leave it out`,
  );
}

/** The options of every run, explore()'s and replay()'s. */
function checkRunRules(where: string, options: ReplayOptions): RunRules {
  const {
    maxSteps = DEFAULT_MAX_STEPS,
    failOnWarnings = false,
    asyncLocalStorage = false,
    debug = false,
  } = options;
  checkInteger(where, "options.maxSteps", maxSteps, 1);
  checkBooleanOption(where, "options.failOnWarnings", failOnWarnings);
  checkBooleanOption(where, "options.asyncLocalStorage", asyncLocalStorage);
  checkBooleanOption(where, "options.debug", debug);
  return { maxSteps, failOnWarnings, asyncLocalStorage, debug };
}
