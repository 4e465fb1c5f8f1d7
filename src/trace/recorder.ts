/**
 * A trace of what loops did, in the Chrome/Perfetto trace event format: a
 * track per task with a slice per step and a "waiting for" span between
 * steps, flow arrows from what woke (or made) a task to the step that
 * follows (another task's step, or a timer's or callback's slice on the
 * loop's track), instants for ready-queue moves, timers and cancellations,
 * and counters for the ready queue and the live tasks. Built from the
 * `asynkit:*` events (channels.ts).
 */
import "../util/dispose.js";
import { type ChannelMessages, type ChannelName, listen } from "../channels.js";
import { peekRunningLoop } from "../events.js";
import type { BaseEventLoop } from "../loops/base.js";
import type { Task } from "../tasks.js";
import { taskLabel } from "../tasktree.js";
import { classNameOf } from "../util/inspect.js";
import {
  argRangeError,
  argTypeError,
  checkOptions,
  isEventLoop,
  notALoop,
  type OptionNames,
} from "../validate.js";

/** One event of the Chrome trace event format (the fields asynkit writes). */
export interface TraceEvent {
  /** The slice's, instant's, counter's or metadata's name. */
  name: string;
  /** The phase: B/E begin/end a slice, i an instant, C a counter, s/f a flow, M metadata. */
  ph: "B" | "E" | "i" | "C" | "s" | "f" | "M";
  /** Microseconds on the loop's clock (a nanosecond apart for events at the same moment). */
  ts: number;
  /** One process per loop. */
  pid: number;
  /** 0: the loop itself; then one thread per task. */
  tid: number;
  cat?: string;
  /** A flow's id, shared by its start (s) and finish (f). */
  id?: number;
  /** "e": the flow finish binds to the slice that encloses it. */
  bp?: "e";
  /** An instant's scope: "t", its thread. */
  s?: "t";
  args?: Record<string, unknown>;
}

/** A trace that ui.perfetto.dev and chrome://tracing open (JSON.stringify it to a file). */
export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: "ms";
  /** Set when the recording stopped at its maxEvents: why the trace ends there. */
  otherData?: { truncated: string };
}

/** Options for {@link traceRecorder}. */
export interface TraceRecorderOptions {
  /**
   * The most events to keep (default 1,000,000, about 160 MB); recording
   * stops when they are reached, and the trace says so. Infinity: no limit.
   */
  maxEvents?: number | undefined;
}

const TRACE_OPTIONS: OptionNames<TraceRecorderOptions> = { maxEvents: true };
const DEFAULT_MAX_EVENTS = 1_000_000;

/**
 * What one task did while recorded, in milliseconds of its loop's clock (on a
 * virtual loop a step takes no time: busy time is 0, and the waits are virtual).
 */
export interface TaskStats {
  /** The task's name when it was first seen. */
  name: string;
  /** Steps run. */
  steps: number;
  /** Time spent running steps. */
  busyMs: number;
  /** The longest step. */
  longestStepMs: number;
  /** Time spent waiting on a future (a lock, a queue, a sleep, another task). */
  waitingMs: number;
  /** Time spent ready but not running: queued behind other work (the scheduling delay). */
  readyMs: number;
}

/** Records loop events for a trace; stop it (or `using` it) to detach. */
export interface TraceRecorder extends Disposable {
  /** The trace so far. */
  toChromeTrace(): ChromeTrace;
  /** Per-task statistics so far, in the order the tasks were first seen. */
  taskStats(): TaskStats[];
  /**
   * Stops recording; the trace so far stays available, with each slice still
   * open ended now. A recorder of one loop stops by itself when that loop is
   * closed.
   */
  stop(): void;
  /** True once recording stopped at maxEvents. */
  readonly truncated: boolean;
}

/** What the recorder keeps for one loop. */
interface LoopTrack {
  /** The loop, whose clock times its tasks' phases. */
  loop: BaseEventLoop;
  pid: number;
  /** The last timestamp given out, in nanoseconds: later events get later ones. */
  lastNs: number;
  liveTasks: number;
  /** The name of the callback slice open on the loop's track, while a timer or callback runs. */
  callback: string | null;
}

/** What the recorder keeps for one task. */
interface TaskTrack {
  tid: number;
  loop: LoopTrack;
  /** What the task waits on, from its suspension until its step ends (the span opens then). */
  waitingFor: string | null;
  /** The name of the open "waiting for" span, if one is open. */
  waiting: string | null;
  /** Flows to finish at the task's next step. */
  flowsIn: { id: number; name: string }[];
  stats: TaskStats;
  /** What the task is doing for the statistics ("unknown": made before recording began), and since when. */
  phase: "ready" | "running" | "waiting" | "done" | "unknown";
  since: number;
}

