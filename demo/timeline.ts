/**
 * Records what happened, in which task and at what loop time, and draws it as
 * a grid a terminal can show: one column per event, one row per task.
 */
import { currentTask, getRunningLoop, type Task } from "../src/index.js";

/** One thing that happened: its label, the task that ran it, the loop's clock. */
export interface Event {
  label: string;
  task: Task | null;
  time: number;
}

export class Timeline {
  readonly events: Event[] = [];

  /** Notes `label` as happening now, in the task that is running. */
  mark(label: string): void {
    this.events.push({ label, task: currentTask(), time: getRunningLoop().time() });
  }

  /** The labels in the order they happened. */
  order(): string[] {
    return this.events.map((e) => e.label);
  }

  /**
   * The grid: a row of times, then a row for each task (in order of first
   * appearance) showing the events it ran. Tasks created without a name are
   * called "task 1", "task 2", … in that order.
   */
  render(indent: string): string[] {
    const rows = new Map<Task | null, string>();
    let unnamed = 0;
    for (const { task } of this.events) {
      if (rows.has(task)) continue;
      const name = task?.getName() ?? "(callback)";
      rows.set(task, /^Task-\d+$/.test(name) ? `task ${++unnamed}` : name);
    }
    const widths = this.events.map((e) => Math.max(e.label.length, String(e.time).length) + 1);
    const head = Math.max(4, ...[...rows.values()].map((name) => name.length)) + 2;
    const cells = (pick: (e: Event) => string): string =>
      this.events
        .map((e, i) => pick(e).padEnd(widths[i] ?? 0))
        .join("")
        .trimEnd();
    const lines = [`${indent}${"ms".padEnd(head)}${cells((e) => String(e.time))}`];
    for (const [task, name] of rows) {
      lines.push(`${indent}${name.padEnd(head)}${cells((e) => (e.task === task ? e.label : ""))}`);
    }
    return lines;
  }
}
