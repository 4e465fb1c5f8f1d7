/**
 * Port of CPython Lib/test/test_asyncio/test_futures.py (3.14), on the virtual
 * loop. CPython runs BaseFutureTests and BaseFutureDoneCallbackTests for the C
 * and the Python Future; asynkit has one Future, so each runs once. The
 * traceback-logger tests check the loop's exception handler, which receives
 * "Future exception was never retrieved" when the loop closes.
 *
 * Not ported:
 * - DuckTests (test_wrap_future, test_ensure_future), the duck-typed half of test_isfuture:
 *   asynkit recognises futures by class, there is no _asyncio_future_blocking protocol.
 * - test_generic_alias: Python's typing GenericAlias.
 * - test_uninitialized, test_future_del_segfault, test_callbacks_copy, the InheritanceTests:
 *   the C Future's memory safety and __init__ skipping.
 * - test_future_cancel_message_setter, test_log_traceback, test_set_result_unless_cancelled:
 *   private attributes and helpers.
 * - test_stop_iteration_exception, test_stop_iteration_subclass_exception: StopIteration is Python's.
 * - test_exception_class: Python instantiates an exception class given to set_exception.
 * - test_copy_state, test_copy_state_from_concurrent_futures, test_wrap_future,
 *   test_wrap_future_without_loop, test_wrap_future_use_running_loop,
 *   test_wrap_future_use_global_loop, test_wrap_future_cancel, test_wrap_future_cancel2:
 *   concurrent.futures and threads.
 * - test_future_source_traceback, the debug half of test_future_repr: creation tracebacks.
 * - test_future_iter_throw: Python's three-argument generator throw().
 * - test_future_del_collect, test_future_cancelled_result_refcycles,
 *   test_future_cancelled_exception_refcycles: gc and reference cycles.
 * - test_remove_done_callbacks_list_mutation, test_remove_done_callbacks_list_clear,
 *   test_schedule_callbacks_list_mutation_2, test_evil_call_soon_list_mutation,
 *   test_use_after_free_*: callbacks compared with an evil __eq__ or a patched loop; asynkit
 *   compares callbacks with ===.
 */
import { describe, expect, it } from "vitest";
import {
  CancelledError,
  type ExceptionContext,
  Future,
  fromPromise,
  getEventLoopPolicy,
  InvalidStateError,
  isFuture,
  sleep,
  VirtualEventLoop,
} from "../../src/index.js";
import { thrown } from "../helpers.js";

/** A virtual loop whose exception handler records what it receives. */
function recordingLoop(): { loop: VirtualEventLoop; reports: ExceptionContext[] } {
  const loop = new VirtualEventLoop();
  const reports: ExceptionContext[] = [];
  loop.setExceptionHandler((_loop, context) => reports.push(context));
  return { loop, reports };
}

/** Runs the callbacks that are ready on `loop` (test_utils.run_briefly). */
function runBriefly(loop: VirtualEventLoop): void {
  loop.runSync(sleep(0));
}

