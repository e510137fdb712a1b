"""Integration-test harness: real edunetd processes on loopback.

Every test starts the real daemon with a generated config on ports chosen at
run time, waits until it answers /healthz, and stops what it started by PID
(SIGTERM, then SIGKILL). A node that died from a signal nobody sent fails the
test. Run with Debian's /usr/bin/python3 (python3-feedparser lives there).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BIN_DIR = os.environ.get("EDUNET_BIN_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "bin")
EDUNETD = os.path.join(BIN_DIR, "edunetd")
EDUNETCTL = os.path.join(BIN_DIR, "edunetctl")
SRC_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


class Node:
    """One edunetd process. sections: extra INI sections {section: {key: value}}."""

    def __init__(self, workdir, unit, role="school", name=None, parent_port=None,
                 registry=None, sections=None, downlink=None, scheme="tcp"):
        self.unit = unit
        self.role = role
        self.dir = os.path.join(workdir, unit)
        os.makedirs(self.dir, exist_ok=True)
        self.http_port = free_port()
        self.down_port = free_port() if (downlink if downlink is not None else role != "school") else None
        self.token = "tok-" + unit + "-" + os.urandom(8).hex()
        self.token_file = os.path.join(self.dir, "admin.token")
        with open(self.token_file, "w") as f:
            f.write(self.token + "\n")
        os.chmod(self.token_file, 0o600)
        conf = {
            "node": {"id": unit, "role": role, "name": name or unit,
                     "data_dir": os.path.join(self.dir, "data")},
            "http": {"listen": "127.0.0.1:%d" % self.http_port},
            "admin": {"token_file": self.token_file},
        }
        if registry:
            conf["node"]["registry"] = registry
        if parent_port:
            conf["uplink"] = {"parent": "%s://127.0.0.1:%d" % (scheme, parent_port)}
        if self.down_port:
            conf["downlink"] = {"listen": "%s://127.0.0.1:%d" % (scheme, self.down_port)}
        for sec, kv in (sections or {}).items():
            conf.setdefault(sec, {}).update(kv)
        self.conf = conf
        self.config_path = os.path.join(self.dir, "node.ini")
        self.write_config()
        self.proc = None
        self.log_path = os.path.join(self.dir, "edunetd.log")
        self.signalled = False
        self.exit_expected = False  # a test that expects a refusal to start sets this

    def write_config(self):
        with open(self.config_path, "w") as f:
            for sec, kv in self.conf.items():
                f.write("[%s]\n" % sec)
                for k, v in kv.items():
                    f.write("%s = %s\n" % (k, v))
                f.write("\n")

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.http_port

    def start(self, wait=True, timeout=15):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([EDUNETD, "-c", self.config_path],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.signalled = False
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Failure("%s exited with %s during start-up:\n%s" % (
                    self.unit, self.proc.returncode, self.tail()))
            try:
                st, _, _ = http(self.url + "/healthz", timeout=1)
                if st == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise Failure("%s not ready after %ss:\n%s" % (self.unit, timeout, self.tail()))

    def tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""

    def kill9(self):
        self.signalled = True
        self.proc.kill()
        self.proc.wait()

    def sigstop(self):
        self.proc.send_signal(signal.SIGSTOP)

    def sigcont(self):
        self.proc.send_signal(signal.SIGCONT)

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL. Fails if the process died from a signal nobody
        sent, or did not exit 0 after SIGTERM (a sanitizer report, a leak at exit,
        an error while stopping)."""
        if self.proc is None:
            return
        p, self.proc = self.proc, None
        if p.poll() is None:
            p.send_signal(signal.SIGCONT)
            p.terminate()
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                raise Failure("%s ignored SIGTERM for %ss" % (self.unit, timeout))
            if p.returncode != 0:
                raise Failure("%s exited with %d after SIGTERM:\n%s" % (self.unit, p.returncode, self.tail()))
        elif p.returncode < 0 and not self.signalled:
            raise Failure("%s died from signal %d:\n%s" % (self.unit, -p.returncode, self.tail()))
        elif p.returncode > 0 and not (self.signalled or self.exit_expected):
            raise Failure("%s exited with %d:\n%s" % (self.unit, p.returncode, self.tail()))
        self.log.close()

    # API helpers
    def api(self, method, path, body=None, token=True, headers=None, raw=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + self.token
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        st, hdrs, out = http(self.url + path, method=method, data=data, headers=h)
        try:
            doc = json.loads(out) if out else None
        except ValueError:
            doc = None
        return st, doc, hdrs

    def publish(self, title, kind="news", body="", **extra):
        d = {"kind": kind, "title": title, "body": body}
        d.update(extra)
        st, doc, _ = self.api("POST", "/api/v1/items", d)
        check(st == 201, "publish at %s: %s %s" % (self.unit, st, doc))
        return doc["id"]

    def ctl(self, *args, input=None, json_out=False):
        cmd = [EDUNETCTL, "--node", self.url, "--token-file", self.token_file]
        if json_out:
            cmd.append("--json")
        r = subprocess.run(cmd + list(args), input=input, capture_output=True, timeout=60)
        return r


def http(url, method="GET", data=None, headers=None, timeout=10):
    """(status, headers dict with lowercase names, body bytes); never raises on HTTP errors."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def wait_until(fn, timeout=10, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise Failure("timed out waiting for %s (last: %r)" % (what, last))


class Cluster:
    """Owns a temp dir and every node started in it; stops them all at exit."""

    def __init__(self, name):
        self.dir = tempfile.mkdtemp(prefix="edunet-%s-" % name)
        self.nodes = []

    def node(self, *a, **kw):
        n = Node(self.dir, *a, **kw)
        self.nodes.append(n)
        return n

    def close(self, ok):
        errors = []
        for n in self.nodes:
            try:
                n.stop()
            except Failure as e:
                errors.append(str(e))
        if ok and not errors and not os.environ.get("EDUNET_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print("work dir kept: " + self.dir)
        return errors


def run(tests):
    """Runs test functions (each takes a Cluster); prints 'N passed, N failed'."""
    only = sys.argv[1:]
    passed = failed = 0
    for t in tests:
        if only and t.__name__ not in only:
            continue
        c = Cluster(t.__name__)
        ok = True
        t0 = time.time()
        try:
            t(c)
        except Exception as e:  # noqa: BLE001 - report every kind of failure
            ok = False
            import traceback
            traceback.print_exc()
            for n in c.nodes:
                print("--- log of %s ---\n%s" % (n.unit, n.tail()))
        errs = c.close(ok)
        if errs:
            ok = False
            print("\n".join(errs))
        print("%s %s (%.1fs)" % ("PASS" if ok else "FAIL", t.__name__, time.time() - t0))
        passed += ok
        failed += not ok
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
