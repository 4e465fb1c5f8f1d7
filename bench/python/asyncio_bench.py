"""CPython asyncio twin of the asynkit benchmarks (see bench/README.md).

    python3 bench/python/asyncio_bench.py <workload> <ops> [reps]

Runs one workload (after three warm-up runs of ops/10, as the JS worker does)
and prints one JSON line:
{"nsPerOp": ...} for timed workloads, {"bytesPerTask": ...} for memory.
spawn-join and timers take `reps` (1 by default): the timed run is `reps`
batches of `ops` tasks in one asyncio.run(), so that small sizes still time
enough work. timers is timed in CPU time, as in the JS worker: at small sizes
the wall time is the 10 ms the sleeps span.
"""

import asyncio
import gc
import json
import random
import sys
import time
import tracemalloc


async def switch(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def ping_pong(n: int) -> None:
    loop = asyncio.get_running_loop()
    ping = loop.create_future()
    pong = loop.create_future()

    async def ponger() -> None:
        nonlocal ping
        for _ in range(n):
            await ping
            ping = loop.create_future()
            pong.set_result(None)

    task = asyncio.create_task(ponger())
    for _ in range(n):
        reply = pong
        ping.set_result(None)
        await reply
        pong = loop.create_future()
    await task


async def spawn_join(n: int, reps: int = 1) -> None:
    async def child() -> None:
        await asyncio.sleep(0)

    for _ in range(reps):
        tasks = [asyncio.create_task(child()) for _ in range(n)]
        for t in tasks:
            await t


async def timers(n: int, reps: int = 1) -> None:
    for _ in range(reps):
        tasks = [asyncio.create_task(asyncio.sleep(random.random() * 0.010)) for _ in range(n)]
        for t in tasks:
            await t


async def memory(n: int) -> float:
    gate = asyncio.get_running_loop().create_future()

    async def child() -> None:
        await gate

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tasks = [asyncio.create_task(child()) for _ in range(n)]
    await asyncio.sleep(0)  # let every task start and block on the gate
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    gate.set_result(None)
    for t in tasks:
        await t
    return (after - before) / n


async def answer(i: int) -> int:
    return i & 1


async def call(n: int) -> None:
    total = 0
    for i in range(n):
        total += await answer(i)


async def eager(n: int) -> None:
    import asynkit  # py-asynkit: the model of asynkit's eager()

    total = 0
    for i in range(n):
        total += await asynkit.eager(answer(i))


async def event_ping_pong(n: int) -> None:
    ping, pong = asyncio.Event(), asyncio.Event()

    async def ponger() -> None:
        for _ in range(n):
            await ping.wait()
            ping.clear()
            pong.set()

    task = asyncio.create_task(ponger())
    for _ in range(n):
        ping.set()
        await pong.wait()
        pong.clear()
    await task


async def queue_ping_pong(n: int) -> None:
    ping, pong = asyncio.Queue(1), asyncio.Queue(1)

    async def ponger() -> None:
        for _ in range(n):
            await pong.put(await ping.get())

    task = asyncio.create_task(ponger())
    for i in range(n):
        await ping.put(i)
        await pong.get()
    await task


LOCK_TASKS = 100
BATCHED = ("spawn-join", "timers")


async def lock_contention(n: int) -> None:
    lock = asyncio.Lock()

    async def worker(times: int) -> None:
        for _ in range(times):
            async with lock:
                await asyncio.sleep(0)  # hold the lock across a switch, so the others queue up

    tasks = [asyncio.create_task(worker(n // LOCK_TASKS)) for _ in range(LOCK_TASKS)]
    for t in tasks:
        await t


TIMED = {
    "switch": switch,
    "ping-pong": ping_pong,
    "spawn-join": spawn_join,
    "timers": timers,
    "call": call,
    "eager": eager,
    "event-ping-pong": event_ping_pong,
    "queue-ping-pong": queue_ping_pong,
    "lock-contention": lock_contention,
}


WARM_UP_RUNS = 3


def main() -> None:
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in (*TIMED, "memory"):
        usage = f"usage: asyncio_bench.py <{'|'.join((*TIMED, 'memory'))}> <ops> [reps]"
        print(json.dumps({"error": usage}))
        sys.exit(2)
    workload, n = sys.argv[1], int(sys.argv[2])
    reps = int(sys.argv[3]) if len(sys.argv) == 4 else 1
    warmup = max(1, round(n / 10))
    if workload == "memory":
        for _ in range(WARM_UP_RUNS):
            asyncio.run(memory(warmup))
        result = {"bytesPerTask": asyncio.run(memory(n))}
    else:
        fn = TIMED[workload]
        try:
            for _ in range(WARM_UP_RUNS):
                asyncio.run(fn(warmup))
        except ModuleNotFoundError as err:  # the eager workload needs py-asynkit
            print(json.dumps({"error": f"{err.name} is not installed (pip install {err.name})"}))
            sys.exit(1)
        clock = time.process_time_ns if workload == "timers" else time.perf_counter_ns
        t0 = clock()
        asyncio.run(fn(n, reps) if workload in BATCHED else fn(n))
        result = {"nsPerOp": (clock() - t0) / (n * reps)}
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
