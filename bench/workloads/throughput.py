"""Throughput of one kernel over a fixed time: how much work the program
gets done per second, measured inside it, after a warm-up, so neither
start-up nor exit counts.

    throughput.py KERNEL SECONDS

KERNEL: recursion, methods, deep (recursion under a 60-frame stack),
threads (four threads of recursion), asyncio (tasks awaiting each other),
allocs (small objects, dicts, strings, bytes and tuples made and dropped:
about one allocation every 100 ns).
Prints "ops_per_s N" on its last line."""
import asyncio
import sys
import threading
import time

WARMUP = 0.5


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def add(self, other):
        return Point(self.x + other.x, self.y + other.y)

    def norm1(self):
        return abs(self.x) + abs(self.y)


def methods_unit():
    p = Point(0, 0)
    for i in range(200):
        p = p.add(Point(i, -i))
    return p.norm1()


def down(depth, work):
    return work() if depth == 0 else down(depth - 1, work)


def timed(unit, seconds):
    """Units done per second in [WARMUP, seconds), on this thread."""
    end_warm = time.monotonic() + WARMUP
    while time.monotonic() < end_warm:
        unit()
    n, t0 = 0, time.monotonic()
    deadline = t0 + seconds - WARMUP
    while time.monotonic() < deadline:
        unit()
        n += 1
    return n / (time.monotonic() - t0)


def threaded(seconds, nthreads=4):
    rates = [0.0] * nthreads

    def run(i):
        rates[i] = timed(lambda: fib(15), seconds)
    ts = [threading.Thread(target=run, args=(i,)) for i in range(nthreads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(rates)


async def leaf(i):
    await asyncio.sleep(0)
    return fib(8) + i


async def fan_out():
    return sum(await asyncio.gather(*(leaf(i) for i in range(20))))


def asyncio_rate(seconds):
    async def main():
        loop = asyncio.get_running_loop()
        end_warm = loop.time() + WARMUP
        while loop.time() < end_warm:
            await fan_out()
        n, t0 = 0, loop.time()
        while loop.time() < t0 + seconds - WARMUP:
            await fan_out()
            n += 1
        return n / (loop.time() - t0)
    return asyncio.run(main())


class Pair:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x, self.y = x, y


def allocs_unit(n=2000):
    pts = [Pair(i, i + 1) for i in range(n)]
    d = {i: str(i) for i in range(n)}
    s = [("k%d" % i) * (1 + i % 8) for i in range(n)]
    b = [bytes(64 + (i % 32) * 64) for i in range(n // 4)]
    t = [(i, i) for i in range(n)]
    return len(pts) + len(d) + len(s) + len(b) + len(t)


KERNELS = {
    "recursion": lambda s: timed(lambda: fib(15), s),
    "methods": lambda s: timed(methods_unit, s),
    "deep": lambda s: timed(lambda: down(60, lambda: fib(12)), s),
    "threads": threaded,
    "asyncio": asyncio_rate,
    "allocs": lambda s: timed(allocs_unit, s),
}

if __name__ == "__main__":
    kernel, seconds = sys.argv[1], float(sys.argv[2])
    print("ops_per_s %.1f" % KERNELS[kernel](seconds))
