"""The loong command: help, toolkits, and bad input refused before the
program starts (one line, exit status 2, nothing run)."""
import os
import re

import pytest

from conftest import LIBDIR, LOONG, ROOT, base_env, run


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


# ---- more: help, version, toolkits listing, the environment contract ------


def one_error_line(r):
    """Exit 2, nothing on stdout, exactly one line on stderr, 'loong: '."""
    err = r.stderr.decode()
    assert r.returncode == 2, (r.returncode, err)
    assert not r.stdout, r.stdout
    assert err.startswith("loong: ") and err.endswith("\n"), err
    assert err.count("\n") == 1, err
    return err


def abi_from_header():
    text = (ROOT / "include" / "loong" / "version.h").read_text()
    major = int(re.search(r"#define LOONG_ABI_MAJOR (\d+)", text).group(1))
    minor = int(re.search(r"#define LOONG_ABI_MINOR (\d+)", text).group(1))
    version = re.search(r'#define LOONG_VERSION_STRING "([^"]+)"',
                        text).group(1)
    return version, major, minor


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["help"]])
def test_overview_help_on_stdout(args):
    r = run([LOONG] + args)
    assert r.returncode == 0 and not r.stderr
    out = r.stdout.decode()
    assert out.startswith("loong ") and "Usage:" in out
    for cmd in ("run", "toolkits", "help"):
        assert re.search(r"^  %s\s" % cmd, out, re.M), cmd
    assert out == run([LOONG, "--help"]).stdout.decode()


@pytest.mark.parametrize("cmd", ["run", "toolkits"])
def test_command_help_three_ways_identical(cmd):
    outs = []
    for args in ([cmd, "--help"], [cmd, "-h"], ["help", cmd]):
        r = run([LOONG] + args)
        assert r.returncode == 0 and not r.stderr, args
        outs.append(r.stdout)
    assert outs[0] == outs[1] == outs[2]
    assert outs[0].startswith(b"Usage: loong " + cmd.encode())


def test_no_arguments_prints_help_on_stderr_and_exits_2():
    r = run([LOONG])
    assert r.returncode == 2 and not r.stdout
    assert r.stderr == run([LOONG, "--help"]).stdout


def test_version_matches_the_headers():
    version, major, minor = abi_from_header()
    r = run([LOONG, "--version"])
    assert r.returncode == 0 and not r.stderr
    assert r.stdout.decode() == "loong %s (toolkit ABI %d.%d)\n" % (
        version, major, minor)


def parse_toolkit_lines(text):
    """{name: fields} from `loong toolkits`; asserts the line shape."""
    found = {}
    for line in text.splitlines():
        fields = line.split("\t")
        assert re.fullmatch(r"[a-z0-9_]+", fields[0]), line
        assert fields[0] not in found, "listed twice: %r" % line
        if fields[1] == "-":
            assert len(fields) == 3 and fields[2].startswith("error: "), line
        else:
            assert len(fields) == 4, line
            assert fields[3].startswith("options: "), line
        found[fields[0]] = fields
    return found


def example_def_from_source():
    """(summary, [(key, default, help)]) as src/toolkits/example/example.c
    declares them: what `loong toolkits` must print, read independently."""
    src = (ROOT / "src" / "toolkits" / "example" / "example.c").read_text()
    summary = re.search(r'\.summary = "([^"]*)"', src).group(1)
    block = src[src.index("loong_option_def options[]"):]
    block = block[:block.index("{NULL")]
    opts = re.findall(r'\{"([^"]*)", "([^"]*)", "([^"]*)"\}', block)
    assert opts
    return summary, opts


def test_toolkits_listing_shape_and_exact_example_line():
    r = run([LOONG, "toolkits"])
    lines = r.stdout.decode().splitlines()
    found = parse_toolkit_lines(r.stdout.decode())
    # sorted by name, one line each; status 1 only if one failed to load
    assert [l.split("\t")[0] for l in lines] == sorted(found)
    failed = [n for n, f in found.items() if f[1] == "-"]
    assert r.returncode == (1 if failed else 0), (failed, r.stderr)
    summary, opts = example_def_from_source()
    assert found["example"] == [
        "example", "1.0", summary,
        "options: " + ", ".join("%s=%s" % (k, d) for k, d, h in opts)]


