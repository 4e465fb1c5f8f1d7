/**
 * Failures nobody looked at: a future that failed and whose exception was
 * never retrieved is reported through its loop's exception handler ("Task
 * exception was never retrieved"), as asyncio reports it, when the future is
 * garbage-collected, when its loop closes, or at the latest when the process
 * exits. Never silently lost.
 */
import { type Context, currentContext } from "./context.js";
import type { Future } from "./futures.js";
import type { BaseEventLoop } from "./loops/base.js";
import { creationFrames } from "./suspendsite.js";
import { yieldToHost } from "./util/host.js";

/** @internal A failure nobody has looked at yet. */
export interface Unretrieved {
  readonly loop: BaseEventLoop;
  readonly message: string;
  readonly exception: unknown;
  /** The future: held during a synchronous run, then watched through a WeakRef (null without one). */
  future: Future<unknown> | WeakRef<Future<unknown>> | null;
  /** The future in words, once it is watched: what the report says of it once it is collected. */
  described?: string;
  /** Debug mode: where the future was made, kept with `described` for the same report. */
  madeAt?: string[];
  /** A task's context, which the handler runs in (as asyncio's since 3.12). */
  readonly context: Context | undefined;
}

const collected =
  typeof FinalizationRegistry === "function"
    ? new FinalizationRegistry<Unretrieved>((report) => report.loop._reportUnretrieved(report))
    : null;

/** The loops holding failures nobody retrieved, for the report at the process's exit. */
const loopsWithFailures = new Set<BaseEventLoop>();
let exitReportArmed = false;

/**
 * A WeakRef made during a host job keeps its target alive until the job ends,
 * and a synchronous run (runSync) is one job: a WeakRef per failure would keep
 * every failed future of the run alive, retrieved or not. So while one lasts,
 * failures are held in `held` (dropped when retrieved) and watched when it ends.
 */
let syncRuns = 0;
const held = new Set<Unretrieved>();

/**
 * Failures watched since the last look at their stacks. An Error keeps the
 * frames of its stack until the stack is formatted, and the frame of a
 * coroutine or an async function keeps it, and so its task: the report,
 * which the registry holds, would keep its own future alive, and it would
 * never be collected. A host macrotask after the failure, the stacks of those
 * still unretrieved are formatted, which lets their frames go.
 */
let unformatted: Unretrieved[] = [];

/** @internal A synchronous run starts: see `held`. */
export function beginSyncRun(): void {
  syncRuns++;
}

/** @internal A synchronous run ends: the failures still unretrieved are watched for collection. */
export function endSyncRun(): void {
  if (--syncRuns > 0) return;
  for (const report of held) watch(report, report.future as Future<unknown>);
  held.clear();
}

/** @internal `future` failed with `exception`: reported unless someone retrieves it. */
export function failedUnretrieved(future: Future<unknown>, exception: unknown): Unretrieved {
  const loop = future._loop;
  const report: Unretrieved = {
    loop,
    message: `${future._kind()} exception was never retrieved`,
    exception,
    future,
    context: failedIn(future),
  };
  loop._unretrieved.add(report);
  loopsWithFailures.add(loop);
  if (!exitReportArmed) armExitReport();
  if (syncRuns > 0) held.add(report);
  else watch(report, future);
  return report;
}

/**
 * A task's context, for the report: while its own step fails it, the context
 * that step runs in, with the step's writes (the task takes it as its own
 * only as the step ends, after this). A plain future has none.
 */
function failedIn(future: Future<unknown>): Context | undefined {
  const own = (future as { _context?: Context })._context;
  if (own === undefined) return undefined;
  return future._loop._currentTask === future ? currentContext() : own;
}

/** @internal The failure was looked at (`future`'s exception retrieved): nothing to report. */
export function retrieved(report: Unretrieved): void {
  forget(report);
  held.delete(report);
}

/** @internal Takes the report off its loop: true if it was still to be made. */
export function forget(report: Unretrieved): boolean {
  const loop = report.loop;
  if (!loop._unretrieved.delete(report)) return false;
  // The registry holds the report, whose exception's frames may hold the future: for good.
  collected?.unregister(report);
  if (loop._unretrieved.size === 0) loopsWithFailures.delete(loop);
  return true;
}

/** @internal The future of an unretrieved failure, if it is still alive. */
export function unretrievedFuture(report: Unretrieved): Future<unknown> | undefined {
  const future = report.future;
  if (future === null) return undefined;
  return "deref" in future ? future.deref() : future;
}

/** Reports the failure if `future` is collected before anyone retrieved it. */
function watch(report: Unretrieved, future: Future<unknown>): void {
  report.future = typeof WeakRef === "function" ? new WeakRef(future) : null;
  collected?.register(future, report, report);
  if (unformatted.push(report) === 1) yieldToHost(formatStacks);
}

/**
 * Formats the stacks of the failures still unretrieved (see `unformatted`),
 * and puts their futures in words, for a report made once they are collected.
 */
function formatStacks(): void {
  const reports = unformatted;
  unformatted = [];
  for (const report of reports) {
    if (!report.loop._unretrieved.has(report)) continue;
    const future = unretrievedFuture(report);
    if (future !== undefined) {
      report.described = String(future);
      const frames = creationFrames(future);
      if (frames.length > 0) report.madeAt = frames;
    }
    const exception = report.exception;
    try {
      if (exception instanceof Error) void exception.stack;
    } catch {
      // A stack accessor of the error's own that throws: its frames stay.
    }
  }
}

/** On hosts with a process (Node, Deno, Bun): what is still unreported is reported as it exits. */
function armExitReport(): void {
  exitReportArmed = true;
  const host = globalThis as { process?: { once?: (event: string, fn: () => void) => unknown } };
  host.process?.once?.("exit", reportAtExit);
}

function reportAtExit(): void {
  for (const loop of [...loopsWithFailures]) loop._reportAllUnretrieved();
}
