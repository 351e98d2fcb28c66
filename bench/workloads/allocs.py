"""An allocation-heavy workload: small objects, containers, strings and
bytes of varied sizes, made and dropped (about 7 million allocations)."""


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


def round_(n):
    pts = [Point(i, i + 1) for i in range(n)]
    d = {i: str(i) for i in range(n)}
    s = [("k%d" % i) * (1 + i % 8) for i in range(n)]
    b = [bytes(64 + (i % 32) * 64) for i in range(n // 4)]
    t = [(i, i) for i in range(n)]
    return len(pts) + len(d) + len(s) + len(b) + len(t)


def main():
    total = 0
    for _ in range(20):
        total += round_(50000)
    print(total)


main()
