"""Generators and coroutines with known event counts (tests/e2e/test_api.py).

Instances started: g 5 (3 by list(), 1 under deleg, 1 closed early),
deleg 1, co 1, agen 1, consume 1, thrower 1; never_started 0. Suspensions
(yields) in these functions: 74 below 3.12 (where the async comprehension
in consume is a function of its own), 70 from 3.12.
"""
import asyncio


def g():
    for i in range(10):
        yield i


def deleg():
    yield from g()


async def co():
    for _ in range(5):
        await asyncio.sleep(0)


async def agen():
    for i in range(4):
        yield i
        await asyncio.sleep(0)


async def consume():
    return [x async for x in agen()]


def thrower():
    try:
        yield 1
    except KeyError:
        yield 2


def never_started():
    yield 1


if __name__ == "__main__":
    for _ in range(3):
        list(g())
    print(list(deleg()))
    asyncio.run(co())
    print(asyncio.run(consume()))
    t = thrower()
    next(t)
    print(t.throw(KeyError))  # resumes thrower: not a new start
    t.close()                 # nor is this
    u = g()
    next(u)
    u.close()
    n = never_started()
    n.close()
    print("ok")
