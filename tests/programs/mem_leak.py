"""A known leak: leak() keeps bytearray(100_000) 200 times (20 MB) in a
global list, while churn() allocates and frees a lot elsewhere.

    mem_leak.py [N] [small] [tracemalloc]

small: leak_small() keeps 750 bytes(100) a call instead (small blocks,
pymalloc's, 99,750 bytes requested a call), and grow() builds small lists
by appending (reallocations), checks and drops them. tracemalloc: the
program starts tracemalloc itself first (and leaves it on: stopping it is
tracemalloc_toggle.py's job)."""
import sys

KEPT = []


def leak():
    KEPT.append(bytearray(100_000))


def leak_small():
    for _ in range(750):
        KEPT.append(bytes(100))


def grow():
    for _ in range(300):
        lst = []
        for j in range(40):
            lst.append(j)
        if sum(lst) != 780:
            raise SystemExit("a list lost its items")


def churn():
    junk = []
    for i in range(2000):
        junk.append(bytes(500) + b"x" * (i % 50))
        if len(junk) > 100:
            junk.clear()
    d = {i: str(i) * 3 for i in range(2000)}
    return len(d)


def main(n, small):
    for _ in range(n):
        if small:
            leak_small()
            grow()
        else:
            leak()
        churn()
    print("kept", sum(len(b) for b in KEPT))


if __name__ == "__main__":
    args = sys.argv[1:]
    if "tracemalloc" in args:
        import tracemalloc
        tracemalloc.start()
    main(int(args[0]) if args else 200, "small" in args)
    if "tracemalloc" in args:
        print("tracemalloc saw", "much" if tracemalloc.get_traced_memory()[0]
              > 10_000_000 else "little")