/**
 * Starts recording `loop`'s events (every loop's, without an argument) for a
 * Chrome/Perfetto trace. On a VirtualEventLoop the trace is the same, byte
 * for byte, every time the program runs: timestamps are the virtual clock's,
 * and events at the same moment are a nanosecond apart in the order they happened.
 * A loop that is closed already is refused: it would record nothing.
 *
 * @example
 * ```ts
 * import { createTask, sleep, VirtualEventLoop } from "asynkit";
 * import { traceRecorder } from "asynkit/trace";
 * const loop = new VirtualEventLoop();
 * const rec = traceRecorder(loop);
 * loop.runSync(function* () {
 *   const child = createTask(sleep(10), { name: "child" });
 *   yield* child;
 * }());
 * rec.stop();
 * const json = JSON.stringify(rec.toChromeTrace()); // save it, open it in ui.perfetto.dev
 * console.log(json.includes('"name":"waiting for Task \\"child\\""')); // true
 * ```
 */
export function traceRecorder(
  loop?: BaseEventLoop | null,
  options?: TraceRecorderOptions,
): TraceRecorder {
  if (loop !== undefined && loop !== null && !isEventLoop(loop)) {
    throw notALoop("traceRecorder()", "loop", loop);
  }
  if (loop?.isClosed()) {
    // A closed loop runs nothing more: its recorder would stay empty, and say nothing.
    throw new Error(
      "traceRecorder(): the loop is closed and runs nothing more: attach the recorder before its run, or to the loop that runs next.",
    );
  }
  checkOptions("traceRecorder()", options, "{ maxEvents: 100_000 }", TRACE_OPTIONS);
  const maxEvents = options?.maxEvents ?? DEFAULT_MAX_EVENTS;
  if (
    typeof maxEvents !== "number" ||
    !(maxEvents >= 1) ||
    (maxEvents !== Number.POSITIVE_INFINITY && !Number.isInteger(maxEvents))
  ) {
    throw (typeof maxEvents === "number" ? argRangeError : argTypeError)(
      "traceRecorder()",
      "options.maxEvents",
      maxEvents,
      "a whole number of events, at least 1",
      "pass the most events to keep, or Infinity for no limit",
    );
  }
  return new Recorder(loop ?? null, maxEvents);
}

class Recorder implements TraceRecorder {
  private readonly events: TraceEvent[] = [];
  private readonly metadata: TraceEvent[] = [];
  private readonly loops = new Map<BaseEventLoop, LoopTrack>();
  /**
   * Each task's track, held weakly: a recorder left on must not keep every
   * task it saw alive, with its result (the tracks keep what the trace needs).
   */
  private readonly tasks = new WeakMap<Task, TaskTrack>();
  /** The tracks in the order their tasks were first seen. */
  private readonly tracks: TaskTrack[] = [];
  private nextTid = 1;
  private nextFlow = 1;
  private unlisten: (() => void) | null;

  truncated = false;
  /** The slices begun and not yet ended, by thread ("pid:tid"), innermost last. */
  private readonly openSlices = new Map<string, TraceEvent[]>();

  constructor(
    private readonly only: BaseEventLoop | null,
    private readonly maxEvents: number,
  ) {
    this.unlisten = listen((name, message) => this.hear(name, message));
  }

  taskStats(): TaskStats[] {
    return this.tracks.map((track) => {
      const stats = { ...track.stats };
      // The phase a task is in counts up to now, while recording (up to the stop after it).
      if (this.unlisten !== null)
        countPhase(stats, track.phase, track.loop.loop.time() - track.since);
      return stats;
    });
  }

  toChromeTrace(): ChromeTrace {
    const trace: ChromeTrace = {
      traceEvents: [...this.metadata, ...this.events],
      displayTimeUnit: "ms",
    };
    if (this.truncated) {
      trace.otherData = {
        truncated: `recording stopped at ${this.maxEvents} events (traceRecorder()'s maxEvents)`,
      };
    }
    return trace;
  }

  stop(): void {
    const unlisten = this.unlisten;
    if (unlisten === null) return;
    this.unlisten = null;
    unlisten();
    for (const track of this.tracks) {
      const time = track.loop.loop.time();
      countPhase(track.stats, track.phase, time - track.since);
      track.phase = "unknown";
      track.since = time;
    }
    this.endOpenSlices();
    this.dropUnfinishedFlows();
  }

