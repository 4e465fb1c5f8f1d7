import { defineConfig } from "vitest/config";

/** Timing tests: they run alone, after the others, so no other test file competes for the CPU. */
const TIMING_TESTS = ["test/host-fairness.test.ts"];

export default defineConfig({
  test: {
    reporters: ["default", ["json", { outputFile: ".vitest/results.json" }]],
    coverage: {
      provider: "v8",
      include: ["src/**/*.ts"],
      reporter: ["text-summary"],
      thresholds: { lines: 95 },
    },
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["test/**/*.test.ts"], exclude: TIMING_TESTS },
      },
      {
        extends: true,
        test: {
          name: "timing",
          include: TIMING_TESTS,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
