"""Run a script under yappi: python yappi_run.py SCRIPT [ARGS...].

The benchmark's yappi column: yappi.start() (every thread, yappi's default
CPU clock), the script as __main__ through runpy, yappi.stop(). The stats
are left in memory, unread, as cProfile's go to /dev/null: what is measured
is the cost of profiling, not of writing a report.
"""
import os
import runpy
import sys

import yappi


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: yappi_run.py SCRIPT [ARGS...]\n")
        return 2
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    yappi.start()
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        yappi.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
