"""Loop-heavy numeric code: arithmetic in nested loops, almost no calls."""


def main():
    n = 550
    acc = 0
    for i in range(n):
        row = 0
        for j in range(n):
            for k in range(12):
                row = (row * 31 + i * j + k) % 1000003
        acc = (acc + row) % 1000000007
    x = 0.0
    for i in range(1, 2100000):
        x += (i % 17) * 0.5 - (i % 5) * 1.25
    print(acc, round(x, 3))


main()
