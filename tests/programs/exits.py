"""Ends the way argv[1] says, after some work and some output."""
import os
import sys
import time


def work(n):
    return sum(i for i in range(n))


def main(mode):
    for _ in range(200):
        work(100)
    print("out: working", flush=True)
    print("err: working", file=sys.stderr, flush=True)
    if mode == "normal":
        print("bye")
    elif mode == "sysexit":
        sys.exit(3)
    elif mode == "exception":
        raise ValueError("boom")
    elif mode == "osexit":
        sys.stdout.flush()
        os._exit(7)
    elif mode == "sigterm":
        print("ready", flush=True)
        time.sleep(60)


if __name__ == "__main__":
    main(sys.argv[1])
