"""Prints what a program could notice of loong: it must all be the same."""
import signal
import sys

print(sys.argv)
print([p for p in sys.path])
print(signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT))
print(sys.exc_info())
print(sys.getprofile(), sys.gettrace())