  [Symbol.dispose](): void {
    this.stop();
  }

  private hear(name: ChannelName, message: unknown): void {
    switch (name) {
      case "loop.closed":
        // Its loop runs nothing more: a recorder left running would hear every later loop.
        if ((message as ChannelMessages["loop.closed"]).loop === this.only) this.stop();
        break;
      case "task.created":
        this.created(message as ChannelMessages["task.created"]);
        break;
      case "task.step.start":
        this.stepStart((message as ChannelMessages["task.step.start"]).task);
        break;
      case "task.step.end":
        this.stepEnd((message as ChannelMessages["task.step.end"]).task);
        break;
      case "task.suspended": {
        const { task, future, what } = message as ChannelMessages["task.suspended"];
        const track = this.track(task);
        if (track === null) break;
        if (future !== null) track.waitingFor = what;
        else this.blockedOnHost(task, track, what);
        break;
      }
      case "task.woken":
        this.woken(message as ChannelMessages["task.woken"]);
        break;
      case "task.cancelled": {
        const { task, message: why } = message as ChannelMessages["task.cancelled"];
        this.instant(task, "cancel()", why === undefined ? undefined : { message: why });
        break;
      }
      case "task.interrupted": {
        const { task, error } = message as ChannelMessages["task.interrupted"];
        this.instant(task, "interrupted", { error: String(error) });
        break;
      }
      case "task.done": {
        const { task, state } = message as ChannelMessages["task.done"];
        const track = this.track(task);
        if (track === null) break;
        this.instant(task, state);
        track.loop.liveTasks--;
        this.count(task._loop, track.loop, "live tasks", { tasks: track.loop.liveTasks });
        break;
      }
      case "callback.start": {
        const { loop, name, when } = message as ChannelMessages["callback.start"];
        const track = this.loopTrack(loop);
        if (track === null) break;
        track.callback = when === null ? `callback ${name}` : `timer ${name}`;
        const args = when === null ? undefined : { when };
        this.push(loop, track, { name: track.callback, ph: "B", tid: 0, ...(args && { args }) });
        break;
      }
      case "callback.end": {
        const { loop } = message as ChannelMessages["callback.end"];
        const track = this.loopTrack(loop);
        if (track?.callback == null) break;
        this.push(loop, track, { name: track.callback, ph: "E", tid: 0 });
        track.callback = null;
        break;
      }
      case "ready.move": {
        const { loop, op, task, position } = message as ChannelMessages["ready.move"];
        if (task !== null) this.instant(task, op, { position });
        else this.loopInstant(loop, op, { position });
        break;
      }
      default: {
        const { loop, when } = message as ChannelMessages["timer.fired"];
        this.loopInstant(loop, name === "timer.fired" ? "timer fired" : "timer scheduled", {
          when,
        });
      }
    }
  }

  /** The loop's track, made on its first event; null for a loop not recorded. */
  private loopTrack(loop: BaseEventLoop): LoopTrack | null {
    if (this.only !== null && loop !== this.only) return null;
    let track = this.loops.get(loop);
    if (track === undefined) {
      track = {
        loop,
        pid: this.loops.size + 1,
        lastNs: -1,
        liveTasks: loop._liveTasks().length,
        callback: null,
      };
      this.loops.set(loop, track);
      this.meta(track.pid, 0, "process_name", `${classNameOf(loop)} ${track.pid}`);
      this.meta(track.pid, 0, "thread_name", "loop (timers, callbacks)");
    }
    return track;
  }

  /** The task's track, made on its first event (a task made before recording began too). */
  private track(task: Task): TaskTrack | null {
    let track = this.tasks.get(task);
    if (track !== undefined) return track;
    const loop = this.loopTrack(task._loop);
    if (loop === null) return null;
    const stats = {
      name: task.getName(),
      steps: 0,
      busyMs: 0,
      longestStepMs: 0,
      waitingMs: 0,
      readyMs: 0,
    };
    track = {
      tid: this.nextTid++,
      loop,
      waitingFor: null,
      waiting: null,
      flowsIn: [],
      stats,
      phase: "unknown",
      since: 0,
    };
    this.tasks.set(task, track);
    this.tracks.push(track);
    this.meta(loop.pid, track.tid, "thread_name", taskLabel(task));
    this.meta(loop.pid, track.tid, "thread_sort_index", track.tid);
    return track;
  }

