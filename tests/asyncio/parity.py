# SPDX-License-Identifier: MIT
"""parity.py -- the asyncio side of the differential test (tests/asyncio/run.sh).

Each scenario is one of CPython's own asyncio test cases (Lib/test/test_asyncio/
test_locks.py, test_queues.py, test_tasks.py, test_waitfor.py, test_timeouts.py,
test_taskgroups.py), reduced to the order of its events.  parity.c runs the same
scenario on coscope and prints the same lines; run.sh diffs the two outputs.

Errors print as errno names on both sides: CancelledError is ECANCELED,
TimeoutError ETIMEDOUT, and a task's own failure raises Err("EIO") here where the
C task returns -EIO.

Where coscope differs from asyncio on purpose, the scenario is marked with
@deliberate(why, asyncio=[...], coscope=[...]): this program checks that asyncio
still prints the `asyncio` lines and prints the `coscope` lines for the diff,
with the reason as a comment line (run.sh drops lines starting with '#').
"""
import asyncio
import sys

OUT = []


def log(s):
    OUT.append(s)


class Err(Exception):
    pass


def en(e):
    if isinstance(e, asyncio.CancelledError):
        return "ECANCELED"
    if isinstance(e, TimeoutError):
        return "ETIMEDOUT"
    if isinstance(e, Err):
        return e.args[0]
    if isinstance(e, BaseExceptionGroup):
        return en(e.exceptions[0])
    return type(e).__name__


def res(t):
    """What awaiting an ended task gives, as a word."""
    if t.cancelled():
        return "ECANCELED"
    if t.exception() is not None:
        return en(t.exception())
    return str(t.result())


SCENARIOS = []


def scenario(fn):
    SCENARIOS.append((fn, None))
    return fn


def deliberate(why, asyncio, coscope):
    def wrap(fn):
        SCENARIOS.append((fn, (why, asyncio, coscope)))
        return fn
    return wrap


ms = 0.001

# --------------------------------------------------------------------------
# Locks (test_locks.py LockTests)


@scenario
async def lock_fifo():  # test_acquire
    lock = asyncio.Lock()
    await lock.acquire()

    async def w(i):
        await lock.acquire()
        log(f"w{i} acquired")
        await asyncio.sleep(0)
        lock.release()
        log(f"w{i} released")
    ts = [asyncio.create_task(w(i)) for i in (1, 2, 3)]
    await asyncio.sleep(0)
    log("main releases")
    lock.release()
    await asyncio.gather(*ts)
    log(f"locked {int(lock.locked())}")


@scenario
async def lock_acquire_cancel():  # test_acquire_cancel
    lock = asyncio.Lock()
    await lock.acquire()
    t = asyncio.create_task(lock.acquire())
    await asyncio.sleep(0)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError as e:
        log(f"acquire {en(e)}")
    log(f"locked {int(lock.locked())}")
    lock.release()
    log(f"locked {int(lock.locked())}")


@deliberate("a released lock is handed to the longest waiter, which owns it before it runs; "
            "cancelling it then is delivered at its next await (here the sleep after it took "
            "the lock), so no lock is lost in flight",
            asyncio=["A: acquire ECANCELED", "B acquired", "B released", "A ECANCELED", "B 0"],
            coscope=["A acquired", "A: sleep ECANCELED", "A released", "B acquired", "B released",
                     "A ECANCELED", "B 0"])
async def lock_cancel_release_race():  # test_cancel_release_race
    lock = asyncio.Lock()
    await lock.acquire()

    async def lockit(name):
        try:
            await lock.acquire()
        except asyncio.CancelledError as e:
            log(f"{name}: acquire {en(e)}")
            raise
        log(f"{name} acquired")
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError as e:
            log(f"{name}: sleep {en(e)}")
            raise
        finally:
            lock.release()
            log(f"{name} released")
        return 0
    ta = asyncio.create_task(lockit("A"))
    tb = asyncio.create_task(lockit("B"))
    await asyncio.sleep(0)
    lock.release()
    ta.cancel()
    await asyncio.wait([ta, tb])
    log(f"A {res(ta)}")
    log(f"B {res(tb)}")


# --------------------------------------------------------------------------
# Semaphores (test_locks.py SemaphoreTests)


@scenario
async def sem_acquire():  # test_acquire
    sem = asyncio.Semaphore(3)

    async def w(i):
        await sem.acquire()
        log(f"w{i} acquired")
    ts = [asyncio.create_task(w(i)) for i in (1, 2, 3, 4)]
    await asyncio.sleep(0)
    log(f"value {sem._value} locked {int(sem.locked())}")
    sem.release()
    await asyncio.gather(*ts)
    log(f"value {sem._value}")
    for _ in range(3):
        sem.release()
    log(f"value {sem._value}")


