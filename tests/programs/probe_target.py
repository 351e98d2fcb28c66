"""Known events for the probe toolkit: a thread blocked in blocked_here, the
main thread waiting in main_wait, a handled KeyError raised in marked, a
ValueError unwinding unwinder, a gc collection of a cycle."""
import gc
import threading
import time

release = threading.Event()


def blocked_here():
    release.wait(20)


def unwinder():
    raise ValueError("out")


def marked():
    try:
        raise KeyError("k")
    except KeyError:
        pass
    return 1


def outer():
    return marked()


def main_wait(seconds):
    time.sleep(seconds)


def main():
    t = threading.Thread(target=blocked_here, name="blocker")
    t.start()
    outer()
    try:
        unwinder()
    except ValueError:
        pass
    a, b = [], []
    a.append(b)
    b.append(a)
    del a, b
    print("collected", gc.collect() >= 2)
    main_wait(0.7)
    release.set()
    t.join()
    print("done")


main()
