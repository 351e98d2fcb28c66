"""Time spent in C functions called from Python."""
import time


def cwork():
    for i in range(10):
        sorted(range(100, 0, -1))
    time.sleep(0.06)


cwork()
print("done")
