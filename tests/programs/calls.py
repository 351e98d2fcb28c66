"""Known call counts: leaf n times, mid once, gen started once."""
import sys


def leaf(x):
    return x + 1


def mid(n):
    total = 0
    for i in range(n):
        total += leaf(i)
    return total


def gen(n):
    for i in range(n):
        yield i


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    print(mid(n))
    print(sum(gen(n)))
    print(sys.argv[1:])
