"""A program with its own SIGTERM handler, or waiting for SIGINT."""
import os
import signal
import sys
import time


def on_term(signum, frame):
    os.write(1, b"handled %d\n" % signum)  # no buffered I/O in a handler
    sys.exit(9)


try:
    if sys.argv[1] == "term":
        signal.signal(signal.SIGTERM, on_term)
    os.write(1, b"ready\n")
    time.sleep(30)
except KeyboardInterrupt:
    os.write(1, b"interrupted\n")
    sys.exit(4)
