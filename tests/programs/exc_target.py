"""Known exceptions for the exception toolkit (tests/e2e/test_exception.py).
Counts: see EXPECTED in the test."""
import asyncio
import sys
import threading


class AppError(Exception):
    pass


def lookup(d, k):
    return d[k]                       # KeyError, caught by the caller


def caught_keyerrors(n):
    for i in range(n):
        try:
            lookup({}, "user%d" % i)
        except KeyError:
            pass


def deep(n):
    if n == 0:
        raise AppError("deep failure")
    deep(n - 1)


def caught_deep():
    try:
        deep(5)
    except AppError:
        pass


def chained():
    try:
        int("x")                      # ValueError, handled
    except ValueError as e:
        try:
            raise AppError("wrapped") from e
        except AppError:
            pass


def reraised():
    try:
        try:
            raise TypeError("again")
        except TypeError:
            raise                     # the same exception: one raise
    except TypeError:
        pass


def gen():
    yield 1
    raise LookupError("in gen")


def in_generator():
    try:
        for _ in gen():
            pass
    except LookupError:
        pass


async def coro():
    await asyncio.sleep(0)
    raise OSError("in coro")


def in_coroutine():
    try:
        asyncio.run(coro())
    except OSError:
        pass


def thread_body():
    raise RuntimeError("thread dies")


def in_thread():
    threading.excepthook = lambda args: None   # keep stderr quiet
    t = threading.Thread(target=thread_body)
    t.start()
    t.join()


caught_keyerrors(1000)
caught_deep()
chained()
reraised()
in_generator()
in_coroutine()
in_thread()
print("done")
sys.stdout.flush()
if len(sys.argv) > 1 and sys.argv[1] == "die":
    1 / 0                             # uncaught: ends the process
