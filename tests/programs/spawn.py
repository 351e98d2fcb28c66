"""Starts Python children: a script and a -c; prints what they print."""
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
a = subprocess.run([sys.executable, os.path.join(here, "calls.py"), "50"],
                   capture_output=True, text=True)
b = subprocess.run([sys.executable, "-c", "print(sum(range(10)))"],
                   capture_output=True, text=True)
print(a.returncode, a.stdout.strip().replace("\n", "|"), a.stderr)
print(b.returncode, b.stdout.strip(), b.stderr)
