/**
 * The documentation cannot drift from the code: every ```ts block in README.md
 * and docs/*.md is type-checked against the package and, unless it says
 * `// not run: <reason>`, run as a program of its own. A ```text block right
 * after a ts block is that block's expected output.
 *
 * Blocks are type-checked as they are written (with "asynkit" meaning
 * src/index.ts), then compiled with the TypeScript compiler, together with
 * src/, and each is run in a fresh `node` process.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** This run's own folder: several runs at once in one working tree must not share one. */
const blockDir = join(root, "test", ".doc-blocks", `${process.pid}-${Date.now().toString(36)}`);
/** The blocks as written, for the type-checker. */
const checkDir = join(blockDir, "check");
/** The blocks and src/ compiled to JavaScript, for node. */
const runDir = join(blockDir, "run");
const NOT_RUN = /\/\/ not run: \S/;

interface Block {
  /** Where the block starts, as "file:line" (the line of its first code line). */
  where: string;
  file: string;
  line: number;
  code: string;
  /** The console output the following ```text block promises, if any. */
  output: string | null;
  /** The block as a TypeScript module of this project. */
  path: string;
  /** The block compiled, next to a compiled src/. */
  runPath: string;
}

function docFiles(): string[] {
  const docs = readdirSync(join(root, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => join("docs", name));
  return ["README.md", ...docs];
}

/** The fenced blocks of a markdown file, with the language and first code line of each. */
function fences(text: string): { lang: string; line: number; body: string }[] {
  const lines = text.split("\n");
  const found: { lang: string; line: number; body: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i] as string);
    if (open === null) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end] as string)) end++;
    if (end === lines.length) throw new Error(`unclosed code fence at line ${i + 1}`);
    found.push({ lang: open[1] ?? "", line: start + 1, body: lines.slice(start, end).join("\n") });
    i = end;
  }
  return found;
}

function collectBlocks(): Block[] {
  const blocks: Block[] = [];
  for (const file of docFiles()) {
    const all = fences(readFileSync(join(root, file), "utf8"));
    all.forEach((fence, index) => {
      if (fence.lang !== "ts" && fence.lang !== "typescript") return;
      const next = all[index + 1];
      const slug = file.replace(/[^A-Za-z0-9]+/g, "_");
      blocks.push({
        where: `${file}:${fence.line}`,
        file,
        line: fence.line,
        code: fence.body,
        output: next !== undefined && next.lang === "text" ? next.body : null,
        path: join(checkDir, `${slug}_${fence.line}.ts`),
        runPath: join(runDir, `${slug}_${fence.line}.js`),
      });
    });
  }
  return blocks;
}

/** The block as a module whose "asynkit" is `index` (a relative path), and "asynkit/testing" and "asynkit/trace" the entries beside it. */
function moduleText(block: Block, index: string): string {
  const testing = index.replace(/index\.js$/, "testing/index.js");
  const trace = index.replace(/index\.js$/, "trace/index.js");
  const code = block.code
    .replace(/from "asynkit\/testing"/g, `from "${testing}"`)
    .replace(/from "asynkit\/trace"/g, `from "${trace}"`)
    .replace(/from "asynkit"/g, `from "${index}"`);
  return `${code}\nexport {};\n`;
}

const blocks = collectBlocks();

let parsedOptions: ts.CompilerOptions | undefined;

function compilerOptions(): ts.CompilerOptions {
  if (parsedOptions !== undefined) return parsedOptions;
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, "tsconfig.json"),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
  );
  if (config === undefined) throw new Error("cannot read tsconfig.json");
  parsedOptions = { ...config.options, noEmit: true };
  return parsedOptions;
}

function diagnosticText(diagnostic: ts.Diagnostic): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
  const file = diagnostic.file;
  if (file === undefined || diagnostic.start === undefined) return message;
  const { line } = file.getLineAndCharacterOfPosition(diagnostic.start);
  const block = blocks.find((b) => resolve(b.path) === resolve(file.fileName));
  const where = block ? `${block.file}:${block.line + line}` : `${file.fileName}:${line + 1}`;
  return `${where}: ${message}`;
}