  private created({ task, parent, priority }: ChannelMessages["task.created"]): void {
    // A loop's track, made now, counts the new task already.
    const counted = !this.loops.has(task._loop);
    const track = this.track(task);
    if (track === null) return;
    const args: Record<string, unknown> = {};
    if (parent !== null) args.parent = taskLabel(parent);
    if (priority !== 0) args.priority = priority;
    this.instant(task, "created", args);
    if (parent !== null) this.flow(parent, track, "spawn");
    this.enter(task, track, "ready");
    if (!counted) track.loop.liveTasks++;
    this.count(task._loop, track.loop, "live tasks", { tasks: track.loop.liveTasks });
  }

  private stepStart(task: Task): void {
    const track = this.track(task);
    if (track === null) return;
    const loop = track.loop;
    this.endWait(task, track); // woken by what the channels do not show (a throw-in)
    this.enter(task, track, "running");
    this.count(task._loop, loop, "ready queue", { entries: task._loop._ready.length });
    this.push(task._loop, loop, { name: "step", ph: "B", tid: track.tid });
    for (const { id, name } of track.flowsIn) {
      this.push(task._loop, loop, { name, ph: "f", tid: track.tid, id, cat: "flow", bp: "e" });
    }
    track.flowsIn.length = 0;
  }

  private stepEnd(task: Task): void {
    const track = this.track(task);
    if (track === null) return;
    this.push(task._loop, track.loop, { name: "step", ph: "E", tid: track.tid });
    const waits = task._futWaiter !== null;
    this.enter(task, track, task.done() ? "done" : waits ? "waiting" : "ready");
    const what = track.waitingFor;
    if (what !== null && waits) {
      track.waiting = `waiting for ${what}`;
      this.push(task._loop, track.loop, { name: track.waiting, ph: "B", tid: track.tid });
    }
    track.waitingFor = null;
  }

  /** A native task's step ended some time ago, and the loop found it blocked on the host: it waits from now. */
  private blockedOnHost(task: Task, track: TaskTrack, what: string): void {
    this.enter(task, track, "waiting");
    track.waiting = `waiting for ${what}`;
    this.push(task._loop, track.loop, { name: track.waiting, ph: "B", tid: track.tid });
  }

  private woken({ task, by }: ChannelMessages["task.woken"]): void {
    const track = this.track(task);
    if (track === null) return;
    this.endWait(task, track);
    if (track.phase === "waiting") this.enter(task, track, "ready");
    if (by !== null) this.flow(by, track, "wakeup");
    else this.flowFromLoop(task._loop, track);
  }

  /** The task goes into `phase` now: the time since its last change counts for the one it leaves. */
  private enter(task: Task, track: TaskTrack, phase: TaskTrack["phase"]): void {
    const time = task._loop.time();
    countPhase(track.stats, track.phase, time - track.since);
    track.phase = phase;
    track.since = time;
  }

  private endWait(task: Task, track: TaskTrack): void {
    const name = track.waiting;
    if (name === null) return;
    track.waiting = null;
    this.push(task._loop, track.loop, { name, ph: "E", tid: track.tid });
  }

  /** A flow arrow from `from`'s running step to `to`'s next step. */
  private flow(from: Task, to: TaskTrack, name: string): void {
    const source = this.track(from);
    if (source === null) return;
    const id = this.nextFlow++;
    // Listed as coming into `to` first: if the start's push fills the recording, stop() drops it.
    to.flowsIn.push({ id, name });
    this.push(from._loop, source.loop, { name, ph: "s", tid: source.tid, id, cat: "flow" });
  }

  /**
   * A wakeup arrow from the loop's track: from the timer or callback running
   * now, else from a moment's slice of its own: "outside the loop" for host
   * code that completed the future between the loop's runs, "callback" for an
   * entry of a loop that does not publish its callbacks (explore()'s).
   */
  private flowFromLoop(loop: BaseEventLoop, to: TaskTrack): void {
    const track = to.loop;
    const id = this.nextFlow++;
    const own = track.callback === null;
    const slice = track.callback ?? (peekRunningLoop() === loop ? "callback" : "outside the loop");
    to.flowsIn.push({ id, name: "wakeup" }); // first, as in flow()
    if (own) this.push(loop, track, { name: slice, ph: "B", tid: 0 });
    this.push(loop, track, { name: "wakeup", ph: "s", tid: 0, id, cat: "flow" });
    if (own) this.push(loop, track, { name: slice, ph: "E", tid: 0 });
  }

