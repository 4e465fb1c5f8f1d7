/**
 * Every exported function and class carries an @example in its TSDoc, so the
 * API reference shows how each one is used.
 */
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { expect, it } from "vitest";

const entry = fileURLToPath(new URL("../src/index.ts", import.meta.url));

function exportsWithoutExample(): string[] {
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  if (source === undefined) throw new Error("src/index.ts not found");
  const module = checker.getSymbolAtLocation(source);
  if (module === undefined) throw new Error("src/index.ts has no exports");
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

it("every exported function and class has an @example", () => {
  expect(exportsWithoutExample()).toEqual([]);
}, 60_000);
