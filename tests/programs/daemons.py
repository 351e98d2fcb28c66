"""Daemon threads still running Python when the main thread exits."""
import sys
import threading


def spin():
    n = 0
    while True:
        n += len(str(n))


for _ in range(3):
    threading.Thread(target=spin, daemon=True).start()
print("exiting")
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
