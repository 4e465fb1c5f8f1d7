/**
 * The suite as an engine whose `yield*` hands on result objects of its own
 * (JavaScriptCore: Bun, Safari) runs it: every `yield*` of src/ and test/ is
 * rewritten to copy each result of the iterator it delegates to, so no step
 * reaches the task as the wait made it (see ARCHITECTURE.md, "Where yield*
 * hands on a result object of its own"). `npm run test:jsc`.
 */
import ts from "typescript";
import { defineConfig } from "vitest/config";

/**
 * Prepended to each rewritten module: the delegate of a `yield*`, stepping
 * the iterator and handing on a copy of each result, as JavaScriptCore does.
 */
const COPY_STEPS = `function __copySteps(iterable) {
  const inner = iterable[Symbol.iterator]();
  const copy = (step) => ({ done: step.done, value: step.value });
  const delegate = {
    [Symbol.iterator]() { return delegate; },
    next(value) { return copy(inner.next(value)); },
    throw(error) {
      if (typeof inner.throw !== "function") {
        inner.return?.();
        throw new TypeError("The iterator does not provide a 'throw' method");
      }
      return copy(inner.throw(error));
    },
    return(value) {
      return typeof inner.return === "function" ? copy(inner.return(value)) : { done: true, value };
    },
  };
  return delegate;
}
`;

/** `code` (a module as JavaScript) with each `yield* x` as `yield* __copySteps(x)`. */
function copyingYieldStar(code: string): string {
  if (!code.includes("yield*")) return code;
  const source = ts.createSourceFile(
    "module.js",
    code,
    ts.ScriptTarget.Latest,
    true,
    ts.ScriptKind.JS,
  );
  const rewrite: ts.TransformerFactory<ts.SourceFile> = (context) => {
    const visit = (node: ts.Node): ts.Node => {
      const visited = ts.visitEachChild(node, visit, context);
      if (!ts.isYieldExpression(visited) || !visited.asteriskToken || !visited.expression) {
        return visited;
      }
      const { factory } = context;
      return factory.updateYieldExpression(
        visited,
        visited.asteriskToken,
        factory.createCallExpression(factory.createIdentifier("__copySteps"), undefined, [
          visited.expression,
        ]),
      );
    };
    return (root) => ts.visitNode(root, visit) as ts.SourceFile;
  };
  const [rewritten] = ts.transform(source, [rewrite]).transformed;
  return COPY_STEPS + ts.createPrinter().printFile(rewritten as ts.SourceFile);
}

/**
 * Tests that observe what the simulation changes besides yield*'s results:
 * the stack frames debug mode reports (each copying delegate adds one) and
 * V8's own yield* (the test that compares the two); and one that asserts what
 * the fallback cannot tell: a bare `yield future` right after a wait begun by
 * hand on that future is taken for the wait.
 */
const V8_ONLY = [
  "a wait's future is known as the last one a wait handed out",
  "reports a slow task step with the task, what it resumed after and where",
  "reports, as the loop closes, the futures tasks still wait on",
  "a wait begun by hand and dropped leaves nothing behind",
  "formatTaskTree in debug mode",
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export default defineConfig({
  plugins: [
    {
      name: "copying-yield-star",
      enforce: "post",
      transform(code, id) {
        if (!/\/(src|test)\/.*\.ts$/.test(id)) return null;
        return { code: copyingYieldStar(code), map: null };
      },
    },
  ],
  test: {
    include: ["test/**/*.test.ts"],
    // Timing, documentation and packaging tests: nothing in them depends on the engine's yield*.
    exclude: [
      "test/host-fairness.test.ts",
      "test/docs.test.ts",
      "test/examples.test.ts",
      "test/package.test.ts",
      "test/api-examples.test.ts",
    ],
    testNamePattern: new RegExp(`^(?!.*(?:${V8_ONLY.map(escapeRegExp).join("|")}))`),
  },
});
