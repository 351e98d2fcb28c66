"""A program loong attaches to while it runs (tests/e2e/test_attach.py).

    attach_target.py MODE SECONDS

It prints "ready", then spends SECONDS in MODE and prints one line that
says whether its own wait was complete (never cut short):
cpu (Python calls), sleep (time.sleep), select (on a pipe), recv (a
socket with a timeout), threads (four threads calling, the main one
joining them), alloc (four threads allocating as fast as they can, the
main one joining them), hash (the main thread inside hashlib on 32 MB at a
time: a C call that released the interpreter lock, while a thread calls).
Its output is the same with and without loong.
"""
import os
import select
import socket
import sys
import time


def work(n):
    return n + 1


def cpu(seconds):
    end = time.monotonic() + seconds
    calls = 0
    while time.monotonic() < end:
        for i in range(1000):
            work(i)
        calls += 1000
    return "cpu complete" if calls > 0 else "cpu empty"


def alloc(seconds):
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        keep = [{"k": [i] * 8, "s": "x" * (i % 200), "b": bytes(i % 4096)}
                for i in range(2000)]
        n += len(keep)
    return n


def hash_loop(seconds):
    import hashlib
    import threading
    data = b"\x5a" * (32 << 20)
    want = hashlib.sha256(data).hexdigest()
    t = threading.Thread(target=cpu, args=(seconds,))
    t.start()
    end = time.monotonic() + seconds
    same = True
    while time.monotonic() < end:
        same = same and hashlib.sha256(data).hexdigest() == want
    t.join()
    return "hash complete" if same else "hash DIFFERENT"


def timed(seconds, wait):
    t0 = time.monotonic()
    wait()
    elapsed = time.monotonic() - t0
    return "complete" if elapsed >= seconds else "SHORT %.3f" % elapsed


def main():
    mode, seconds = sys.argv[1], float(sys.argv[2])
    print("ready", flush=True)
    if mode == "cpu":
        print(cpu(seconds))
    elif mode == "sleep":
        print("sleep", timed(seconds, lambda: time.sleep(seconds)))
    elif mode == "select":
        r, w = os.pipe()
        print("select", timed(seconds, lambda: select.select([r], [], [],
                                                             seconds)))
    elif mode == "recv":
        a, b = socket.socketpair()
        a.settimeout(seconds)

        def recv():
            try:
                a.recv(1)
            except socket.timeout:
                pass
        print("recv", timed(seconds, recv))
    elif mode == "threads":
        import threading
        threads = [threading.Thread(target=cpu, args=(seconds,))
                   for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print("threads", len(threads), "joined")
    elif mode == "alloc":
        import threading
        threads = [threading.Thread(target=alloc, args=(seconds,))
                   for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print("alloc", len(threads), "joined")
    elif mode == "hash":
        print(hash_loop(seconds))
    else:
        sys.exit("unknown mode " + mode)
    sys.stdout.flush()
    sys.exit(3)  # a status of its own, kept


if __name__ == "__main__":
    main()
