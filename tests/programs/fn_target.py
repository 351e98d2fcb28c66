"""Known work for the function toolkit (see tests/e2e/test_function.py)."""
import sys
import threading
import time


def spin(n):
    x = 0
    for i in range(n):
        x += i
    return x


SCALE = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[1] == "split" else 1


def a():
    return spin(75000 * SCALE)


def b():
    return spin(25000 * SCALE)


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def slowgen():
    for i in range(3):
        yield i


def consume():
    for _ in slowgen():
        time.sleep(0.1)


def boom(depth):
    if depth == 0:
        raise ValueError("deep")
    boom(depth - 1)


def after():
    pass


def catcher():
    for _ in range(5):
        try:
            boom(3)
        except ValueError:
            pass
    after()


def leafw():
    pass


def worker():
    for _ in range(100):
        leafw()


if sys.argv[1] == "split":
    # optional: measure the split ourselves (argv: split CLOCK FILE
    # [ROUNDS [SCALE]]), the reference the profiler's figures are compared
    # with; SCALE makes each call longer (fewer a/b switches per second)
    clock = time.thread_time_ns
    if len(sys.argv) > 2 and sys.argv[2] == "wall":
        clock = time.perf_counter_ns
    ta = tb = 0
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    for _ in range(rounds):
        t0 = clock()
        a()
        t1 = clock()
        b()
        t2 = clock()
        ta += t1 - t0
        tb += t2 - t1
    if len(sys.argv) > 3:
        with open(sys.argv[3], "w") as f:
            f.write("%d %d\n" % (ta, tb))
else:
    print(fib(15))
    consume()
    catcher()
    ts = [threading.Thread(target=worker) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
print("done")
