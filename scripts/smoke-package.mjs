// Imports the built package by its name, from a folder outside the project, through
// package.json "exports": what a user gets after `npm install asynkit`.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dir = mkdtempSync(join(tmpdir(), "asynkit-smoke-"));
try {
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(root, join(dir, "node_modules", "asynkit"), "dir");
  writeFileSync(
    join(dir, "main.mjs"),
    `import { run, sleep, createTask, VirtualEventLoop } from "asynkit";
const log = [];
function* child() { log.push("child"); yield* sleep(5); return 2; }
const value = await run(function* () { const t = createTask(child()); log.push("main"); return (yield* t) * 21; });
const virtual = new VirtualEventLoop().runSync(sleep(60000, "virtual"));
console.log(JSON.stringify({ value, log, virtual }));
`,
  );
  // The published declarations must stand on their own: type-check a consumer against them.
  writeFileSync(
    join(dir, "consumer.ts"),
    `import { run, createTask, sleep, type Coro, type Task } from "asynkit";
function* child(): Coro<number> { yield* sleep(1); return 1; }
export const result: Promise<number> = run(function* () { const t: Task<number> = createTask(child()); return yield* t; });
`,
  );
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: "NodeNext",
        moduleResolution: "NodeNext",
        target: "ES2022",
        lib: ["ES2023", "ESNext.Disposable", "DOM"],
        types: [],
        skipLibCheck: false,
        noEmit: true,
      },
      files: ["consumer.ts"],
    }),
  );
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", dir], {
    stdio: "inherit",
  });
  const out = execFileSync(process.execPath, ["main.mjs"], { cwd: dir, encoding: "utf8" }).trim();
  const expected = JSON.stringify({ value: 42, log: ["main", "child"], virtual: "virtual" });
  if (out !== expected) throw new Error(`package smoke test: expected ${expected}, got ${out}`);
  console.log("package smoke test: asynkit imports and type-checks by name from another folder");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
