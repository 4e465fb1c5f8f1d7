/**
 * Every exported function and class carries an @example in its TSDoc, so the
 * API reference shows how each one is used.
 */
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { expect, it } from "vitest";

const entries = ["../src/index.ts", "../src/testing/index.ts", "../src/trace/index.ts"].map(
  (path) => fileURLToPath(new URL(path, import.meta.url)),
);

function exportsWithoutExample(entry: string): string[] {
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  if (source === undefined) throw new Error(`${entry} not found`);
  const module = checker.getSymbolAtLocation(source);
  if (module === undefined) throw new Error(`${entry} has no exports`);
  const missing: string[] = [];
  for (const exported of checker.getExportsOfModule(module)) {
    const symbol =
      exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const isFunctionOrClass = symbol.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class);
    const isCallableConst =
      symbol.flags & ts.SymbolFlags.Variable &&
      symbol.valueDeclaration !== undefined &&
      checker.getTypeOfSymbolAtLocation(symbol, symbol.valueDeclaration).getCallSignatures()
        .length > 0;
    if (!isFunctionOrClass && !isCallableConst) continue;
    const hasExample = (symbol.declarations ?? []).some((declaration) =>
      ts.getJSDocTags(declaration).some((tag) => tag.tagName.text === "example"),
    );
    if (!hasExample) missing.push(exported.name);
  }
  return missing.sort();
}

it.each(entries)(
  "every exported function and class of %s has an @example",
  (entry) => {
    expect(exportsWithoutExample(entry)).toEqual([]);
  },
  60_000,
);
