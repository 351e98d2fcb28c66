"""Signal cases for tests/e2e/test_signals.py; argv[1] picks one. Each
prints "ready" (unbuffered) when the test may send its signal, and never
waits more than a few seconds."""
import os
import signal
import sys
import threading
import time


def say(text):
    os.write(1, (text + "\n").encode())  # no buffered I/O around signals


def work(n):
    return sum(i for i in range(n))


def wait_for(flag, seconds):
    deadline = time.time() + seconds
    while not flag and time.time() < deadline:
        time.sleep(0.005)


def hname(h):
    if h is None:
        return "None"
    if h == signal.SIG_DFL:
        return "SIG_DFL"
    if h == signal.SIG_IGN:
        return "SIG_IGN"
    return getattr(h, "__name__", repr(h))


def dispositions():
    sigs = sorted(signal.valid_signals())
    for s in sigs:
        if s in (signal.SIGKILL, signal.SIGSTOP):
            continue
        say("%d %s" % (s, hname(signal.getsignal(s))))
    say("mask %s" % sorted(signal.pthread_sigmask(signal.SIG_BLOCK, [])))
    # Signals 32 and 33 are glibc's own (thread cancellation, setxid): glibc
    # installs its handler when a process starts its first thread, which
    # loong's flusher does early, so an inherited SIG_IGN for them is gone
    # sooner than it would be. Python cannot see or use them; the rest of
    # the masks must be the same.
    glibc = (1 << 31) | (1 << 32)
    for line in open("/proc/self/status"):
        if line.startswith(("SigIgn:", "SigBlk:")):
            key, value = line.split()
            say("%s %016x" % (key, int(value, 16) & ~glibc))
    seen = []
    t = threading.Thread(target=lambda: seen.append(
        sorted(signal.pthread_sigmask(signal.SIG_BLOCK, []))))
    t.start()
    t.join()
    say("thread mask %s" % seen)


def main(mode):
    for _ in range(50):
        work(100)
    if mode == "dispositions":
        dispositions()
    elif mode == "ignore_term":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        say("ready")
        time.sleep(0.15)
        say("survived")
    elif mode == "inherited":
        say("SIGTERM is %s" % hname(signal.getsignal(signal.SIGTERM)))
        say("ready")
        time.sleep(0.15)
        say("survived")
    elif mode == "continue":
        got = []
        signal.signal(signal.SIGTERM, lambda s, f: got.append(s))
        say("ready")
        wait_for(got, 10)
        say("handled %s, going on" % got)
        for _ in range(50):
            work(100)
        say("after")
        sys.exit(5)
    elif mode == "selfkill":
        say("killing myself")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
        say("still alive")
    elif mode == "sigwait":
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        say("ready")
        info = signal.sigtimedwait({signal.SIGTERM}, 10)
        say("got %s" % (info.si_signo if info else "nothing"))
    elif mode == "raw_int":
        say("ready")
        time.sleep(10)
        say("not interrupted")
    elif mode == "threads_term":
        def on_term(signum, frame):
            say("handled %d in %s" % (signum,
                                      threading.current_thread().name))
            sys.exit(9)
        signal.signal(signal.SIGTERM, on_term)
        stop = []

        def spin():
            while not stop:
                work(50)
        for i in range(3):
            threading.Thread(target=spin, daemon=True).start()
        say("ready")
        wait_for([], 10)  # the handler ends this wait
        say("no signal came")


if __name__ == "__main__":
    main(sys.argv[1])
