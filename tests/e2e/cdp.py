"""Headless Chromium driven through the Chrome DevTools Protocol, with the
Python standard library only: a minimal WebSocket client (RFC 6455, text
frames, masked as a client must), a CDP session on one page, and the
browser process itself.

Every wait is bounded; Chromium.close() kills the whole process group it
started.
"""
import base64
import hashlib
import json
import os
import pathlib
import signal
import socket
import struct
import subprocess
import time
import urllib.parse
import urllib.request

CHROMIUM = "/usr/bin/chromium"
_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class CDPError(Exception):
    pass


def _mask(data, key):
    n = len(data)
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(
        n, "big")


class WebSocket:
    """A client WebSocket for text messages."""

    def __init__(self, url, timeout=10.0):
        u = urllib.parse.urlsplit(url)
        assert u.scheme == "ws", url
        self.sock = socket.create_connection((u.hostname, u.port or 80),
                                             timeout=timeout)
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        path = u.path + ("?" + u.query if u.query else "")
        self.sock.sendall((
            "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
            % (path, u.hostname, u.port or 80, key)).encode())
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            self._fill(deadline)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if " 101 " not in lines[0] + " ":
            raise CDPError("WebSocket upgrade refused: %r" % lines[0])
        want = base64.b64encode(hashlib.sha1(
            (key + _WS_GUID).encode()).digest()).decode()
        headers = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip()
                   for l in lines[1:] if ":" in l}
        if headers.get("sec-websocket-accept") != want:
            raise CDPError("bad Sec-WebSocket-Accept")

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("WebSocket: no data in time")
        self.sock.settimeout(left)
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise CDPError("WebSocket closed by the browser")
        self.buf += chunk

    def _take(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send_frame(self, opcode, payload):
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 1 << 16:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        key = os.urandom(4)
        self.sock.sendall(head + key + _mask(payload, key))

    def send(self, text):
        self._send_frame(0x1, text.encode("utf-8"))

    def recv(self, deadline):
        """The next whole text message, before deadline (monotonic)."""
        parts = []
        while True:
            b0, b1 = self._take(2, deadline)
            fin, opcode = b0 & 0x80, b0 & 0x0F
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._take(2, deadline))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._take(8, deadline))[0]
            key = self._take(4, deadline) if b1 & 0x80 else None
            payload = self._take(n, deadline)
            if key:
                payload = _mask(payload, key)
            if opcode == 0x8:
                raise CDPError("WebSocket closed by the browser")
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            parts.append(payload)
            if fin:
                return b"".join(parts).decode("utf-8")

    def close(self):
        try:
            self._send_frame(0x8, b"")
        except OSError:
            pass
        self.sock.close()


