"""N threads, each calling work() K times; output is deterministic."""
import sys
import threading


def work(i):
    return i * 2


def body(k, out, idx):
    out[idx] = sum(work(i) for i in range(k))


if __name__ == "__main__":
    n, k = int(sys.argv[1]), int(sys.argv[2])
    out = [0] * n
    ts = [threading.Thread(target=body, args=(k, out, i)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(out)
    print(threading.active_count())