def test_toolkits_verbose_lists_each_option_under_its_toolkit():
    r = run([LOONG, "toolkits", "-v"])
    lines = r.stdout.decode().splitlines()
    i = [n for n, l in enumerate(lines) if l.startswith("example\t")][0]
    summary, opts = example_def_from_source()
    n = len(opts)
    assert lines[i + 1:i + 1 + n] == [
        "    %s: %s (default: %s)" % (k, h, d) for k, d, h in opts]
    assert i + 1 + n == len(lines) or not lines[i + 1 + n].startswith(" ")
    r2 = run([LOONG, "toolkits", "--verbose"])
    assert r2.stdout == r.stdout and r2.returncode == r.returncode


def test_toolkits_search_path_order_and_odd_files(tmp_path):
    """LOONG_TOOLKIT_PATH comes first; files that are not NAME.so with a
    valid name are ignored; a broken NAME.so is listed as an error, exit 1;
    nothing found at all is exit 0 with one line on stderr."""
    lib = tmp_path / "lib"
    (lib / "toolkits").mkdir(parents=True)
    (lib / "toolkits" / "example.so").symlink_to(
        LIBDIR / "toolkits" / "example.so")
    for odd in ("README.txt", "Upper.so", "dash-name.so", "example.so.1"):
        (lib / "toolkits" / odd).write_text("not a toolkit\n")
    env = base_env(LOONG_LIBDIR=lib)
    r = run([LOONG, "toolkits"], env=env)
    assert r.returncode == 0, r.stderr
    assert list(parse_toolkit_lines(r.stdout.decode())) == ["example"]
    # a broken NAME.so in a folder searched first
    first = tmp_path / "first"
    first.mkdir()
    (first / "broken.so").write_text("not an ELF file\n")
    env = base_env(LOONG_LIBDIR=lib, LOONG_TOOLKIT_PATH=first)
    r = run([LOONG, "toolkits"], env=env)
    found = parse_toolkit_lines(r.stdout.decode())
    assert r.returncode == 1
    assert sorted(found) == ["broken", "example"]
    assert found["broken"][1] == "-" and str(first / "broken.so") in \
        found["broken"][2]
    # a toolkit found in the first folder hides the one in LIBDIR: an
    # "example.so" that is broken wins over the good one, for run too
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "example.so").write_text("broken\n")
    env = base_env(LOONG_LIBDIR=lib, LOONG_TOOLKIT_PATH=shadow)
    r = run([LOONG, "toolkits"], env=env)
    assert r.returncode == 1
    assert parse_toolkit_lines(r.stdout.decode())["example"][1] == "-"
    cmd, marker = marker_cmd(tmp_path)
    r = run([LOONG, "run", "-o", tmp_path / "o", "-t", "example", "--"] + cmd,
            env=env)
    assert str(shadow / "example.so") in one_error_line(r)
    assert not marker.exists()
    # nothing anywhere
    empty = tmp_path / "empty"
    (empty / "toolkits").mkdir(parents=True)
    r = run([LOONG, "toolkits"], env=base_env(LOONG_LIBDIR=empty))
    assert r.returncode == 0 and not r.stdout
    err = r.stderr.decode()
    assert err.count("\n") == 1 and err.startswith("loong: no toolkits")


