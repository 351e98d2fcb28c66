"""The same work again and again for SECONDS (argv[1]): recursion, methods,
generators, exceptions and three threads; its call paths are all known
after the first seconds, so a profiler's memory should stop growing."""
import sys
import threading
import time


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Account:
    def __init__(self):
        self.total = 0

    def add(self, v):
        self.total += v

    def value(self):
        return self.total


def numbers(n):
    for i in range(n):
        yield i * i


def risky(i):
    if i % 7 == 0:
        raise ValueError(i)
    return i


def work():
    acc = Account()
    for v in numbers(2000):
        acc.add(v)
    for i in range(200):
        try:
            risky(i)
        except ValueError:
            pass
    return fib(15) + acc.value()


def loop(deadline, out, k):
    n = 0
    while time.monotonic() < deadline:
        work()
        n += 1
    out[k] = n


deadline = time.monotonic() + float(sys.argv[1])
counts = {}
threads = [threading.Thread(target=loop, args=(deadline, counts, k))
           for k in range(3)]
for t in threads:
    t.start()
loop(deadline, counts, "main")
for t in threads:
    t.join()
print("%d rounds" % sum(counts.values()))
