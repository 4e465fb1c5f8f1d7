/**
 * Fake timers (vitest's, and @sinonjs/fake-timers, which jest's are) leave
 * asynkit's loops on their own time. In a file of their own: installing them
 * replaces node:timers' functions for the rest of the file. asynkit is
 * imported here first, so that vitest has transformed its modules before a
 * test installs the fakes (its own module loading waits on timers).
 */
import FakeTimers from "@sinonjs/fake-timers";
import { afterEach, describe, expect, it, vi } from "vitest";
import * as loaded from "../src/index.js";

/** What a program on each kind of loop gives with the globals' timers faked: virtual and real time, as without. */
async function underFakeTimers(asynkit: typeof import("../src/index.js")): Promise<unknown[]> {
  const virtual = new asynkit.VirtualEventLoop();
  const onVirtual = await virtual.runUntilComplete(async () => {
    const worker = asynkit.createTask(async () => {
      await asynkit.sleep(60_000);
      return virtual.time();
    });
    return await worker;
  });
  virtual.close();
  const start = Date.now();
  const onHost = await asynkit.run(async () => {
    await asynkit.sleep(20);
    await asynkit.sleep(0);
    return "host";
  });
  return [onVirtual, onHost, Date.now() === start];
}

describe("vi.useFakeTimers()", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("installed before asynkit loads (a setup file), leave its loops on their own time", async () => {
    vi.useFakeTimers();
    vi.resetModules();
    const fresh = await import("../src/index.js");
    // Date is faked too: it stands still while the host loop sleeps 20 ms in real time.
    expect(await underFakeTimers(fresh)).toEqual([60_000, "host", true]);
  });

  it("installed after, the same", async () => {
    vi.useFakeTimers({
      toFake: [
        "setTimeout",
        "clearTimeout",
        "setImmediate",
        "queueMicrotask",
        "performance",
        "Date",
      ],
    });
    expect(await underFakeTimers(loaded)).toEqual([60_000, "host", true]);
  });
});

describe("@sinonjs/fake-timers", () => {
  // Recent versions replace node:timers' and node:perf_hooks' functions too.
  it("installed before asynkit loads, leave its loops on their own time", async () => {
    const clock = FakeTimers.install();
    try {
      vi.resetModules();
      const fresh = await import("../src/index.js");
      expect(await underFakeTimers(fresh)).toEqual([60_000, "host", true]);
    } finally {
      clock.uninstall();
    }
  });

  it("installed after, the same", async () => {
    const clock = FakeTimers.install();
    try {
      expect(await underFakeTimers(loaded)).toEqual([60_000, "host", true]);
    } finally {
      clock.uninstall();
    }
  });
});