describe("test_futures.PyFutureTests", () => {
  const loop = new VirtualEventLoop();
  const newFuture = <T = unknown>() => new Future<T>({ loop });

  it("test_isfuture", () => {
    expect(isFuture(Future)).toBe(false);
    expect(isFuture(1)).toBe(false);
    expect(isFuture({})).toBe(false);
    const f = newFuture();
    expect(isFuture(f)).toBe(true);
    f.cancel();
  });

  it("test_initial_state", () => {
    const f = newFuture();
    expect(f.cancelled()).toBe(false);
    expect(f.done()).toBe(false);
    f.cancel();
    expect(f.cancelled()).toBe(true);
  });

  // asynkit differs: with no loop running or set, getEventLoop() makes the policy's
  // default loop (as asyncio's policy did before 3.14) instead of raising.
  it.skip("test_constructor_without_loop", () => {
    expect(() => new Future()).toThrow(/no current event loop/);
  });

  it("test_constructor_use_running_loop", () => {
    const running = new VirtualEventLoop();
    const f = running.runSync(
      (function* () {
        yield* sleep(0);
        return new Future();
      })(),
    );
    expect(f.getLoop()).toBe(running);
  });

  it("test_constructor_use_global_loop", () => {
    getEventLoopPolicy().setEventLoop(loop);
    try {
      expect(new Future().getLoop()).toBe(loop);
    } finally {
      getEventLoopPolicy().setEventLoop(null);
    }
  });

  it("test_constructor_positional", () => {
    expect(() => new Future(42 as never)).toThrow(TypeError);
  });

  it("test_future_cancel_message_getter", () => {
    const f = newFuture();
    f.cancel("my message");
    const error = thrown(() => loop.runSync(f));
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as Error).message).toBe("my message");
  });

  it("test_cancel", () => {
    const f = newFuture();
    expect(f.cancel()).toBe(true);
    expect(f.cancelled()).toBe(true);
    expect(f.done()).toBe(true);
    expect(() => f.result()).toThrow(CancelledError);
    expect(() => f.exception()).toThrow(CancelledError);
    expect(() => f.setResult(null)).toThrow(InvalidStateError);
    expect(() => f.setException(null)).toThrow(InvalidStateError);
    expect(f.cancel()).toBe(false);
  });

  it("test_result", () => {
    const f = newFuture<number | null>();
    expect(() => f.result()).toThrow(InvalidStateError);
    f.setResult(42);
    expect(f.cancelled()).toBe(false);
    expect(f.done()).toBe(true);
    expect(f.result()).toBe(42);
    expect(f.exception()).toBeUndefined();
    expect(() => f.setResult(null)).toThrow(InvalidStateError);
    expect(() => f.setException(null)).toThrow(InvalidStateError);
    expect(f.cancel()).toBe(false);
  });

  it("test_exception", () => {
    const exc = new Error("runtime");
    const f = newFuture<null>();
    expect(() => f.exception()).toThrow(InvalidStateError);
    f.setException(exc);
    expect(f.cancelled()).toBe(false);
    expect(f.done()).toBe(true);
    expect(() => f.result()).toThrow(exc);
    expect(f.exception()).toBe(exc);
    expect(() => f.setResult(null)).toThrow(InvalidStateError);
    expect(() => f.setException(null)).toThrow(InvalidStateError);
    expect(f.cancel()).toBe(false);
  });

  it("test_yield_from_twice", () => {
    const f = newFuture<number>();
    function* fixture() {
      yield "A";
      const x = yield* f;
      yield ["B", x];
      const y = yield* f;
      yield ["C", y];
    }
    const g = fixture();
    expect(g.next().value).toBe("A");
    expect(g.next().value).toBe(f); // the first yield* f
    f.setResult(42);
    expect(g.next().value).toEqual(["B", 42]);
    // The second yield* f does not yield f.
    expect(g.next().value).toEqual(["C", 42]);
  });

  it("test_future_repr", () => {
    const fPending = newFuture();
    expect(String(fPending)).toBe("<Future pending>");
    fPending.cancel();
    expect(String(fPending)).toBe("<Future cancelled>");
    const fResult = newFuture<number>();
    fResult.setResult(4);
    expect(String(fResult)).toBe("<Future finished result=4>");
    expect(fResult.result()).toBe(4);
    const exc = new Error("runtime");
    const fException = newFuture();
    fException.setException(exc);
    expect(String(fException)).toBe('<Future failed exception=Error("runtime")>');
    expect(fException.exception()).toBe(exc);
  });

  it("test_iter", () => {
    const fut = newFuture();
    function* coro() {
      yield* fut;
    }
    // Unpacking a coroutine iterates it by hand: "await wasn't used with future".
    expect(() => {
      const [_arg1, _arg2] = coro();
    }).toThrow(/iterated while pending/);
    fut.cancel();
  });

  /** The reports the loop makes when it closes, after `use(future)` on a fresh future. */
  function reportsAfter(use: (f: Future) => void, debug = false): ExceptionContext[] {
    const { loop: own, reports } = recordingLoop();
    own.setDebug(debug);
    use(new Future({ loop: own }));
    runBriefly(own);
    own.close();
    return reports;
  }

  it("test_tb_logger_abandoned", () => {
    expect(reportsAfter(() => {})).toEqual([]);
  });

  it("test_tb_logger_not_called_after_cancel", () => {
    const reports = reportsAfter((f) => {
      f.setException(new Error());
      f.cancel();
    });
    expect(reports).toEqual([]);
  });

  it("test_tb_logger_result_unretrieved", () => {
    expect(reportsAfter((f) => f.setResult(42))).toEqual([]);
  });

  it("test_tb_logger_result_retrieved", () => {
    const reports = reportsAfter((f) => {
      f.setResult(42);
      f.result();
    });
    expect(reports).toEqual([]);
  });

  it("test_tb_logger_exception_unretrieved", () => {
    const reports = reportsAfter((f) => f.setException(new Error("boom")));
    expect(reports.map((r) => String(r.exception))).toEqual(["Error: boom"]);
  });

  it("test_tb_logger_exception_retrieved", () => {
    const reports = reportsAfter((f) => {
      f.setException(new Error("boom"));
      f.exception();
    });
    expect(reports).toEqual([]);
  });

  it("test_tb_logger_exception_result_retrieved", () => {
    const reports = reportsAfter((f) => {
      f.setException(new Error("boom"));
      expect(() => f.result()).toThrow("boom");
    });
    expect(reports).toEqual([]);
  });

  it("test_wrap_future_future", () => {
    const f1 = newFuture();
    expect(fromPromise(f1)).toBe(f1);
    f1.cancel();
  });

  it.each([
    ["test_future_exception_never_retrieved", false],
    ["test_future_exception_never_retrieved_debug", true],
  ])("%s", (_test, debug) => {
    const exc = new RangeError("memory error");
    const reports = reportsAfter((f) => f.setException(exc), debug);
    expect(reports).toHaveLength(1);
    expect(reports[0]?.message).toMatch(/^Future exception was never retrieved/);
    expect(reports[0]?.exception).toBe(exc);
  });

  it("test_future_stop_iteration_args", () => {
    const fut = newFuture<[number, number]>();
    fut.setResult([1, 2]);
    const fi = fut[Symbol.iterator]();
    expect(fi.next()).toEqual({ done: true, value: [1, 2] });
  });
});

