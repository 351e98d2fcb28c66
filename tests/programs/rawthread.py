"""A thread started with _thread (not threading) calling work()."""
import _thread
import time

done = []


def work(i):
    return i


def body():
    t = time.time()
    while time.time() - t < 0.6:
        for i in range(100):
            work(i)
        time.sleep(0.001)
    done.append(1)


_thread.start_new_thread(body, ())
while not done:
    time.sleep(0.01)
print("ok")
