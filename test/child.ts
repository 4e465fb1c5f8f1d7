/** Runs small programs in node processes of their own, as users run them, with "asynkit" meaning src/. */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

let scripts: string | null = null;

/** Runs `body` as an ES module of its own (through tsx) in a new node process. */
export function runScript(name: string, body: string): Promise<Exit> {
  scripts ??= mkdtempSync(join(tmpdir(), "asynkit-child-"));
  const file = join(scripts, `${name}.mts`);
  const index = pathToFileURL(join(root, "src", "index.ts")).href;
  writeFileSync(file, body.replaceAll('from "asynkit"', `from ${JSON.stringify(index)}`));
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["--import", "tsx", file],
      { cwd: root, timeout: 20_000, env: { ...process.env, NODE_OPTIONS: "", FORCE_COLOR: "0" } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** Removes the scripts written so far (call from afterAll). */
export function removeScripts(): void {
  if (scripts !== null) rmSync(scripts, { recursive: true, force: true });
  scripts = null;
}
