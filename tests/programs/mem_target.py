"""Programs of known memory behaviour for the mem toolkit's tests.

grow:  keeps 1 MB more every 20 ms, 80 times (80 MB)
gc:    builds reference cycles and forces gc.collect() 5 times
types: keeps 50,000 instances of its own class Blob
threads: allocates and frees in 4 threads (no lock held in C code:
         bytes() of large sizes release nothing, but threads interleave)
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


if __name__ == "__main__":
    {"grow": grow, "gc": cycles, "types": types,
     "threads": threads}[sys.argv[1]]()
