"""Programs of known memory behaviour for the mem toolkit's tests.

grow:  keeps 1 MB more every 20 ms, 80 times (80 MB)
gc:    builds reference cycles and forces gc.collect() 5 times
types: keeps 50,000 instances of its own class Blob
threads: allocates and frees in 4 threads (no lock held in C code:
         bytes() of large sizes release nothing, but threads interleave)
heap FILE: keeps 2,000,000 tuples of two new ints, then interns and keeps
         100,000 new strings; writes to FILE the wall-clock times (ns)
         of the phases: start, tuples started and made, strings started and
         interned, end
frag:    2 x 150,000 bytes objects of 600-700 bytes (from malloc), every
         other one dropped: 150,000 free chunks in glibc's heap, kept 1.5 s
"""
import gc
import sys
import threading
import time


class Blob:
    def __init__(self, i):
        self.i = i


def grow():
    kept = []
    for _ in range(80):
        kept.append(bytearray(1 << 20))
        time.sleep(0.02)
    time.sleep(0.3)
    print("grew", len(kept))


def cycles():
    for _ in range(5):
        nodes = [[] for _ in range(50000)]
        for a, b in zip(nodes, nodes[1:]):
            a.append(b)
            b.append(a)
        del nodes
        gc.collect()
        time.sleep(0.05)
    time.sleep(0.3)
    print("collected")


KEPT = []


def types():
    # kept to the end, so the count at exit sees them whatever the timing
    KEPT.extend(Blob(i) for i in range(50000))
    time.sleep(0.3)
    print("blobs", len(KEPT))


def threads():
    def work():
        for i in range(3000):
            x = [bytes(1000) for _ in range(20)]
            del x
    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("threads done")


def heap():
    # each phase long enough for the costly figures, read at most 1% of
    # the time, to be read at least once (a walk of 5 ms skips 0.5 s)
    marks = [time.time_ns()]
    time.sleep(0.6)
    marks.append(time.time_ns())
    kept = [(i, -i) for i in range(2000000)]
    marks.append(time.time_ns())
    time.sleep(1.2)
    marks.append(time.time_ns())
    names = [sys.intern("loong_test_%d_name" % i) for i in range(100000)]
    marks.append(time.time_ns())
    time.sleep(1.2)
    marks.append(time.time_ns())
    with open(sys.argv[2], "w") as f:
        f.write(" ".join(map(str, marks)))
    print("heap", len(kept), len(names))


def frag():
    held = [b"x" * (600 + (i % 7) * 16) for i in range(300000)]
    del held[::2]
    time.sleep(1.5)
    print("fragmented", len(held))


if __name__ == "__main__":
    {"grow": grow, "gc": cycles, "types": types, "threads": threads,
     "heap": heap, "frag": frag}[sys.argv[1]]()
