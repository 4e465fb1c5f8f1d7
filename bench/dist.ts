/**
 * The bench measures the built package (dist/, made by `npm run build`), the
 * code users run, not the source through tsx's transform: tsx compiles each
 * .ts file with esbuild's `keepNames`, which adds an `__name()` property
 * definition to every function and class (see README.md, "Why dist/").
 *
 * The harness's own .ts files still run through tsx; asynkit is loaded from
 * dist/ by URL at run time and typed by its source, so type-checking the bench
 * does not need a build.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type * as Asynkit from "../src/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const distDir = join(root, "dist");
const srcDir = join(root, "src");

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(ext))
    .map((f) => join(dir, f));
}

/** Exits with a message when dist/ is missing or older than src/ (drivers call it first). */
export function assertBuilt(): void {
  const entry = join(distDir, "index.js");
  let built: number;
  try {
    built = statSync(entry).mtimeMs;
  } catch {
    console.error("error: dist/index.js not found: run `npm run build` (`npm run bench` does).");
    process.exit(2);
  }
  const stale = filesUnder(srcDir, ".ts").filter((f) => statSync(f).mtimeMs > built);
  if (stale.length > 0) {
    console.error(
      `error: dist/ is older than ${stale[0]}${stale.length > 1 ? ` and ${stale.length - 1} more` : ""}: ` +
        "run `npm run build` (`npm run bench` does).",
    );
    process.exit(2);
  }
}

/**
 * Checks that the code running for `asynkit` is the build's text as tsc wrote
 * it: the source text V8 holds for a few hot classes and functions must occur
 * in a .js file of `dir`, and must not carry tsx's `__name` wrappers. A copy of
 * a build with no package.json saying `"type": "module"` beside or above it
 * fails this: tsx then transforms its files, and spawn-join ran at 1.8x the
 * time of the same build in place.
 */
export function assertRunsBuild(asynkit: typeof Asynkit, dir: string = distDir): void {
  const distText = filesUnder(dir, ".js")
    .map((f) => readFileSync(f, "utf8"))
    .join("\n");
  const probes = {
    Task: asynkit.Task,
    Future: asynkit.Future,
    run: asynkit.run,
    sleep: asynkit.sleep,
  };
  for (const [name, fn] of Object.entries(probes)) {
    const text = Function.prototype.toString.call(fn);
    if (!distText.includes(text) || text.includes("__name(")) {
      throw new Error(
        `asynkit's ${name} is not ${dir}'s code as built: the bench must load the built package untransformed (a copy of a build needs a package.json with "type": "module" beside or above it)`,
      );
    }
  }
}

/** Loads the built package from dist/ and checks that it is what runs. */
export async function loadAsynkit(): Promise<typeof Asynkit> {
  const asynkit = (await import(
    new URL("../dist/index.js", import.meta.url).href
  )) as typeof Asynkit;
  assertRunsBuild(asynkit);
  return asynkit;
}
