"""A short `make stress` (tests/stress/attach_stress.py): 20 attach/load/
unload/detach cycles and 20 SIGKILLs of `loong load` at random points, on
one interpreter."""
import sys

from conftest import PYTHONS, ROOT

sys.path.insert(0, str(ROOT / "tests" / "stress"))
import attach_stress  # noqa: E402


def one_python():
    return PYTHONS.get("3.12") or PYTHONS[sorted(PYTHONS)[-1]]


def test_attach_cycles_leave_nothing(tmp_path):
    r = attach_stress.cycles(one_python(), 20, tmp_path)
    assert r["failures"] == [], r
    assert r["cycles"] == 20
    assert r["rss_end"] - r["rss_first"] < 5 * attach_stress.MB, r


def test_killing_loong_at_random_points(tmp_path):
    r = attach_stress.kills(one_python(), 20, tmp_path)
    assert r["failures"] == [], r
    assert r["kills"] == 20
