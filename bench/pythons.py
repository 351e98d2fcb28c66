"""The interpreters the benches run: (minor, path) pairs as
tools/find-pythons lists them, only the wanted minors ("3.12") if given."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def found(wanted=None):
    out = subprocess.run([os.path.join(ROOT, "tools", "find-pythons")],
                         capture_output=True, text=True, check=True).stdout
    pairs = [tuple(l.split()[:2]) for l in out.splitlines() if l.strip()]
    return [p for p in pairs if not wanted or p[0] in wanted]
