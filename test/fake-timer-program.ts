/**
 * The program fake-timers.test.ts runs under each kind of fake timers: in
 * the test's own process (vitest's), and in one of its own (sinon's).
 */

/** What a program on each kind of loop gives with the globals' timers faked: virtual and real time, as without. */
export async function underFakeTimers(
  asynkit: typeof import("../src/index.js"),
): Promise<unknown[]> {
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
