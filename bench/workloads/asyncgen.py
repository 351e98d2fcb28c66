"""Generators and asyncio: generator pipelines, coroutines awaiting sleep(0)."""
import asyncio


def numbers(n):
    for i in range(n):
        yield i


def squares(src):
    for v in src:
        yield v * v


def evens(src):
    for v in src:
        if v % 2 == 0:
            yield v


def pipeline(n):
    return sum(evens(squares(numbers(n))))


async def ticker(idx, rounds, box):
    acc = 0
    for r in range(rounds):
        acc = (acc * 3 + idx + r) % 65521
        await asyncio.sleep(0)
    box.append(acc)


async def crowd(tasks, rounds):
    box = []
    await asyncio.gather(*(ticker(i, rounds, box) for i in range(tasks)))
    return sum(box)


def main():
    total = 0
    for n in (720000, 840000, 960000):
        total += pipeline(n)
    total += asyncio.run(crowd(50, 4800))
    print(total)


main()
