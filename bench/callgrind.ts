/**
 * Reads a callgrind profile (`--dump-instr=yes`) into instructions per
 * function. Code V8 compiled at run time has no symbols for valgrind, so its
 * instructions are attributed through the map Node writes with
 * `--perf-basic-prof` (`/tmp/perf-<pid>.map`: start, size and name of each
 * piece of compiled code), and named after the JavaScript function they run.
 */
import { readFileSync } from "node:fs";

/** A piece of compiled JavaScript: where its code lies, and what it runs. */
interface CodeRange {
  start: number;
  end: number;
  name: string;
}

/** Instructions executed in each function, native or JavaScript, by name. */
export type Profile = Map<string, number>;

/** The code ranges of a perf map, sorted by start; a later entry for an address wins. */
function readPerfMap(file: string): CodeRange[] {
  const ranges: CodeRange[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const [start, size, ...name] = line.split(" ");
    if (start === undefined || size === undefined || name.length === 0) continue;
    const from = Number.parseInt(start, 16);
    ranges.push({
      start: from,
      end: from + Number.parseInt(size, 16),
      name: jsName(name.join(" ")),
    });
  }
  // A stable sort keeps the order written among equal starts: the last is the newest code.
  return ranges.sort((a, b) => a.start - b.start);
}

/**
 * "JS:*_step file:///…/dist/tasks.js:347:10" → "_step tasks.js:347": one name
 * for every tier of a function (`~` interpreted, `^` baseline, `*` optimised).
 */
function jsName(entry: string): string {
  const match = /^JS:[~^*+]?(\S*) (?:file:\/\/)?(?:.*\/)?([^/\s]+?):(\d+):\d+$/.exec(entry);
  if (match === null) return entry;
  return `${match[1] || "(anonymous)"} ${match[2]}:${match[3]}`;
}

/** The newest range holding `address`, if any (ranges may overlap once code is moved or freed). */
function rangeOf(ranges: CodeRange[], address: number): CodeRange | undefined {
  let lo = 0;
  let hi = ranges.length - 1;
  let last = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((ranges[mid] as CodeRange).start <= address) {
      last = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  for (let i = last; i >= 0 && i > last - 64; i--) {
    const range = ranges[i] as CodeRange;
    if (address < range.end) return range;
  }
  return undefined;
}

/** Native functions grouped under one name: the collector's and the optimising compiler's. */
function nativeName(name: string): string {
  if (
    /Scaveng|MarkCompact|Marking|Sweep|Evacuat|ConcurrentMark|Heap::|GCTracer|IterateObjectCache|RootVisitor/.test(
      name,
    )
  ) {
    return "(garbage collection)";
  }
  if (name.includes("v8::internal::compiler::") || name.includes("v8::internal::maglev::")) {
    return "(optimising compiler)";
  }
  return name.replace(/'\d+$/, ""); // callgrind's marks for recursion levels
}

/** A call line's callee and count, for the cost line after it (the call's inclusive cost). */
interface Call {
  callee: string;
  calls: number;
}

/**
 * Visits each cost line of a callgrind file written with `--dump-instr=yes`:
 * the function it is in, its address and its count of `events` (summed; the
 * file's header names the events it counts: Ir alone, or with `--cache-sim=yes`
 * also the cache's misses, such as DLmr and DLmw), and for the cost line of a
 * call, the callee and the number of calls.
 */
function eachCost(
  callgrindFile: string,
  events: readonly string[],
  visit: (fn: string, address: number, count: number, call: Call | null) => void,
): void {
  const names = new Map<string, string>();
  /** callgrind names a file or function once, "(id) name", then by "(id)" alone. */
  const named = (spec: string): string => {
    const match = /^\((\d+)\)(?: (.*))?$/.exec(spec);
    if (match === null) return spec;
    const [, id, name] = match as unknown as [string, string, string | undefined];
    if (name !== undefined) names.set(id, name);
    return names.get(id) ?? spec;
  };
  let fn = "";
  let callee = "";
  let address = 0;
  let call: Call | null = null;
  let positions = 2; // "instr line": the columns before the costs
  let columns: number[] = [];
  for (const line of readFileSync(callgrindFile, "utf8").split("\n")) {
    if (line.startsWith("positions:")) positions = line.split(" ").length - 1;
    else if (line.startsWith("events:")) {
      const counted = line.split(" ").slice(1);
      columns = events.map((event) => {
        const at = counted.indexOf(event);
        if (at < 0)
          throw new Error(`${callgrindFile} counts no ${event} (it has ${counted.join(" ")})`);
        return positions + at;
      });
    } else if (line.startsWith("fn=")) fn = named(line.slice(3));
    else if (line.startsWith("cfn=")) callee = named(line.slice(4));
    else if (line.startsWith("calls="))
      // the next line is the call's inclusive cost
      call = { callee, calls: Number(line.slice(6).split(" ")[0]) };
    else {
      const first = line.charCodeAt(0);
      // A cost line: "<address> <line> <Ir>", the address absolute, relative (+n, -n) or the same (*).
      if (first !== 0x30 && first !== 0x2b && first !== 0x2d && first !== 0x2a) continue;
      const fields = line.split(" ");
      const at = fields[0] as string;
      if (at.startsWith("0x")) address = Number.parseInt(at, 16);
      else if (first === 0x2b) address += Number(at.slice(1));
      else if (first === 0x2d) address -= Number(at.slice(1));
      // Costs left off the end of a line are zero.
      let count = 0;
      for (const column of columns) count += Number(fields[column] ?? 0);
      visit(fn, address, count, call);
      call = null;
    }
  }
}

/** The name of the code at `address` in `fn`: the JavaScript function compiled there, or fn's own. */
function codeName(ranges: CodeRange[], fn: string, address: number): string {
  if (/^0x[0-9a-f]+$/.test(fn)) return rangeOf(ranges, address)?.name ?? "(unmapped code)";
  return nativeName(fn);
}

/**
 * Self cost by function, from a callgrind file written with `--dump-instr=yes`
 * and the perf map of the same process: instructions, or the sum of `events`.
 */
export function readProfile(
  callgrindFile: string,
  perfMapFile: string,
  events: readonly string[] = ["Ir"],
): Profile {
  const ranges = readPerfMap(perfMapFile);
  const profile: Profile = new Map();
  eachCost(callgrindFile, events, (fn, address, count, call) => {
    if (call !== null) return; // a call's cost is the callee's, counted there
    const name = codeName(ranges, fn, address);
    profile.set(name, (profile.get(name) ?? 0) + count);
  });
  return profile;
}

/**
 * Calls into the functions whose name contains `callee` (a builtin such as
 * the write barrier's `Builtins_RecordWriteSaveFP`), by calling function.
 */
export function readCallers(callgrindFile: string, perfMapFile: string, callee: string): Profile {
  const ranges = readPerfMap(perfMapFile);
  const callers: Profile = new Map();
  eachCost(callgrindFile, ["Ir"], (fn, address, _count, call) => {
    if (call === null || !call.callee.includes(callee)) return;
    const name = codeName(ranges, fn, address);
    callers.set(name, (callers.get(name) ?? 0) + call.calls);
  });
  return callers;
}

/** `large` minus `small`, function by function: what the extra work of the larger run cost. */
export function difference(large: Profile, small: Profile): Profile {
  const result: Profile = new Map();
  for (const name of new Set([...large.keys(), ...small.keys()])) {
    result.set(name, (large.get(name) ?? 0) - (small.get(name) ?? 0));
  }
  return result;
}
