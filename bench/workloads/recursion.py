"""Recursion: naive Fibonacci, nothing but Python calls and returns."""


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def main():
    total = 0
    for n in (32, 33):
        total += fib(n)
    print(total)


main()
