"""Known work for the function toolkit's sample mode (tests/e2e/test_sample.py)."""
import os
import sys
import threading
import time

from rare_helper import Helper  # for "rarely": a class from elsewhere


def spin_for(sec):
    t = time.time()
    x = 0
    while time.time() - t < sec:
        x += 1
    return x


def sleeper_wait(sec):
    time.sleep(sec)


def hold_lock(n):
    # one long C call that never releases the interpreter lock
    data = [(i * 7919) % 1000003 for i in range(n)]
    t = time.time()
    while time.time() - t < 0.6:
        sorted(data)


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


def make_points(sec):
    # instances made in a hot loop: 3.13 runs __init__ below a shim frame
    # whose code object lives in read-only memory
    t = time.time()
    n = 0
    while time.time() - t < sec:
        for i in range(1000):
            Point(i, i)
        n += 1000
    return n


def busy(sec):
    t = time.perf_counter()
    while time.perf_counter() - t < sec:
        pass


def rare_outer():
    def rare_inner():
        busy(0.0003)
    rare_inner()


class Rare:
    @staticmethod
    def tick():
        busy(0.0003)

    @classmethod
    def made(cls):
        busy(0.0003)

    @property
    def size(self):
        busy(0.0003)
        return 1


def rarely(sec, ref):
    # five functions on the stack 3% of the time each: one nested, a
    # static method, a class method, a property's getter, and a method of
    # a class imported from another module: a registration pass seldom
    # catches them on a stack
    helper = Helper()
    rare = Rare()
    spent = [0.0] * 5
    end = time.perf_counter() + sec
    while time.perf_counter() < end:
        busy(0.01)
        t0 = time.perf_counter()
        rare_outer()
        t1 = time.perf_counter()
        Rare.tick()
        t2 = time.perf_counter()
        helper.tick()
        t3 = time.perf_counter()
        Rare.made()
        t4 = time.perf_counter()
        rare.size
        t5 = time.perf_counter()
        for i, (a, b) in enumerate([(t0, t1), (t1, t2), (t2, t3), (t3, t4),
                                    (t4, t5)]):
            spent[i] += b - a
    with open(ref, "w") as f:
        f.write("%d %d %d %d %d\n" % tuple(x * 1e6 for x in spent))


def pulse(sec, ref):
    # a thread that works 0.05 ms, then sleeps 2 ms: waiting at every
    # sample, yet its CPU time is real
    c0 = time.thread_time()
    end = time.perf_counter() + sec
    while time.perf_counter() < end:
        t = time.perf_counter()
        while time.perf_counter() - t < 0.00005:
            pass
        time.sleep(0.002)
    with open(ref, "w") as f:
        f.write("%d\n" % ((time.thread_time() - c0) * 1e6))


def call_hidden(fn):
    fn()


def hidden_calls(sec):
    # a function made by exec with globals of its own: no module to find it
    # through, so it is named only if a pass finds it on a stack (2% of the
    # time); if not, its frames are left out and counted
    g = {"time": time}
    exec("def hidden():\n"
         "    t = time.perf_counter()\n"
         "    while time.perf_counter() - t < 0.0002:\n"
         "        pass\n", g)
    end = time.perf_counter() + sec
    while time.perf_counter() < end:
        busy(0.01)
        call_hidden(g["hidden"])


def tasks():
    return len(os.listdir("/proc/self/task"))


mode = sys.argv[1]
if mode == "threads":
    ts = [threading.Thread(target=spin_for, args=(1.2,)),
          threading.Thread(target=sleeper_wait, args=(1.2,))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
elif mode == "inits":
    make_points(1.0)
elif mode == "rarely":
    rarely(2.0, sys.argv[2])
elif mode == "pulses":
    th = threading.Thread(target=pulse, args=(1.5, sys.argv[2]))
    th.start()
    th.join()
elif mode == "hidden":
    hidden_calls(1.5)
elif mode == "holdlock":
    spin_for(0.3)  # warm-up: every code on the stack gets known
    hold_lock(2000000)
elif mode == "unload":
    import loong
    before = tasks()
    for _ in range(3):
        loong.load("function:mode=sample,hz=1000")
        spin_for(0.2)
        st = loong.status()
        assert st["sample_rounds"] > 0, st
        loong.unload("function")
        print("tasks back:", tasks() == before)
    print("locked:", loong.status()["sample_locked"])
print("done")
