/**
 * The documentation cannot drift from the code: every ```ts block in README.md
 * and docs/*.md is type-checked against the package and, unless it says
 * `// not run: <reason>`, run. A ```text block right after a ts block is that
 * block's expected console output. Every exported function and class carries
 * an @example for the API reference.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { format } from "node:util";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const blockDir = join(root, "test", ".doc-blocks");
const NOT_RUN = /\/\/ not run: \S/;

interface Block {
  /** Where the block starts, as "file:line" (the line of its first code line). */
  where: string;
  file: string;
  line: number;
  code: string;
  /** The console output the following ```text block promises, if any. */
  output: string | null;
  path: string;
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
        path: join(blockDir, `${slug}_${fence.line}.ts`),
      });
    });
  }
  return blocks;
}

/** The block as a module of this project: "asynkit" is the source tree. */
function moduleText(block: Block): string {
  const source = relative(blockDir, join(root, "src", "index.js")).replaceAll("\\", "/");
  return `${block.code.replace(/from "asynkit"/g, `from "${source}"`)}\nexport {};\n`;
}

const blocks = collectBlocks();

function compilerOptions(): ts.CompilerOptions {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, "tsconfig.json"),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
  );
  if (config === undefined) throw new Error("cannot read tsconfig.json");
  return { ...config.options, noEmit: true };
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

beforeAll(() => {
  rmSync(blockDir, { recursive: true, force: true });
  mkdirSync(blockDir, { recursive: true });
  for (const block of blocks) writeFileSync(block.path, moduleText(block));
});

afterAll(() => {
  rmSync(blockDir, { recursive: true, force: true });
});

describe("documentation code blocks", () => {
  it("README.md and the guides have code to check", () => {
    expect(blocks.length).toBeGreaterThan(10);
    const files = new Set(blocks.map((b) => b.file));
    for (const guide of ["README.md", "docs/getting-started.md", "docs/testing.md"]) {
      expect(files, `${guide} has no ts code block`).toContain(guide);
    }
  });

  it("every block type-checks against the package", () => {
    const program = ts.createProgram(
      blocks.map((b) => b.path),
      compilerOptions(),
    );
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file === undefined || resolve(d.file.fileName).startsWith(blockDir))
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
      const printed: string[] = [];
      const errors: string[] = [];
      const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
        printed.push(format(...args));
      });
      const error = vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
        errors.push(format(...args));
      });
      try {
        await import(pathToFileURL(block.path).href);
      } finally {
        log.mockRestore();
        error.mockRestore();
      }
      expect(errors, "the block reported errors on console.error").toEqual([]);
      if (block.output !== null) expect(printed.join("\n")).toBe(block.output.trimEnd());
    }, 20_000);
  }
});

describe("API reference", () => {
  it("every exported function and class has a TSDoc @example", () => {
    const program = ts.createProgram([join(root, "src", "index.ts")], compilerOptions());
    const checker = program.getTypeChecker();
    const index = program.getSourceFile(join(root, "src", "index.ts"));
    if (index === undefined) throw new Error("src/index.ts not found");
    const moduleSymbol = checker.getSymbolAtLocation(index);
    if (moduleSymbol === undefined) throw new Error("src/index.ts is not a module");
    const missing: string[] = [];
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol =
        exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const declarations = symbol.declarations ?? [];
      const documented = declarations.filter(
        (d) => ts.isFunctionDeclaration(d) || ts.isClassDeclaration(d) || isCallableConst(d),
      );
      if (documented.length === 0) continue;
      const hasExample = documented.some((d) =>
        ts.getJSDocTags(d).some((tag) => tag.tagName.text === "example"),
      );
      if (!hasExample) {
        const file = relative(root, documented[0]?.getSourceFile().fileName ?? "");
        missing.push(`${exported.name} (${file})`);
      }
    }
    expect(missing, "exports without an @example in their TSDoc").toEqual([]);

    function isCallableConst(declaration: ts.Declaration): boolean {
      if (!ts.isVariableDeclaration(declaration)) return false;
      const type = checker.getTypeAtLocation(declaration);
      return type.getCallSignatures().length > 0 || type.getConstructSignatures().length > 0;
    }
  }, 60_000);
});
