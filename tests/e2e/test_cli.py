"""The loong command: help, toolkits, and bad input refused before the
program starts (one line, exit status 2, nothing run)."""
import os
import stat

import pytest

from conftest import LOONG, PYTHONS, base_env, run


def test_help_and_version():
    r = run([LOONG, "--help"])
    assert r.returncode == 0 and b"loong run" in r.stdout and not r.stderr
    r = run([LOONG, "run", "--help"])
    assert r.returncode == 0
    for word in (b"--toolkit", b"--output", b"--interval", b"--sink",
                 b"LOONG_SINK"):
        assert word in r.stdout
    r = run([LOONG, "--version"])
    assert r.returncode == 0 and r.stdout.startswith(b"loong 0.")
    assert b"ABI 1." in r.stdout


def test_toolkits_lists_example_with_options():
    r = run([LOONG, "toolkits"])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    ex = [l for l in lines if l.split("\t")[0] == "example"]
    assert len(ex) == 1
    assert "measurement=loong_example" in ex[0] and "top=10" in ex[0]
    r = run([LOONG, "toolkits", "-v"])
    assert r.returncode == 0 and b"name of the measurement" in r.stdout


def marker_cmd(tmp_path):
    """A program that would leave a marker if it ever ran."""
    marker = tmp_path / "ran"
    return ["/bin/sh", "-c", "touch '%s'" % marker], marker


BAD = [
    (["-t", "nosuchtoolkit"], "unknown toolkit 'nosuchtoolkit'"),
    (["-t", "example:bogus=1"], "no option 'bogus'"),
    (["-t", "example:top"], "example:top"),
    (["-t", ""], "toolkit"),
    (["--interval", "5x"], "5x"),
    (["--interval", "0s"], "interval"),
    (["--sink", "tcp://127.0.0.1:1"], "tcp://"),
    (["--sink", "udp://127.0.0.1:99999"], "99999"),
    (["--sink", "unix:"], "unix"),
    (["--bogus-flag"], "--bogus-flag"),
]


@pytest.mark.parametrize("args,needle", BAD)
def test_bad_input_refused_before_start(tmp_path, args, needle):
    cmd, marker = marker_cmd(tmp_path)
    r = run([LOONG, "run", "-o", tmp_path / "out"] + args + ["--"] + cmd)
    assert r.returncode == 2
    err = r.stderr.decode()
    assert err.count("\n") == 1 and err.startswith("loong: "), err
    assert needle in err
    assert not marker.exists()
    assert not r.stdout


def test_unwritable_output_refused(tmp_path):
    cmd, marker = marker_cmd(tmp_path)
    f = tmp_path / "afile"
    f.write_text("x")
    r = run([LOONG, "run", "-o", f / "sub", "--"] + cmd)
    assert r.returncode == 2 and r.stderr.startswith(b"loong: ")
    assert str(f).encode() in r.stderr
    assert not marker.exists()


def test_no_command_and_unknown_subcommand(tmp_path):
    r = run([LOONG, "run", "-o", tmp_path])
    assert r.returncode == 2 and r.stderr.startswith(b"loong: ")
    r = run([LOONG, "frobnicate"])
    assert r.returncode == 2 and b"frobnicate" in r.stderr


def test_command_not_found_and_not_executable(tmp_path):
    r = run([LOONG, "run", "-o", tmp_path / "o", "--",
             "/nonexistent/prog"])
    assert r.returncode == 127 and b"/nonexistent/prog" in r.stderr
    f = tmp_path / "noexec"
    f.write_text("#!/bin/sh\n")
    f.chmod(0o644)
    r = run([LOONG, "run", "-o", tmp_path / "o", "--", f])
    assert r.returncode == 126


def test_run_keeps_pid_and_exit_status(tmp_path):
    # loong execs in place: the program's pid is loong's, its status ours
    r = run([LOONG, "run", "-o", tmp_path, "--", "/bin/sh", "-c",
             "echo $$; exit 42"])
    assert r.returncode == 42 and r.stdout.strip().isdigit()


def test_sink_from_environment_is_validated(tmp_path):
    cmd, marker = marker_cmd(tmp_path)
    env = base_env(LOONG_SINK="carrier-pigeon")
    r = run([LOONG, "run", "-o", tmp_path / "o", "--"] + cmd, env=env)
    assert r.returncode == 2 and b"carrier-pigeon" in r.stderr
    assert not marker.exists()