BAD_MORE = [
    (["-t", "example:top=1,top=2"], "'top' given twice"),
    (["-t", "example", "-t", "example"], "given twice"),
    (["-t", "example", "-t", str(LIBDIR / "toolkits" / "example.so")],
     "given twice"),
    (["-t", "example:=1"], "no key"),
    (["-t", "example:top=5,"], "empty option"),
    (["-t", "Example"], "'Example'"),
    (["-t", "example;example"], "';'"),
    (["-t", "example:measurement=a;b"], "';'"),
    (["-t", "/nonexistent/dir/x.so"], "/nonexistent/dir/x.so"),
    (["--interval", "0.5ms"], "0.5ms"),
    (["--interval", "25h"], "25h"),
    (["--interval", "1"], "unit"),
    (["--interval", "-1s"], "-1s"),
    (["--interval", "1.0005s"], "1.0005s"),
    (["--interval", ""], "interval"),
    (["--interval", "1e3ms"], "1e3ms"),
    (["--interval", "99999999999999999999s"], "99999999999999999999s"),
    (["--sink", "udp://127.0.0.1:0"], "port"),
    (["--sink", "udp://127.0.0.1:"], "port"),
    (["--sink", "udp://example.com:80"], "example.com"),
    (["--sink", "udp://::1:80"], "bracket"),
    (["--sink", "udp:127.0.0.1:80"], "udp://"),
    (["--sink", "dir:"], "dir:"),
    (["--sink", "DIR"], "DIR"),
    (["--sink", ""], "sink"),
    (["--sink", "unix:/" + "x" * 200], "unix"),
    (["-o", ""], "output"),
    (["--output="], "output"),
    (["--toolkit=nosuch"], "nosuch"),
]


@pytest.mark.parametrize("args,needle", BAD_MORE,
                         ids=["%d" % i for i in range(len(BAD_MORE))])
def test_more_bad_input_refused_and_nothing_created(tmp_path, args, needle):
    cmd, marker = marker_cmd(tmp_path)
    out = tmp_path / "out"
    r = run([LOONG, "run", "-o", out] + args + ["--"] + cmd)
    err = one_error_line(r)
    assert needle in err, err
    assert not marker.exists()
    # refused before the folders step: nothing created either
    assert not out.exists()


@pytest.mark.parametrize("args", [["run", "-t"], ["run", "-o"],
                                  ["run", "--interval"], ["run", "--sink"],
                                  ["run", "-o", "x", "--"]])
def test_missing_value_or_command(tmp_path, args):
    r = run([LOONG] + args, cwd=tmp_path)
    one_error_line(r)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args,needle", [
    (["frobnicate"], "'frobnicate'"), (["--frob"], "'--frob'"),
    (["-x"], "'-x'"), (["run", "--frob"], "'--frob'"),
    (["toolkits", "--bogus"], "'--bogus'"), (["toolkits", "extra"], "'extra'"),
    (["help", "nosuch"], "'nosuch'")])
def test_usage_errors_are_one_line(args, needle):
    assert needle in one_error_line(run([LOONG] + args))


@pytest.mark.parametrize("where", ["file_parent", "file_itself", "proc",
                                   "sink_dir_under_file"])
def test_unwritable_output_really_fails_as_root(tmp_path, where):
    """Paths that fail for root too: under a regular file, a regular file
    itself, under /proc (chmod would not stop root)."""
    cmd, marker = marker_cmd(tmp_path)
    f = tmp_path / "afile"
    f.write_text("x")
    args = {"file_parent": ["-o", f / "sub" / "deeper"],
            "file_itself": ["-o", f],
            "proc": ["-o", "/proc/self/loong-out"],
            "sink_dir_under_file": ["-o", tmp_path / "o",
                                    "--sink", "dir:%s/sub" % f]}[where]
    r = run([LOONG, "run"] + args + ["--"] + cmd)
    err = one_error_line(r)
    assert ("/proc" if where == "proc" else str(f)) in err
    assert not marker.exists()
    assert f.read_text() == "x"


def test_command_not_found_on_path_is_127_one_line(tmp_path):
    env = base_env(PATH=str(tmp_path))
    r = run([LOONG, "run", "-o", tmp_path / "o", "--", "no-such-program-x"],
            env=env)
    assert r.returncode == 127 and not r.stdout
    err = r.stderr.decode()
    assert err.count("\n") == 1 and err.startswith("loong: ")
    assert "no-such-program-x" in err
    # a directory is found but cannot be executed
    r = run([LOONG, "run", "-o", tmp_path / "o", "--", tmp_path])
    assert r.returncode == 126 and r.stderr.startswith(b"loong: ")


