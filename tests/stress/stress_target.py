"""The process tests/stress/attach_stress.py attaches to, over and over.

    stress_target.py

Prints "ready", then until its stdin closes alternates Python calls (about
2 ms) and time.sleep(0.002) on its main thread while a second thread
sleeps in 5 ms steps. Then it prints one line per thread saying whether
every sleep lasted at least what was asked (never cut short), and exits
with status 3. Its output is the same with and without loong.
"""
import os
import sys
import threading
import time

stop = threading.Event()
short = {"main": 0, "sleeper": 0}


def work(n):
    return n + 1


def nap(who, seconds):
    t0 = time.monotonic()
    time.sleep(seconds)
    if time.monotonic() - t0 < seconds:
        short[who] += 1


def sleeper():
    while not stop.is_set():
        nap("sleeper", 0.005)


def watch_stdin():
    while os.read(0, 4096):
        pass
    stop.set()


def main():
    threading.Thread(target=watch_stdin, daemon=True).start()
    t = threading.Thread(target=sleeper)
    t.start()
    print("ready", flush=True)
    while not stop.is_set():
        end = time.monotonic() + 0.002
        while time.monotonic() < end:
            for i in range(100):
                work(i)
        nap("main", 0.002)
    t.join()
    for who in ("main", "sleeper"):
        print(who, "sleeps complete" if not short[who] else
              "%d sleeps SHORT" % short[who])
    sys.stdout.flush()
    sys.exit(3)


if __name__ == "__main__":
    main()
