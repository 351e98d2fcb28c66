"""For the HTML report: hot() burns three times the CPU of cold(), in
turns; slow() sleeps past a slow= threshold in two calls of nap()."""
import time


def hot():
    s = 0
    for i in range(1500000):
        s += i
    return s


def cold():
    s = 0
    for i in range(500000):
        s += i
    return s


def nap():
    time.sleep(0.025)


def slow():
    nap()
    nap()


for _ in range(4):
    hot()
    cold()
slow()
print("done")