@scenario
async def sem_acquire_cancel():  # test_acquire_cancel
    sem = asyncio.Semaphore(0)
    t = asyncio.create_task(sem.acquire())
    await asyncio.sleep(0)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError as e:
        log(f"acquire {en(e)}")
    sem.release()
    log(f"value {sem._value}")


@scenario
async def sem_bounded_overflow():  # BoundedSemaphore: test_release_not_acquired
    sem = asyncio.BoundedSemaphore(2)
    await sem.acquire()
    sem.release()
    try:
        sem.release()
        log("released")
    except ValueError:
        log("release EOVERFLOW")
    log(f"value {sem._value}")


# --------------------------------------------------------------------------
# Conditions (test_locks.py ConditionTests)


@scenario
async def cond_notify():  # test_notify
    cond = asyncio.Condition()

    async def w(i):
        async with cond:
            await cond.wait()
            log(f"w{i} woken")
    ts = [asyncio.create_task(w(i)) for i in (1, 2, 3)]
    await asyncio.sleep(0)
    async with cond:
        log(f"notify 1: {len(cond._waiters)} waiting")
        cond.notify(1)
    await asyncio.sleep(0)
    async with cond:
        cond.notify(2)
    await asyncio.gather(*ts)
    log("done")


@scenario
async def cond_notify_all():  # test_notify_all
    cond = asyncio.Condition()

    async def w(i):
        async with cond:
            await cond.wait()
            log(f"w{i} woken")
    ts = [asyncio.create_task(w(i)) for i in (1, 2, 3)]
    await asyncio.sleep(0)
    async with cond:
        cond.notify_all()
    await asyncio.gather(*ts)


@scenario
async def cond_wait_cancel():  # test_wait_cancel
    cond = asyncio.Condition()

    async def w():
        async with cond:
            try:
                await cond.wait()
            except asyncio.CancelledError as e:
                log(f"wait {en(e)}, lock held {int(cond.locked())}")
                raise
    t = asyncio.create_task(w())
    await asyncio.sleep(0)
    t.cancel()
    await asyncio.wait([t])
    log(f"task {res(t)}, locked {int(cond.locked())}")


# --------------------------------------------------------------------------
# Events (test_locks.py EventTests)


@scenario
async def event_wait():  # test_wait
    ev = asyncio.Event()

    async def w(i):
        await ev.wait()
        log(f"w{i} woken")
    ts = [asyncio.create_task(w(i)) for i in (1, 2, 3)]
    await asyncio.sleep(0)
    log(f"set {int(ev.is_set())}")
    ev.set()
    await asyncio.gather(*ts)
    await ev.wait()
    log("passes while set")
    ev.clear()
    log(f"set {int(ev.is_set())}")


# --------------------------------------------------------------------------
# Queues (test_queues.py)


@scenario
async def queue_blocking_put():  # test_blocking_put_wait
    q = asyncio.Queue(maxsize=1)

    async def putter():
        for i in range(3):
            await q.put(i)
            log(f"put {i}")
    t = asyncio.create_task(putter())
    await asyncio.sleep(0)
    for _ in range(3):
        v = await q.get()
        log(f"got {v}")
        await asyncio.sleep(0)
    await t


@scenario
async def queue_get_cancelled():  # test_get_cancelled / test_cancelled_getters_not_being_held
    q = asyncio.Queue()

    async def getter(name):
        try:
            v = await q.get()
            log(f"{name} got {v}")
        except asyncio.CancelledError as e:
            log(f"{name} {en(e)}")
            raise
    a = asyncio.create_task(getter("a"))
    b = asyncio.create_task(getter("b"))
    await asyncio.sleep(0)
    a.cancel()
    await asyncio.sleep(0)
    q.put_nowait(1)
    await asyncio.wait([a, b])
    log(f"size {q.qsize()}")


@scenario
async def queue_nowait():  # test_nonblocking_get_exception / test_nonblocking_put_exception
    q = asyncio.Queue(maxsize=1)
    try:
        q.get_nowait()
    except asyncio.QueueEmpty:
        log("get_nowait EAGAIN")
    q.put_nowait(1)
    try:
        q.put_nowait(2)
    except asyncio.QueueFull:
        log("put_nowait EAGAIN")
    log(f"size {q.qsize()}")


