/** Runs small programs as users run them: in node processes of their own ("asynkit" meaning src/), or bundled. */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

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

/**
 * `program`, an ES module that imports the package's source (`./src/…`, from
 * the project's root), bundled into one script, as a user's bundler would.
 */
export async function bundled(program: string, platform: "node" | "browser"): Promise<string> {
  const bundle = await build({
    stdin: { contents: program, resolveDir: root, loader: "js" },
    bundle: true,
    format: "iife",
    platform,
    write: false,
    logLevel: "silent",
  });
  return bundle.outputFiles[0]?.text as string;
}

/** Removes the scripts written so far (call from afterAll). */
export function removeScripts(): void {
  if (scripts !== null) rmSync(scripts, { recursive: true, force: true });
  scripts = null;
}
