"""tracemalloc started and stopped over and over for SECONDS (default 1.5):
each round traces 200 blocks it keeps, checks the traced size, and stops.
Prints whether every round traced them, never the count (which varies)."""
import sys
import time
import tracemalloc


def main(seconds):
    end = time.monotonic() + seconds
    rounds = traced = 0
    while time.monotonic() < end:
        tracemalloc.start()
        kept = [bytes(100) for _ in range(200)]
        size, _ = tracemalloc.get_traced_memory()
        traced += size >= 100 * len(kept)
        tracemalloc.stop()
        rounds += 1
    print("every round traced", rounds > 0 and traced == rounds)


main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.5)