@scenario
async def queue_join():  # test_task_done / test_join_empty_queue
    q = asyncio.Queue()
    await q.join()
    log("join on empty returns")
    for i in range(3):
        q.put_nowait(i)

    async def worker(name):
        while True:
            v = await q.get()
            await asyncio.sleep(0)
            log(f"{name} done {v}")
            q.task_done()
    ws = [asyncio.create_task(worker(n)) for n in ("a", "b")]
    await q.join()
    log("joined")
    for w in ws:
        w.cancel()
    await asyncio.gather(*ws, return_exceptions=True)
    try:
        q.task_done()
    except ValueError:
        log("task_done EINVAL")


# --------------------------------------------------------------------------
# gather (test_tasks.py)


async def after(n, v, fail=False):
    await asyncio.sleep(n * 10 * ms)
    log(f"end {v}")
    if fail:
        raise Err(v)
    return v


@scenario
async def gather_result():  # test_gather_result / test_result_is_in_order
    r = await asyncio.gather(asyncio.create_task(after(3, "a")), asyncio.create_task(after(1, "b")),
                             asyncio.create_task(after(2, "c")))
    log(f"results {' '.join(r)}")


@scenario
async def gather_return_exceptions():  # test_return_exceptions
    r = await asyncio.gather(asyncio.create_task(after(1, "a")), asyncio.create_task(after(2, "EIO", True)),
                             asyncio.create_task(after(3, "c")), return_exceptions=True)
    log("results " + " ".join(en(x) if isinstance(x, BaseException) else x for x in r))


@deliberate("the first failure cancels the other tasks (trio-style) and gather returns once they "
            "ended, since C has no garbage collector to reap tasks nobody awaits any more",
            asyncio=["end EIO", "gather EIO", "end c", "c 'c'"],
            coscope=["end EIO", "gather EIO", "c ECANCELED"])
async def gather_first_error():  # test_one_exception
    c = asyncio.create_task(after(3, "c"))
    try:
        await asyncio.gather(asyncio.create_task(after(1, "EIO", True)), c)
    except Exception as e:
        log(f"gather {en(e)}")
    try:
        log(f"c {await c!r}")
    except asyncio.CancelledError as e:
        log(f"c {en(e)}")


@scenario
async def gather_cancelled():  # test_gather_shield / cancelling the gathering task
    async def child(i):
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            log(f"child {i} cancelled")
            raise

    async def gathers():
        return await asyncio.gather(asyncio.create_task(child(1)), asyncio.create_task(child(2)))
    t = asyncio.create_task(gathers())
    await asyncio.sleep(10 * ms)
    t.cancel()
    await asyncio.wait([t])
    log(f"gather {res(t)}")


# --------------------------------------------------------------------------
# wait (test_tasks.py)


@scenario
async def wait_all():  # test_wait
    ts = [asyncio.create_task(after(n, str(n))) for n in (2, 1)]
    done, pending = await asyncio.wait(ts)
    log(f"done {len(done)} pending {len(pending)}")


@scenario
async def wait_first_completed():  # test_wait_first_completed
    a = asyncio.create_task(after(10, "a"))
    b = asyncio.create_task(after(1, "b"))
    done, pending = await asyncio.wait([a, b], return_when=asyncio.FIRST_COMPLETED)
    log(f"done {len(done)} pending {len(pending)} a.done {int(a.done())}")
    a.cancel()
    await asyncio.wait([a])


@scenario
async def wait_really_done():  # test_wait_really_done
    async def coro1():
        await asyncio.sleep(0)
        return 1

    async def coro2():
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return 2
    a = asyncio.create_task(coro1())
    b = asyncio.create_task(coro2())
    done, pending = await asyncio.wait([b, a], return_when=asyncio.FIRST_COMPLETED)
    log(f"done {len(done)} pending {len(pending)}")


@scenario
async def wait_first_exception():  # test_wait_first_exception
    a = asyncio.create_task(after(1, "a"))
    b = asyncio.create_task(after(2, "EIO", True))
    c = asyncio.create_task(after(10, "c"))
    done, pending = await asyncio.wait([a, b, c], return_when=asyncio.FIRST_EXCEPTION)
    log(f"done {len(done)} pending {len(pending)}")
    c.cancel()
    await asyncio.wait([c])


@scenario
async def wait_with_timeout():  # test_wait_with_timeout
    a = asyncio.create_task(after(1, "a"))
    b = asyncio.create_task(after(10, "b"))
    done, pending = await asyncio.wait([a, b], timeout=5 * 10 * ms)
    log(f"done {len(done)} pending {len(pending)} b.cancelled {int(b.cancelled())}")
    await b


