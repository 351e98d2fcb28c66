"""A known leak: leak() keeps bytearray(100_000) 200 times (20 MB) in a
global list, while churn() allocates and frees a lot elsewhere."""
import sys

KEPT = []


def leak():
    KEPT.append(bytearray(100_000))


def churn():
    junk = []
    for i in range(2000):
        junk.append(bytes(500) + b"x" * (i % 50))
        if len(junk) > 100:
            junk.clear()
    d = {i: str(i) * 3 for i in range(2000)}
    return len(d)


def main(n):
    for _ in range(n):
        leak()
        churn()
    print("kept", sum(len(b) for b in KEPT))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