  private instant(task: Task, name: string, args?: Record<string, unknown>): void {
    const track = this.track(task);
    if (track === null) return;
    const event: Omit<TraceEvent, "ts" | "pid"> = { name, ph: "i", tid: track.tid, s: "t" };
    if (args !== undefined && Object.keys(args).length > 0) event.args = args;
    this.push(task._loop, track.loop, event);
  }

  private loopInstant(loop: BaseEventLoop, name: string, args: Record<string, unknown>): void {
    const track = this.loopTrack(loop);
    if (track !== null) this.push(loop, track, { name, ph: "i", tid: 0, s: "t", args });
  }

  private count(loop: BaseEventLoop, track: LoopTrack, name: string, args: Record<string, number>) {
    this.push(loop, track, { name, ph: "C", tid: 0, args });
  }

  private meta(pid: number, tid: number, name: string, value: string | number): void {
    const args = name === "thread_sort_index" ? { sort_index: value } : { name: value };
    if (this.full()) return;
    this.metadata.push({ name, ph: "M", ts: 0, pid, tid, args });
  }

  private push(loop: BaseEventLoop, track: LoopTrack, event: Omit<TraceEvent, "ts" | "pid">): void {
    if (this.full()) return;
    const { name, ph, ...rest } = event;
    const recorded: TraceEvent = { name, ph, ts: nextTs(loop, track), pid: track.pid, ...rest };
    this.events.push(recorded);
    if (ph === "B" || ph === "E") this.noteSlice(recorded);
  }

  /** Keeps the slices begun and not yet ended, per thread, for a recording cut short. */
  private noteSlice(event: TraceEvent): void {
    const thread = `${event.pid}:${event.tid}`;
    const open = this.openSlices.get(thread);
    if (event.ph === "E") open?.pop();
    else if (open === undefined) this.openSlices.set(thread, [event]);
    else open.push(event);
  }

  /**
   * True once maxEvents are kept: recording stops there, so that it never
   * outgrows memory (see stop()).
   */
  private full(): boolean {
    // Stopping drops the starts of unfinished flows: the count falls, but the recording is over.
    if (this.truncated) return true;
    if (this.events.length + this.metadata.length < this.maxEvents) return false;
    this.truncated = true;
    this.stop();
    return true;
  }

  /**
   * As the recording stops, the slices still open (a step under way, a task
   * still waiting, a callback) end at that moment, innermost first, so that
   * every begin has its end.
   */
  private endOpenSlices(): void {
    const byPid = new Map([...this.loops].map(([loop, track]) => [track.pid, { loop, track }]));
    for (const open of this.openSlices.values()) {
      for (let i = open.length - 1; i >= 0; i--) {
        const { name, pid, tid } = open[i] as TraceEvent;
        const { loop, track } = byPid.get(pid) as { loop: BaseEventLoop; track: LoopTrack };
        this.events.push({ name, ph: "E", ts: nextTs(loop, track), pid, tid });
      }
    }
    this.openSlices.clear();
  }

  /** A flow whose task never stepped again while recorded has no finish: its start goes too. */
  private dropUnfinishedFlows(): void {
    const unfinished = new Set<number>();
    for (const track of this.tracks) for (const { id } of track.flowsIn) unfinished.add(id);
    if (unfinished.size === 0) return;
    const events = this.events;
    let kept = 0;
    for (const event of events) {
      if (event.ph !== "s" || !unfinished.has(event.id as number)) events[kept++] = event;
    }
    events.length = kept;
  }
}

/**
 * The timestamp of `loop`'s next event, in microseconds: its clock, to the
 * nanosecond, each event after the last, so that ties on a virtual clock keep
 * their order.
 */
function nextTs(loop: BaseEventLoop, track: LoopTrack): number {
  let ns = Math.round(loop.time() * 1e6);
  if (ns <= track.lastNs) ns = track.lastNs + 1;
  track.lastNs = ns;
  return ns / 1000;
}

/** `spent` ms in `phase` count for that phase's statistic. */
function countPhase(stats: TaskStats, phase: TaskTrack["phase"], spent: number): void {
  if (phase === "ready") stats.readyMs += spent;
  else if (phase === "waiting") stats.waitingMs += spent;
  else if (phase === "running") {
    stats.steps++;
    stats.busyMs += spent;
    if (spent > stats.longestStepMs) stats.longestStepMs = spent;
  }
}
