"""Helpers for the tests of loongd and the dashboards (no tests here):
a real InfluxDB 1.x started on loopback in a temporary folder, and loongd.

influxd (Debian's `influxdb`) is started by the tests themselves on a free
port with its own config, data and WAL folders; every wait is bounded and
the process is killed in the end whatever happens.
"""
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from conftest import BUILD, PYTHONS, base_env

LOONGD = BUILD / "bin" / "loongd"
INFLUXD = shutil.which("influxd")


def need_influxd():
    if INFLUXD is None:
        pytest.skip("influxd not found (Debian package influxdb): the tests "
                    "with a real InfluxDB are skipped")


def newest_python(min_minor=8):
    for minor in ("3.13", "3.12", "3.11", "3.10", "3.9", "3.8"):
        if minor in PYTHONS and int(minor.split(".")[1]) >= min_minor:
            return PYTHONS[minor]
    pytest.skip("no CPython 3.%d+ found" % min_minor)


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (held together while
    chosen)."""
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def wait_for(pred, timeout, what, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("timed out after %.1fs waiting for %s"
                         % (timeout, what))


CONFIG = """reporting-enabled = false
bind-address = "127.0.0.1:{rpc}"
[meta]
  dir = "{d}/meta"
  logging-enabled = false
[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
  query-log-enabled = false
  wal-fsync-delay = "0s"
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:{http}"
  log-enabled = false
[continuous_queries]
  enabled = false
[logging]
  level = "error"
"""


class Influx:
    """influxd on 127.0.0.1, data in a folder of its own."""

    def __init__(self, folder):
        self.dir = pathlib.Path(folder)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port, self.rpc = free_ports(2)
        self.url = "http://127.0.0.1:%d" % self.port
        (self.dir / "influxdb.conf").write_text(
            CONFIG.format(d=self.dir, rpc=self.rpc, http=self.port))
        self.proc = None

    def start(self, timeout=20):
        log = open(self.dir / "influxd.log", "ab")
        self.proc = subprocess.Popen(
            [INFLUXD, "-config", str(self.dir / "influxdb.conf")],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        wait_for(self.ping, timeout, "influxd to answer /ping")
        return self

    def ping(self):
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError("influxd exited: %s" % (
                self.dir / "influxd.log").read_text()[-2000:])
        try:
            with urllib.request.urlopen(self.url + "/ping", timeout=1) as r:
                return r.status == 204
        except OSError:
            return False

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def query(self, q, db=None):
        params = {"q": q, "epoch": "ns"}
        if db:
            params["db"] = db
        data = urllib.parse.urlencode(params).encode()
        with urllib.request.urlopen(self.url + "/query", data=data,
                                    timeout=20) as r:
            res = json.loads(r.read())
        for st in res["results"]:
            assert "error" not in st, (q, st["error"])
        return res["results"][0].get("series", [])

    def count(self, db, measurement, field):
        """How many points of measurement have field (each point has it)."""
        s = self.query('SELECT count("%s") FROM "%s"' % (field, measurement),
                       db)
        return s[0]["values"][0][1] if s else 0


class Loongd:
    """loongd on a socket in a temporary folder."""

    def __init__(self, folder, *args, influx=None, db="loong"):
        self.dir = pathlib.Path(folder)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.sock = str(self.dir / "loongd.sock")
        self.status_sock = str(self.dir / "loongd.status.sock")
        self.args = [str(a) for a in args]
        if influx is not None:
            self.args = ["--influx", influx.url, "--db", db] + self.args
        self.proc = None
        self.log = self.dir / "loongd.log"

    def start(self, timeout=10):
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [LOONGD, "--socket", self.sock] + self.args,
            stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            env=base_env())
        log.close()
        wait_for(self.answers, timeout, "loongd to answer on its status "
                 "socket")
        return self

    def answers(self):
        if self.proc.poll() is not None:
            raise AssertionError("loongd exited %s: %s" % (
                self.proc.returncode, self.log.read_text()[-2000:]))
        try:
            return self.status()
        except OSError:
            return None

    def status(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(self.status_sock)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        return json.loads(data)

    def env(self, **extra):
        return base_env(LOONG_AGENT_SOCKET=self.sock, **extra)

    def send(self, data):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            s.sendto(data, self.sock)
        finally:
            s.close()

    def wait_idle(self, timeout, received=None):
        """Until nothing is buffered (and `received` lines arrived)."""
        def idle():
            st = self.status()
            if received is not None and st["received"] < received:
                return None
            return st if st["buffered"] == 0 else None
        return wait_for(idle, timeout, "loongd to deliver everything", 0.1)

    def stop(self, timeout=15):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        rc = self.proc.returncode
        self.proc = None
        return rc

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)
        self.proc = None


def produced_by(out):
    """Points the profiled processes under `out` handed to their sink:
    records minus what the sink refused (sum over every meta.json)."""
    total = 0
    for meta in pathlib.Path(out).glob("*/meta.json"):
        m = json.loads(meta.read_text())
        total += m["records"] - m["dropped_sink"]
    return total