describe("test_futures.PyFutureDoneCallbackTests", () => {
  const loop = new VirtualEventLoop();
  const newFuture = () => new Future<string>({ loop });

  /** A callback that appends `thing` to `bag`. */
  const makeCallback = (bag: number[], thing: number) => () => {
    bag.push(thing);
  };

  /** A future with three callbacks adding 42, 17 and 100 to `bag`. */
  function withThree(bag: number[]) {
    const f = newFuture();
    const cbs = [makeCallback(bag, 42), makeCallback(bag, 17), makeCallback(bag, 100)] as const;
    for (const cb of cbs) f.addDoneCallback(cb);
    return { f, cbs };
  }

  /** Sets "foo" as the result, runs the callbacks, and checks the result stayed. */
  function finish(f: Future<string>): void {
    f.setResult("foo");
    runBriefly(loop);
    expect(f.result()).toBe("foo");
  }

  it("test_callbacks_remove_first_callback", () => {
    const bag: number[] = [];
    const { f, cbs } = withThree(bag);
    f.removeDoneCallback(cbs[0]);
    f.removeDoneCallback(cbs[0]);
    expect(bag).toEqual([]);
    finish(f);
    expect(bag).toEqual([17, 100]);
  });

  it("test_callbacks_remove_first_and_second_callback", () => {
    const bag: number[] = [];
    const { f, cbs } = withThree(bag);
    f.removeDoneCallback(cbs[0]);
    f.removeDoneCallback(cbs[1]);
    f.removeDoneCallback(cbs[0]);
    expect(bag).toEqual([]);
    finish(f);
    expect(bag).toEqual([100]);
  });

  it("test_callbacks_remove_third_callback", () => {
    const bag: number[] = [];
    const { f, cbs } = withThree(bag);
    f.removeDoneCallback(cbs[2]);
    f.removeDoneCallback(cbs[2]);
    expect(bag).toEqual([]);
    finish(f);
    expect(bag).toEqual([42, 17]);
  });

  it("test_callbacks_invoked_on_set_result", () => {
    const bag: number[] = [];
    const f = newFuture();
    f.addDoneCallback(makeCallback(bag, 42));
    f.addDoneCallback(makeCallback(bag, 17));
    expect(bag).toEqual([]);
    finish(f);
    expect(bag).toEqual([42, 17]);
  });

  it("test_callbacks_invoked_on_set_exception", () => {
    const bag: number[] = [];
    const f = newFuture();
    f.addDoneCallback(makeCallback(bag, 100));
    expect(bag).toEqual([]);
    const exc = new Error("runtime");
    f.setException(exc);
    runBriefly(loop);
    expect(bag).toEqual([100]);
    expect(f.exception()).toBe(exc);
  });

  it("test_remove_done_callback", () => {
    const bag: number[] = [];
    const f = newFuture();
    const [cb1, cb2, cb3] = [1, 2, 3].map((n) => makeCallback(bag, n)) as [
      () => void,
      () => void,
      () => void,
    ];
    f.addDoneCallback(cb1);
    f.addDoneCallback(cb2);
    expect(f.removeDoneCallback(cb2)).toBe(1); // one cb2 removed: one cb1 left
    expect(f.removeDoneCallback(cb3)).toBe(0); // never had a cb3
    f.addDoneCallback(cb2);
    for (let i = 0; i < 5; i++) f.addDoneCallback(cb1);
    expect(f.removeDoneCallback(cb1)).toBe(6); // every cb1; one cb2 remains
    expect(bag).toEqual([]);
    finish(f);
    expect(bag).toEqual([2]);
  });

  it("test_schedule_callbacks_list_mutation_1", () => {
    const bag: number[] = [];
    const str = makeCallback(bag, 1);
    const f = newFuture();
    // The callbacks are scheduled when the future is done: removing one then changes nothing.
    f.addDoneCallback((fut) => expect(fut.removeDoneCallback(str)).toBe(0));
    f.addDoneCallback(str);
    f.addDoneCallback(str);
    finish(f);
    expect(bag).toEqual([1, 1]);
  });
});
