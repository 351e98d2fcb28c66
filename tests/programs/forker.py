"""os.fork: parent and child each do known work."""
import os
import sys


def parent_work(i):
    return i


def child_work(i):
    return i


if __name__ == "__main__":
    for i in range(100):
        parent_work(i)
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        for i in range(300):
            child_work(i)
        print("child done", flush=True)
        sys.exit(0)
    _, status = os.waitpid(pid, 0)
    print("parent done", status >> 8)
