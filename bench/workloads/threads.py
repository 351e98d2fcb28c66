"""Four threads, each making many small Python calls (they share the GIL)."""
import threading

THREADS = 4


def leaf(a, b):
    return (a * 7 + b) % 10007


def middle(seed, n):
    v = seed
    for i in range(n):
        v = leaf(v, i)
    return v


def worker(idx, out):
    total = 0
    for r in range(3000):
        total += middle(idx * 1000 + r, 500)
    out[idx] = total


def main():
    out = [0] * THREADS
    threads = [threading.Thread(target=worker, args=(i, out))
               for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sum(out))


main()
