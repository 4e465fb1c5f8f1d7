/**
 * Symbol.dispose and Symbol.asyncDispose where this realm lacks them. Node 20
 * gives its main realm Symbol.for("nodejs.dispose") and
 * Symbol.for("nodejs.asyncDispose"), but not a vm context, where jest 29 runs
 * each test file: there a class's `[Symbol.dispose]()` would be a method
 * named "undefined", and `using` in the test would throw that Symbol.dispose
 * is not defined. Each module that keys a method by them imports this first.
 */

interface DisposeSymbols {
  dispose?: symbol;
  asyncDispose?: symbol;
  for(key: string): symbol;
}

/** Gives `symbols` (the realm's Symbol) Node's dispose symbols where it has none. */
export function provideDisposeSymbols(symbols: DisposeSymbols): void {
  symbols.dispose ??= symbols.for("nodejs.dispose");
  symbols.asyncDispose ??= symbols.for("nodejs.asyncDispose");
}

provideDisposeSymbols(Symbol as DisposeSymbols);