class Page:
    """A CDP session on one page target: calls and the events seen."""

    def __init__(self, ws_url, timeout=10.0):
        self.ws = WebSocket(ws_url, timeout)
        self.timeout = timeout
        self.next_id = 0
        self.events = []

    def _send(self, method, params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method,
                                 "params": params}))
        return self.next_id

    def _event(self, msg):
        self.events.append(msg)
        if msg["method"] == "Page.javascriptDialogOpening":
            # a dialog would stop the page: dismiss it (errors() tells)
            self._send("Page.handleJavaScriptDialog", {"accept": False})

    def call(self, method, timeout=None, **params):
        my_id = self._send(method, params)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            msg = json.loads(self.ws.recv(deadline))
            if "id" not in msg:
                self._event(msg)
            elif msg["id"] == my_id:
                if "error" in msg:
                    raise CDPError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})

    def wait_event(self, method, timeout=None):
        """The first event named method seen so far, else the next one."""
        for e in self.events:
            if e["method"] == method:
                return e
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            msg = json.loads(self.ws.recv(deadline))
            if "id" in msg:
                continue
            self._event(msg)
            if msg["method"] == method:
                return msg

    def evaluate(self, expr):
        """The value of a JavaScript expression (JSON-serialisable)."""
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True,
                      awaitPromise=True)
        if "exceptionDetails" in r:
            raise CDPError("evaluate %r: %s" % (expr[:80], r["exceptionDetails"]))
        return r["result"].get("value")

    def wait_for(self, expr, timeout=5.0):
        """Poll expr until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            v = self.evaluate(expr)
            if v or time.monotonic() > deadline:
                return v
            time.sleep(0.05)

    def open(self, url, timeout=20.0):
        """Load url with Page, Runtime, Log and Network on, events reset."""
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable")
        self.events = []
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired", timeout)

    def errors(self):
        """Uncaught exceptions, console errors and logged errors so far."""
        out = []
        for e in self.events:
            m, p = e["method"], e.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append("exception: %s" % p["exceptionDetails"])
            elif m == "Runtime.consoleAPICalled" and p.get("type") in (
                    "error", "assert"):
                out.append("console.%s: %s" % (p["type"], p.get("args")))
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append("log: %s" % p["entry"])
            elif m == "Page.javascriptDialogOpening":
                out.append("dialog: %s" % p.get("message"))
        return out

    def requests(self):
        """URLs the page asked the network for."""
        return [e["params"]["request"]["url"] for e in self.events
                if e["method"] == "Network.requestWillBeSent"]

    def click(self, x, y):
        """A real left click at viewport coordinates."""
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y,
                      button="left", buttons=1 if kind == "mousePressed" else 0,
                      clickCount=1)

    def click_element(self, selector_js):
        """Scroll the element selector_js evaluates to into view and click
        its centre. Returns its rectangle before the click."""
        rect = self.evaluate(
            "(() => { const e = %s; if (!e) return null;"
            " e.scrollIntoView({block: 'center', inline: 'center'});"
            " const r = e.getBoundingClientRect();"
            " return {x: r.left, y: r.top, w: r.width, h: r.height}; })()"
            % selector_js)
        if rect is None:
            raise CDPError("no element for %s" % selector_js)
        self.click(rect["x"] + rect["w"] / 2, rect["y"] + rect["h"] / 2)
        return rect

    def close(self):
        self.ws.close()


class Chromium:
    """A headless Chromium of its own (fresh profile, no network
    services), debugged on a port it picks."""

    def __init__(self, workdir, timeout=30.0):
        workdir = pathlib.Path(workdir)
        self.profile = workdir / "profile"
        self.profile.mkdir(parents=True)
        self.log = open(workdir / "chromium.log", "wb")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("LD_PRELOAD", "ASAN_", "UBSAN_"))}
        env["HOME"] = str(workdir)
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--disable-default-apps", "--disable-extensions",
             "--disable-sync", "--no-first-run", "--no-default-browser-check",
             "--mute-audio", "--window-size=1280,900",
             "--user-data-dir=%s" % self.profile,
             "--remote-debugging-port=0", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            env=env, start_new_session=True)
        try:
            self.port = self._port(timeout)
            self.page_ws = self._page_ws(timeout)
        except BaseException:
            self.close()
            raise

    def _port(self, timeout):
        f = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CDPError("chromium exited with %s (see %s)"
                               % (self.proc.returncode, self.log.name))
            try:
                lines = f.read_text().splitlines()
                if lines and lines[0].strip().isdigit():
                    return int(lines[0])
            except OSError:
                pass
            time.sleep(0.05)
        raise CDPError("no DevToolsActivePort after %ss" % timeout)

    def _page_ws(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with urllib.request.urlopen(
                    "http://127.0.0.1:%d/json/list" % self.port,
                    timeout=5) as r:
                targets = json.loads(r.read().decode())
            for t in targets:
                if t.get("type") == "page" and "webSocketDebuggerUrl" in t:
                    return t["webSocketDebuggerUrl"]
            time.sleep(0.1)
        raise CDPError("no page target")

    def page(self):
        return Page(self.page_ws)

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
        self.log.close()
