// Prints vitest's totals as one plain line, "tests: N passed, N failed", for tools that read it.
import { readFileSync } from "node:fs";

const results = JSON.parse(
  readFileSync(new URL("../.vitest/results.json", import.meta.url), "utf8"),
);
const skipped = results.numPendingTests + results.numTodoTests;
console.log(
  `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ""}`,
);
