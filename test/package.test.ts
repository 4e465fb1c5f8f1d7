/**
 * The package as bundlers and older TypeScript setups read it: the modules
 * that must run when loaded, and the types of each subpath.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  sideEffects: string[];
  exports: Record<string, string | { types: string; default: string }>;
  typesVersions?: Record<string, Record<string, string[]>>;
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/**
 * Top-level calls that only mark or define something of the module itself:
 * dropped with the module, harmlessly, when nothing imports from it.
 */
const OWN_MARKS = new Set([
  "thenable",
  "waitSteps",
  "inspectAsString",
  "inspectAs",
  "Object.defineProperty",
  "whenSuspensionsNoted", // sleep.ts: debug mode's version of its own YieldOnce.next
]);

/**
 * The modules whose top level calls anything else: a hook installed in
 * another module, a default policy provided, a global filled in, library
 * code run. A bundler that drops such a module because nothing imports from
 * it must not drop what it does.
 */
function modulesThatRegister(): string[] {
  const found: string[] = [];
  for (const file of sources(join(root, "src"))) {
    const text = readFileSync(file, "utf8");
    const calls = [...text.matchAll(/^([A-Za-z_$][\w$.]*)\(/gm)].filter(
      ([, callee]) => !OWN_MARKS.has(callee as string),
    );
    if (calls.length > 0) {
      found.push(`./dist/${relative(join(root, "src"), file).replace(/\.ts$/, ".js")}`);
    }
  }
  return found.sort();
}

describe("package.json", () => {
  it("lists as side effects every module that registers something when it loads, and the entry points", () => {
    // rollup and webpack reach a module only through a side-effectful one, or one whose
    // bindings are used: policy.js, of whose exports a program may use none, hangs off
    // the entry point.
    const entries = Object.values(pkg.exports).flatMap((target) =>
      typeof target === "string" ? [] : [target.default],
    );
    expect([...modulesThatRegister(), ...entries].sort()).toEqual([...pkg.sideEffects].sort());
  });

  it("maps each subpath's types for TypeScript setups that do not read exports (node10)", () => {
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (subpath === "." || typeof target === "string") continue;
      const types = pkg.typesVersions?.["*"]?.[subpath.slice(2)];
      expect(types, subpath).toEqual([target.types]);
    }
  });
});
