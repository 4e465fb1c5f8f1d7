/**
 * asynkit/trace: what the loop did, as a trace that ui.perfetto.dev and
 * chrome://tracing open (see docs/observability.md). Kept out of the main
 * entry point: a program that does not import it pays nothing for it.
 *
 * @module asynkit/trace
 */
export {
  type ChromeTrace,
  type TaskStats,
  type TraceEvent,
  type TraceRecorder,
  type TraceRecorderOptions,
  traceRecorder,
} from "./recorder.js";
