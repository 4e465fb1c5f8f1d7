// Runs after `tsc -p tsconfig.build.json`. stripInternal drops an @internal constructor from
// the declarations, and a class without one declares the implicit public constructor (an
// error class, Error's): `new Handle()` or `new DeadlockError("m")` would type-check and
// make a broken object. Each such class is declared with a protected constructor instead.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(fileURLToPath(import.meta.url), "../..");
const src = join(root, "src");
const dist = join(root, "dist");

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

const isInternal = (tag) => tag.tagName.text === "internal";

/** The names of the classes in `file` whose constructor is @internal. */
function classesWithInternalConstructors(file) {
  const text = readFileSync(file, "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const names = [];
  const visit = (node) => {
    if (ts.isClassDeclaration(node) && node.name !== undefined) {
      const made = node.members.find(ts.isConstructorDeclaration);
      const internal = made !== undefined && ts.getJSDocTags(made).some(isInternal);
      if (internal) names.push(node.name.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

const PROTECTED = "    protected constructor();\n";
/**
 * Keeps go-to-definition right below an inserted line: the declaration map gets an empty
 * line there. A line's segments give their columns afresh, and the other fields as deltas
 * from the segment before, whatever line it is on, so the rest reads as it did.
 */
function shiftDeclarationMap(path, lines) {
  const map = JSON.parse(readFileSync(path, "utf8"));
  const mappings = map.mappings.split(";");
  for (const line of lines) mappings.splice(line, 0, "");
  map.mappings = mappings.join(";");
  writeFileSync(path, JSON.stringify(map));
}

let changed = 0;
for (const file of sources(src)) {
  const names = classesWithInternalConstructors(file);
  if (names.length === 0) continue;
  const declarations = join(dist, relative(src, file)).replace(/\.ts$/, ".d.ts");
  const insertedLines = [];
  let text = readFileSync(declarations, "utf8");
  for (const name of names) {
    const header = new RegExp(`^(export )?declare (abstract )?class ${name}\\b[^\\n]*\\{\\n`, "m");
    const match = header.exec(text);
    if (match === null) throw new Error(`${relative(root, declarations)}: no class ${name}`);
    const at = match.index + match[0].length;
    if (text.startsWith(PROTECTED, at)) continue; // declarations tsc did not write again
    text = `${text.slice(0, at)}${PROTECTED}${text.slice(at)}`;
    insertedLines.push(text.slice(0, at).split("\n").length - 1);
    changed++;
  }
  writeFileSync(declarations, text);
  if (insertedLines.length > 0) shiftDeclarationMap(`${declarations}.map`, insertedLines);
}
console.log(`internal constructors: ${changed} declared protected`);
