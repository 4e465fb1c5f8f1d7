/**
 * Schedule tokens: every decision of a run in a short string. Only the
 * departures from FIFO order are written, as `decision-choice` pairs in base
 * 36 ("1:4-1.9-2": decision 4 took option 1, decision 9 option 2, every other
 * decision option 0), so a shrunk schedule has a short token.
 */
import { argRangeError, argTypeError } from "../validate.js";
import type { Chooser } from "./run.js";

const VERSION = "1:";
const FORMAT = /^1:(?:[0-9a-z]+-[0-9a-z]+(?:\.[0-9a-z]+-[0-9a-z]+)*)?$/;

/** The departures from FIFO order of `choices`: decision index to choice. */
export function deviationsOf(choices: readonly number[]): Map<number, number> {
  const deviations = new Map<number, number>();
  choices.forEach((choice, index) => {
    if (choice !== 0) deviations.set(index, choice);
  });
  return deviations;
}

export function encodeToken(choices: readonly number[]): string {
  const pairs: string[] = [];
  for (const [index, choice] of deviationsOf(choices)) {
    pairs.push(`${index.toString(36)}-${choice.toString(36)}`);
  }
  return VERSION + pairs.join(".");
}

/** The deviations a token written by encodeToken() stands for. */
export function decodeToken(where: string, token: unknown): Map<number, number> {
  const expected = 'a schedule token (a string such as "1:4-1")';
  const todo = "pass the token of an ExploreError (error.token)";
  if (typeof token !== "string") throw argTypeError(where, "token", token, expected, todo);
  if (!FORMAT.test(token)) throw argRangeError(where, "token", token, expected, todo);
  const deviations = new Map<number, number>();
  if (token.length === VERSION.length) return deviations;
  let last = -1;
  for (const pair of token.slice(VERSION.length).split(".")) {
    const [index, choice] = pair.split("-").map((digits) => Number.parseInt(digits, 36)) as [
      number,
      number,
    ];
    // encodeToken() writes each departure from FIFO once, in the order of the decisions.
    if (index <= last || choice === 0) {
      throw argRangeError(
        where,
        "token",
        token,
        `${expected}, as explore() writes it: its decisions in ascending order, each once, with a choice other than 0`,
        todo,
      );
    }
    last = index;
    deviations.set(index, choice);
  }
  return deviations;
}

/**
 * Makes the decisions `deviations` lists, FIFO order everywhere else. A
 * choice the decision has no option for (the program changed since the
 * token was made, or shrinking removed an earlier decision) falls back to FIFO.
 */
export function scripted(deviations: ReadonlyMap<number, number>): Chooser {
  return {
    pick(index: number, n: number): number {
      const choice = deviations.get(index) ?? 0;
      return choice < n ? choice : 0;
    },
  };
}
