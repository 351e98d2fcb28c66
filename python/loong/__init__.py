"""loong: profile this Python process from inside it.

Most people never import this: `loong run` and `loong attach` need no change
to a program. For those who want control from code::

    import loong
    loong.load("example", measurement="my_calls")
    ...
    loong.unload("example")

Output goes to the folder `status()["output"]` (by default
./loong-out/PROGRAM-PID, or where LOONG_OUT says).
"""

from . import _runtime

__all__ = ["load", "unload", "status", "start", "shutdown", "__version__"]
__version__ = _runtime.__version__


def start():
    """Start the runtime if it is not running (load() does it for you)."""
    _runtime.start()


def load(name, **options):
    """Load a toolkit by name (or path to its .so) with its options.

    Raises ValueError for an unknown option or a toolkit already loaded,
    RuntimeError when the toolkit cannot be found or refuses to load.
    """
    parts = []
    for key, value in options.items():
        text = "true" if value is True else "false" if value is False else str(value)
        if any(c in text for c in ",;"):
            raise ValueError("loong: option %s: value may not contain ',' or ';'" % key)
        parts.append("%s=%s" % (key, text))
    spec = str(name) + (":" + ",".join(parts) if parts else "")
    _runtime.load(spec)


def unload(name):
    """Unload a loaded toolkit: its last data is written first."""
    _runtime.unload(str(name))


def status():
    """The runtime's state: output folder, sink, toolkits, records, drops."""
    return _runtime.status()


def shutdown():
    """Unload every toolkit and flush, as happens at exit."""
    _runtime.shutdown()