# --------------------------------------------------------------------------
# wait_for (test_waitfor.py)


async def sleeper(name, n):
    try:
        await asyncio.sleep(n * 10 * ms)
    except asyncio.CancelledError:
        log(f"{name} cleanup")
        await asyncio.sleep(0)
        raise
    return name


@scenario
async def wait_for_result():  # test_wait_for_with_global_loop (no timeout hit)
    log(f"got {await asyncio.wait_for(asyncio.create_task(sleeper('a', 1)), 1000 * 10 * ms)}")


@scenario
async def wait_for_timeout():  # test_wait_for
    try:
        await asyncio.wait_for(asyncio.create_task(sleeper("a", 100)), 2 * 10 * ms)
    except TimeoutError as e:
        log(f"wait_for {en(e)}")


@scenario
async def wait_for_zero_or_negative():  # test_wait_for_timeout_less_then_0_or_0
    for timeout in (0, -1):
        try:
            await asyncio.wait_for(asyncio.create_task(sleeper(f"t{timeout}", 100)), timeout)
        except TimeoutError as e:
            log(f"timeout {timeout}: {en(e)}")
    async def ready():
        return "ready"
    t = asyncio.create_task(ready())
    await asyncio.sleep(0)
    log(f"ended task: {await asyncio.wait_for(t, -1)}")


@scenario
async def wait_for_swallowed():  # test_wait_for_cancel_suppressed
    async def swallow():
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            log("swallowed")
        return 42
    log(f"wait_for {await asyncio.wait_for(asyncio.create_task(swallow()), 10 * ms)}")


@scenario
async def wait_for_none():  # timeout=None: no limit
    log(f"got {await asyncio.wait_for(asyncio.create_task(sleeper('a', 1)), None)}")


# --------------------------------------------------------------------------
# Timeouts (test_timeouts.py)


@scenario
async def timeout_basic():  # test_timeout_basic
    try:
        async with asyncio.timeout(2 * 10 * ms) as cm:
            await asyncio.sleep(100)
    except TimeoutError as e:
        log(f"scope {en(e)} expired {int(cm.expired())}")


@scenario
async def timeout_not_triggered():  # test_timeout_not_called
    async with asyncio.timeout(100 * 10 * ms) as cm:
        await asyncio.sleep(10 * ms)
    log(f"ok expired {int(cm.expired())}")


@scenario
async def timeout_none():  # test_timeout_disabled
    async with asyncio.timeout(None) as cm:
        await asyncio.sleep(10 * ms)
    log(f"ok expired {int(cm.expired())}")


@scenario
async def timeout_zero_sleep_zero():  # test_timeout_zero_sleep_zero
    try:
        async with asyncio.timeout(0):
            await asyncio.sleep(0)
        log("not cut")
    except TimeoutError as e:
        log(f"sleep(0) {en(e)}")


@scenario
async def timeout_in_the_past_sleep_zero():  # test_timeout_in_the_past_sleep_zero
    try:
        async with asyncio.timeout(-11):
            await asyncio.sleep(0)
        log("not cut")
    except TimeoutError as e:
        log(f"sleep(0) {en(e)}")


@scenario
async def timeout_nested_inner():  # test_nested_timeouts (inner expires, outer lives)
    async with asyncio.timeout(100 * 10 * ms) as outer:
        try:
            async with asyncio.timeout(2 * 10 * ms):
                await asyncio.sleep(100)
        except TimeoutError as e:
            log(f"inner {en(e)}")
        await asyncio.sleep(0)
    log(f"outer expired {int(outer.expired())}")


@scenario
async def timeout_cpu_loop():  # a CPU-bound loop that yields under a deadline (issue 15)
    import time
    rounds = 0
    try:
        async with asyncio.timeout(3 * 10 * ms):
            while rounds < 300:
                time.sleep(ms)
                await asyncio.sleep(0)
                rounds += 1
    except TimeoutError as e:
        log(f"loop {en(e)} early {int(rounds < 200)}")


# --------------------------------------------------------------------------
# Task groups (test_taskgroups.py)


@scenario
async def taskgroup_results():  # test_taskgroup_01
    async with asyncio.TaskGroup() as g:
        a = g.create_task(after(2, "a"))
        b = g.create_task(after(1, "b"))
    log(f"results {a.result()} {b.result()}")


