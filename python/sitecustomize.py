# loong bootstrap, put on PYTHONPATH by `loong run`. It starts the loong
# runtime, then runs the sitecustomize that would have run without loong,
# and takes its own folder back off sys.path, so the program sees what it
# would have seen. It must never break the program: on an interpreter loong
# has no runtime for (2.7, 3.7 and older), it only chains. Keep this file
# valid Python 2.
import os as _os
import sys as _sys


def _loong_import():
    if _sys.version_info < (3, 8) or not _os.environ.get("LOONG_OUT"):
        return None
    try:
        import loong._runtime as rt
        return rt
    except Exception:
        # No runtime for this interpreter: run unprofiled.
        return None


def _loong_start(rt):
    if rt is None:
        return
    try:
        rt.start()
    except Exception:
        pass  # the runtime logs its own errors into its output folder


def _loong_chain(here):
    path = [p for p in _sys.path if _os.path.abspath(p or ".") != here]
    if _sys.version_info >= (3, 4):
        import importlib.machinery
        import importlib.util
        spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
        if spec is None:
            return
        mod = importlib.util.module_from_spec(spec)
        _sys.modules["sitecustomize"] = mod
        spec.loader.exec_module(mod)
    else:
        import imp
        try:
            found = imp.find_module("sitecustomize", path)
        except ImportError:
            return
        try:
            imp.load_module("sitecustomize", *found)
        finally:
            if found[0]:
                found[0].close()


def _loong_bootstrap():
    here = _os.path.dirname(_os.path.abspath(__file__))
    rt = _loong_import()  # while our folder is still on sys.path
    if _os.environ.get("LOONG_OUT"):
        # loong run put it there; someone who set PYTHONPATH to use
        # `import loong` keeps it
        try:
            _sys.path.remove(here)
        except ValueError:
            pass
    try:
        # Errors of the program's own sitecustomize surface as they would
        # have without loong.
        _loong_chain(here)
    finally:
        # Last, so toolkits see the program and not this bootstrap.
        _loong_start(rt)


_loong_bootstrap()
del _loong_bootstrap, _loong_chain, _loong_import, _loong_start, _os, _sys
