"""A class that sample_target.py imports: its method's samples belong to
this module, not to the one that imported it."""
import time


class Helper:
    def tick(self):
        t = time.perf_counter()
        while time.perf_counter() - t < 0.0003:
            pass