def test_options_stop_at_the_first_non_option(tmp_path):
    r = run([LOONG, "run", "-o", tmp_path / "o", "/bin/echo", "-t",
             "nosuchtoolkit", "--interval", "5x"])
    assert r.returncode == 0 and r.stdout == b"-t nosuchtoolkit --interval 5x\n"


ENV_PRINT = ["/bin/sh", "-c", 'for v in PYTHONPATH LOONG_TOOLKITS '
             'LOONG_TOOLKIT_PATH LOONG_OUT LOONG_SINK LOONG_INTERVAL_MS; do '
             'eval "printf \'%s=%s\\n\' $v \\"\\${$v-UNSET}\\""; done']


def env_of(cmd, **kw):
    r = run(cmd + ENV_PRINT, **kw)
    assert r.returncode == 0, r.stderr
    return dict(l.split("=", 1) for l in r.stdout.decode().splitlines())


def test_environment_contract(tmp_path):
    """What `loong run` hands the program, option forms included."""
    (tmp_path / "rel").mkdir()
    libdir = os.path.realpath(LIBDIR)
    ex = os.path.join(libdir, "toolkits", "example.so")
    env = base_env(PYTHONPATH="/x:/y", LOONG_TOOLKIT_PATH="rel::/nonexist")
    got = env_of([LOONG, "run", "-oout", "-texample:top=5,measurement=m x",
                  "--interval=0.5s", "--sink=udp://127.0.0.1:9", "--"],
                 env=env, cwd=tmp_path)
    assert got == {
        "PYTHONPATH": libdir + "/python:/x:/y",
        "LOONG_TOOLKITS": ex + ":top=5,measurement=m x",
        "LOONG_TOOLKIT_PATH": "%s/rel:/nonexist:%s/toolkits" % (
            os.path.realpath(tmp_path), libdir),
        "LOONG_OUT": os.path.realpath(tmp_path / "out"),
        "LOONG_SINK": "udp://127.0.0.1:9",
        "LOONG_INTERVAL_MS": "500"}
    assert (tmp_path / "out").is_dir()
    # defaults; PYTHONPATH not repeated; a toolkit by a path with '..'
    env = base_env(PYTHONPATH=libdir + "/python")
    got = env_of([LOONG, "run", "--toolkit",
                  os.path.join(libdir, "toolkits", "..", "toolkits",
                               "example.so"), "--"], env=env, cwd=tmp_path)
    assert got["PYTHONPATH"] == libdir + "/python"
    assert got["LOONG_TOOLKITS"] == ex
    assert got["LOONG_OUT"] == os.path.realpath(tmp_path / "loong-out")
    assert got["LOONG_SINK"] == "dir" and got["LOONG_INTERVAL_MS"] == "1000"
    # no -t: empty; dir:PATH made absolute and created
    got = env_of([LOONG, "run", "-o", "o2", "--sink", "dir:rel/m", "--"],
                 cwd=tmp_path)
    assert got["LOONG_TOOLKITS"] == ""
    assert got["LOONG_SINK"] == "dir:" + os.path.realpath(tmp_path / "rel/m")
    assert (tmp_path / "rel" / "m").is_dir()


@pytest.mark.parametrize("text,ms", [("1ms", 1), ("250ms", 250),
                                     ("0.5s", 500), ("0.001s", 1),
                                     ("1.5m", 90000), ("2m", 120000),
                                     ("1h", 3600000), ("24h", 86400000)])
def test_interval_forms(tmp_path, text, ms):
    got = env_of([LOONG, "run", "-o", tmp_path, "--interval", text, "--"])
    assert got["LOONG_INTERVAL_MS"] == str(ms)


def test_sink_option_overrides_bad_environment(tmp_path):
    env = base_env(LOONG_SINK="carrier-pigeon")
    got = env_of([LOONG, "run", "-o", tmp_path, "--sink", "dir", "--"],
                 env=env)
    assert got["LOONG_SINK"] == "dir"


def test_global_options_take_no_argument():
    for opt in ("--version", "--help"):
        r = run([LOONG, opt, "extra"])
        assert r.returncode == 2 and b"extra" in r.stderr and not r.stdout
