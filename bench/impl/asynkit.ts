/**
 * asynkit in the harness: the built package in dist/ (see ../dist.ts); the
 * source only lends its types.
 */
import { loadAsynkit } from "../dist.js";
import { asynkitWorkloads } from "./asynkit-workloads.js";

export default asynkitWorkloads(await loadAsynkit());
