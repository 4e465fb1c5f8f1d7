/**
 * asynkit/testing: find concurrency bugs by running a test under many
 * schedules, and replay any failure exactly. Kept out of the main entry
 * point: a program that does not import it pays nothing for it.
 *
 * @module asynkit/testing
 */
export { choose } from "./choose.js";
export {
  ExploreError,
  type ExploreOptions,
  type ExploreReport,
  type ExploreRules,
  explore,
  type ReplayOptions,
  replay,
} from "./explore.js";
export { type FailureKind, HostWaitError, type Program } from "./run.js";