@scenario
async def taskgroup_child_error():  # test_cancel_children_on_child_error
    async def child(i):
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            log(f"child {i} cancelled")
            raise
    try:
        async with asyncio.TaskGroup() as g:
            # One sleeping sibling: asyncio cancels a group's children in the
            # order of a set (of task ids), coscope in its own order.
            g.create_task(child(1))
            g.create_task(after(1, "EIO", True))
            try:
                await asyncio.sleep(100)
                log("body slept on")
            except asyncio.CancelledError as e:
                log(f"body {en(e)}")
                raise
    except BaseExceptionGroup as e:
        log(f"group {en(e)}")
    log(f"cancelling {asyncio.current_task().cancelling()}")


@scenario
async def taskgroup_cancelled_from_outside():  # test_taskgroup_cancel_parent (children cancelled)
    async def child(i):
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            log(f"child {i} cancelled")
            raise

    async def owner():
        async with asyncio.TaskGroup() as g:
            g.create_task(child(1))  # one child: see taskgroup_child_error
    t = asyncio.create_task(owner())
    await asyncio.sleep(10 * ms)
    t.cancel()
    await asyncio.wait([t])
    log(f"owner {res(t)}")


@deliberate("co_group_wait returns the first child's error, not a group of all of them "
            "(an int return has room for one error)",
            asyncio=["end EIO", "end EPIPE", "group EIO+EPIPE"],
            coscope=["end EIO", "end EPIPE", "group EIO"])
async def taskgroup_two_errors():  # test_taskgroup_05-style: two children fail in one turn
    try:
        async with asyncio.TaskGroup() as g:
            g.create_task(after(1, "EIO", True))
            g.create_task(after(1, "EPIPE", True))
    except BaseExceptionGroup as e:
        log("group " + "+".join(en(x) for x in e.exceptions))


# --------------------------------------------------------------------------
# Cancellation (test_tasks.py)


@scenario
async def cancel_at_end():  # test_cancel_at_end
    async def task():
        asyncio.current_task().cancel()
        return 12
    t = asyncio.create_task(task())
    await asyncio.wait([t])
    log(f"task {res(t)}")


@scenario
async def cancel_yield():  # test_cancel_yield
    async def task():
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return 12
    t = asyncio.create_task(task())
    await asyncio.sleep(0)  # t is inside its first sleep(0)
    t.cancel()
    await asyncio.wait([t])
    log(f"task {res(t)}")


@scenario
async def cancel_before_start():  # test_cancel (a task cancelled before it ran)
    async def task():
        log("ran")
        return 1
    t = asyncio.create_task(task())
    t.cancel()
    await asyncio.wait([t])
    log(f"task {res(t)}")


@scenario
async def cancel_cleanup_awaits():  # test_cancel_inner_future-style cleanup that awaits
    t = asyncio.create_task(sleeper("a", 100))
    await asyncio.sleep(0)
    t.cancel()
    await asyncio.wait([t])
    log(f"task {res(t)}")


@deliberate("awaiting a task shields it: cancelling the awaiter leaves the awaited task "
            "running and still owned (co_wait_for or co_cancel cancel it)",
            asyncio=["inner cancelled", "outer ECANCELED"],
            coscope=["outer ECANCELED", "inner done"])
async def cancel_awaiter():  # test_cancel_inner_future: the awaited one is cancelled too
    async def inner():
        try:
            await asyncio.sleep(2 * 10 * ms)
        except asyncio.CancelledError:
            log("inner cancelled")
            raise
        log("inner done")

    it = asyncio.create_task(inner())

    async def outer():
        await it
    o = asyncio.create_task(outer())
    await asyncio.sleep(0)
    o.cancel()
    await asyncio.wait([o])
    log(f"outer {res(o)}")
    await asyncio.wait([it])


@scenario
async def spawn_fifo():  # test_create_task: tasks start in creation order, after the creator yields
    async def t(i):
        log(f"t{i}")
    ts = [asyncio.create_task(t(i)) for i in (1, 2, 3)]
    log("creator first")
    await asyncio.gather(*ts)


def main():
    only = sys.argv[1:]
    for fn, mark in SCENARIOS:
        if only and fn.__name__ not in only:
            continue
        OUT.clear()
        asyncio.run(fn())
        print(f"== {fn.__name__}")
        if mark is None:
            print("\n".join(OUT))
            continue
        why, py_lines, c_lines = mark
        print(f"# deliberate: {why}")
        print("# asyncio: " + " | ".join(py_lines))
        if OUT != py_lines:
            print("!! asyncio no longer prints what the mark says: " + " | ".join(OUT))
        print("\n".join(c_lines))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