let checked: ts.Program | undefined;

/** All the blocks in one program: type-checked together, each a module of its own. */
function program(): ts.Program {
  checked ??= ts.createProgram(
    blocks.map((b) => b.path),
    compilerOptions(),
  );
  return checked;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Every runnable block's run, started at once, a few processes at a time. */
const runs = new Map<string, Promise<Run>>();

/** TypeScript to JavaScript, file by file, as `tsc` would emit it for Node 20. */
function compile(source: string, fileName: string): string {
  return ts.transpileModule(source, {
    fileName,
    compilerOptions: {
      ...compilerOptions(),
      noEmit: false,
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      sourceMap: false,
      declaration: false,
    },
  }).outputText;
}

function compileSources(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const path = join(from, entry.name);
    if (entry.isDirectory()) compileSources(path, join(to, entry.name));
    else if (entry.name.endsWith(".ts")) {
      writeFileSync(
        join(to, entry.name.replace(/\.ts$/, ".js")),
        compile(readFileSync(path, "utf8"), path),
      );
    }
  }
}

beforeAll(() => {
  mkdirSync(checkDir, { recursive: true });
  compileSources(join(root, "src"), join(runDir, "src"));
  const checkIndex = relative(checkDir, join(root, "src", "index.js")).replaceAll("\\", "/");
  for (const block of blocks) {
    writeFileSync(block.path, moduleText(block, checkIndex));
    writeFileSync(block.runPath, compile(moduleText(block, "./src/index.js"), block.path));
  }
  let slots = Math.max(2, availableParallelism());
  const waiting: (() => void)[] = [];
  const slot = (): Promise<void> =>
    slots > 0 ? Promise.resolve(void slots--) : new Promise((go) => waiting.push(go));
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else slots++;
  };
  for (const block of blocks) {
    if (NOT_RUN.test(block.code)) continue;
    runs.set(
      block.path,
      slot().then(() => runBlock(block.runPath).finally(release)),
    );
  }
});

afterAll(() => {
  rmSync(blockDir, { recursive: true, force: true });
});

describe("documentation code blocks", () => {
  it("README.md and the guides have code to check", () => {
    expect(blocks.length).toBeGreaterThan(10);
    const files = new Set(blocks.map((b) => b.file));
    for (const guide of [
      "README.md",
      "docs/getting-started.md",
      "docs/eager.md",
      "docs/scheduling.md",
      "docs/testing.md",
      "docs/from-asyncio.md",
      "docs/servers.md",
    ]) {
      expect(files, `${guide} has no ts code block`).toContain(guide);
    }
  });

  it("every block type-checks against the package", () => {
    const problems = ts
      .getPreEmitDiagnostics(program())
      .filter((d) => d.file === undefined || resolve(d.file.fileName).startsWith(checkDir))
      .map(diagnosticText);
    expect(problems).toEqual([]);
  }, 60_000);

  for (const block of blocks) {
    const title = `${block.where} runs${block.output !== null ? " and prints what the text below it says" : ""}`;
    if (NOT_RUN.test(block.code)) {
      it.skip(`${block.where} (marked "not run")`, () => {});
      continue;
    }
    it(title, async () => {
      const { code, stdout, stderr } = await (runs.get(block.path) as Promise<Run>);
      expect(stderr, "the block wrote to stderr").toBe("");
      expect(code, "the block's exit code").toBe(0);
      if (block.output !== null) expect(stdout.trimEnd()).toBe(block.output.trimEnd());
    }, 30_000);
  }
});

/** Runs a compiled block in a process of its own. */
function runBlock(path: string): Promise<Run> {
  return new Promise((resolveRun) => {
    execFile(
      process.execPath,
      [path],
      { cwd: root, timeout: 25_000, env: { ...process.env, NODE_OPTIONS: "", FORCE_COLOR: "0" } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolveRun({ code, stdout, stderr });
      },
    );
  });
}
