/**
 * The floor under native tasks: what async-spawn-join costs with only the V8
 * machinery a native task needs, and no loop or Task at all. Each of n async
 * functions awaits a thenable; its then() is taken one function at a time, as
 * asynkit's loop takes a native step's end, before the next function starts;
 * then each await is settled in turn, and the function's promise is watched
 * with then(), as a task watches its function's; last, an async function
 * awaits each of them through a thenable, as the workload's main task awaits
 * each Task. Beside it: plain async functions awaiting null, the harness's
 * native async-spawn-join.
 *
 *   npx tsx bench/thenable-floor.ts [n] [runs]
 */
import { median } from "./stats.js";

type Settle = (value: unknown) => void;

/** A thenable already settled, as a Task that is done: its then() settles the await at once. */
const alreadyDone = {
  // biome-ignore lint/suspicious/noThenProperty: the awaited thenable is what is measured.
  then(resolve: Settle): void {
    resolve(undefined);
  },
};

/** n functions, each awaiting a thenable, started and settled one at a time, then joined. */
async function sequentialThenables(n: number): Promise<void> {
  await startAndSettle(n);
  for (let i = 0; i < n; i++) await alreadyDone;
}

function startAndSettle(n: number): Promise<void> {
  const resolves: Settle[] = new Array(n);
  return new Promise<void>((done) => {
    let started = 0;
    let settled = 0;
    const thenable = {
      // biome-ignore lint/suspicious/noThenProperty: the awaited thenable is what is measured.
      then(resolve: Settle): void {
        resolves[started] = resolve;
        if (++started < n) start();
        else resolves[0]?.(undefined);
      },
    };
    const child = async (): Promise<void> => {
      await thenable;
    };
    const ended = (): void => {
      if (++settled < n) resolves[settled]?.(undefined);
      else done();
    };
    const start = (): void => {
      child().then(ended, ended);
    };
    start();
  });
}

/** The harness's native async-spawn-join. */
async function plainAsync(n: number): Promise<void> {
  const child = async (): Promise<void> => {
    await null;
  };
  const all: Promise<void>[] = [];
  for (let i = 0; i < n; i++) all.push(child());
  for (const p of all) await p;
}

const n = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 10);
const times = { plain: [] as number[], thenables: [] as number[] };
for (let run = 0; run < runs; run++) {
  for (const [name, fn] of [
    ["plain", plainAsync],
    ["thenables", sequentialThenables],
  ] as const) {
    const start = process.hrtime.bigint();
    await fn(n);
    if (run >= 3) times[name].push(Number(process.hrtime.bigint() - start) / n);
  }
}
const plain = median(times.plain);
const thenables = median(times.thenables);
console.log(
  `n=${n}, median of runs 4..${runs}: plain async ${plain.toFixed(0)} ns a function, ` +
    `thenable awaits one at a time ${thenables.toFixed(0)} (${(thenables / plain).toFixed(2)}x)`,
);
