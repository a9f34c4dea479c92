"""
testbed.py: a test bed of real processes for bambu-bridge, used by the integration tests and the
demo.  Standard library only; run with /usr/bin/python3.

    CA(dir)            a test CA made with the openssl CLI; leaf(cn) for printers (CN = serial,
                       no subjectAltName, like a real printer), https_cert() for the receiver.
    Broker(...)        one mosquitto over TLS standing in for one printer: user bblp, password =
                       access code, reports published on device/SERIAL/report, the bridge's
                       requests recorded from device/SERIAL/request.
    Receiver(...)      scripts/receiver.py: the HTTPS stand-in for Discord and webhook receivers.
    Bridge(...)        the bridge under test: writes bridge.conf and printers.d/, runs it.
    Bed()              a context manager that owns a temporary folder and every process started
                       through it; everything is stopped by pid on exit (and at interpreter exit).
    wait_until(fn)     poll until fn() is true, with a deadline and a clear AssertionError.

Every process is started from here, tracked by its pid, and stopped by that pid; nothing is ever
killed by name.
"""
import atexit
import json
import os
import random
import re
import shutil
import shlex
import signal
import socket
import string
import subprocess
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"
RECEIVER = os.path.join(REPO, "scripts", "receiver.py")

EVENTS = ("job_started", "job_succeeded", "job_cancelled", "job_failed",
          "hms_error", "hms_warning", "printer_offline", "printer_online")
TITLES = {"job_started": "Job started", "job_succeeded": "Job succeeded",
          "job_cancelled": "Job cancelled", "job_failed": "Job failed",
          "hms_error": "HMS error", "hms_warning": "HMS warning",
          "printer_offline": "Printer offline", "printer_online": "Printer online"}

# ---------------------------------------------------------------------------------------------
# processes

_live = {}          # pid -> Popen, over every bed, for the atexit sweep
_live_lock = threading.Lock()


def spawn(args, **kw):
    """Start a process and track it by pid."""
    kw.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.Popen(args, **kw)
    with _live_lock:
        _live[p.pid] = p
    return p


def reap(p, sig=signal.SIGTERM, timeout=5.0):
    """Stop one process by its pid (sig, then SIGKILL after timeout); returns its exit code."""
    if p is None:
        return None
    if p.poll() is None:
        try:
            p.send_signal(sig)
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        except ProcessLookupError:
            p.wait()
    with _live_lock:
        _live.pop(p.pid, None)
    return p.returncode


def _sweep():
    with _live_lock:
        procs = list(_live.values())
    for p in procs:
        reap(p, timeout=2.0)


atexit.register(_sweep)


def run(args, input=None, timeout=30, check=True):
    """Run a short command to completion; returns CompletedProcess (stdout+stderr as bytes)."""
    r = subprocess.run(args, input=input, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(map(str, args[:3])), r.returncode,
                                                   r.stdout.decode(errors="replace")[-500:]))
    return r


# ---------------------------------------------------------------------------------------------
# waiting

def wait_until(fn, timeout=10.0, interval=0.05, what=None):
    """Poll fn() until it returns something true and return that; AssertionError on timeout.
    what: text (or a callable giving text) that says what was awaited, for the message."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() >= deadline:
            desc = what() if callable(what) else what
            raise AssertionError("timed out after %.1fs waiting for %s" %
                                 (timeout, desc or getattr(fn, "__name__", "a condition")))
        time.sleep(interval)


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def token(n=8, alphabet=string.ascii_letters + string.digits):
    return "".join(random.SystemRandom().choice(alphabet) for _ in range(n))


def new_serial(prefix="01S09C"):
    return prefix + "".join(random.choice(string.digits) for _ in range(15 - len(prefix)))


def _read_lines(path):
    """Complete lines of a file that another process appends to (a partial last line is left)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    lines = data.split(b"\n")
    return lines[:-1]


# ---------------------------------------------------------------------------------------------
# certificates

class CA:
    """A test CA made with the openssl CLI.  Printer leaves carry CN = serial and no extensions
    at all (no subjectAltName), like a real printer's certificate."""

    def __init__(self, dirpath, name="bambu-bridge test CA"):
        self.dir = dirpath
        os.makedirs(dirpath, exist_ok=True)
        self.ca_path = os.path.join(dirpath, "ca.pem")
        self.key_path = os.path.join(dirpath, "ca.key")
        self._leaves = {}
        self._nkeys = 0
        self._https = None
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
             "-days", "30", "-subj", "/CN=" + name, "-keyout", self.key_path,
             "-out", self.ca_path])

    def _issue(self, cn, base, extfile=None):
        key, csr, pem = base + ".key", base + ".csr", base + ".pem"
        run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn,
             "-keyout", key, "-out", csr])
        args = ["openssl", "x509", "-req", "-in", csr, "-CA", self.ca_path, "-CAkey",
                self.key_path, "-set_serial", str(random.randrange(1, 2 ** 62)), "-days", "30",
                "-sha256", "-out", pem]
        if extfile:
            args += ["-extfile", extfile, "-extensions", "ext"]
        run(args)
        os.unlink(csr)
        return pem, key

    def leaf(self, cn, new_key=False):
        """(cert, key) for a printer whose certificate names cn.  The same files on every call
        unless new_key: then a fresh key and certificate with the same CN."""
        if cn in self._leaves and not new_key:
            return self._leaves[cn]
        self._nkeys += 1
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", cn)
        base = os.path.join(self.dir, "leaf-%s-%d" % (safe, self._nkeys))
        pair = self._issue(cn, base)
        if cn not in self._leaves:
            self._leaves[cn] = pair
        return pair

    def https_cert(self):
        """(cert, key) for the HTTPS receiver: subjectAltName IP:127.0.0.1, DNS:localhost."""
        if self._https is None:
            ext = os.path.join(self.dir, "https.ext")
            with open(ext, "w") as f:
                f.write("[ext]\nsubjectAltName = IP:127.0.0.1, DNS:localhost\n"
                        "basicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n")
            self._https = self._issue("localhost", os.path.join(self.dir, "https"), ext)
        return self._https


# ---------------------------------------------------------------------------------------------
# a printer: one mosquitto broker

class Broker:
    """One mosquitto over TLS standing in for one printer."""

    def __init__(self, dirpath, serial, access_code, ca, cert_cn=None, port=None,
                 passwd_code=None, name=None, leaf=None, leaf_ca=None, tls12_only=False):
        """leaf: (cert, key) to present instead of ca.leaf(cert_cn or serial), signed by
        leaf_ca (default ca); passwd_code: the code the broker accepts, when it should refuse
        the access_code the bridge is given; tls12_only: refuse TLS 1.3, like an X1C."""
        self.dir = dirpath
        os.makedirs(dirpath, exist_ok=True)
        self.serial = serial
        self.access_code = access_code              # what the bridge is configured with
        self.code = passwd_code or access_code      # what the broker accepts
        self.ca = leaf_ca or ca      # what the bed's own clients trust
        self.name = name or serial.lower()
        self.port = port or free_port()
        self.cert, self.key = leaf or ca.leaf(cert_cn or serial)
        self.report_topic = "device/%s/report" % serial
        self.request_topic = "device/%s/request" % serial
        self.log_path = os.path.join(dirpath, "mosquitto.log")
        self.requests_path = os.path.join(dirpath, "requests.txt")
        self.conf_path = os.path.join(dirpath, "mosquitto.conf")
        self.proc = None
        self.sub = None
        self._keep = None
        self._npub = 0
        self._seq = 50000
        self.env = None
        if tls12_only:
            # Like an X1C or H2D: TLS 1.2 and nothing else (mosquitto's tls_version is only a
            # minimum, so cap the maximum through OpenSSL's configuration).
            cnf = os.path.join(dirpath, "openssl-tls12.cnf")
            with open(cnf, "w") as f:
                f.write("openssl_conf = default_conf\n[default_conf]\nssl_conf = ssl_sect\n"
                        "[ssl_sect]\nsystem_default = tls12\n[tls12]\n"
                        "MinProtocol = TLSv1.2\nMaxProtocol = TLSv1.2\n")
            self.env = dict(os.environ, OPENSSL_CONF=cnf)
        passwd = os.path.join(dirpath, "passwd")
        run(["mosquitto_passwd", "-c", "-b", passwd, "bblp", self.code])
        os.chmod(passwd, 0o600)
        with open(self.conf_path, "w") as f:
            f.write("\n".join([
                "user root",
                "per_listener_settings false",
                "allow_anonymous false",
                "password_file " + passwd,
                "persistence false",
                "log_dest file " + self.log_path,
                "log_type error",
                "log_type warning",
                "log_type notice",
                "log_type information",
                "log_type subscribe",
                "connection_messages true",
                "log_timestamp true",
                "listener %d 127.0.0.1" % self.port,
                "cafile " + self.ca.ca_path,
                "certfile " + self.cert,
                "keyfile " + self.key,
                ""]))

    # -- life cycle

    def start(self, timeout=10):
        if self.running():
            return self
        self._log_mark = len(_read_lines(self.log_path))
        err = open(os.path.join(self.dir, "mosquitto.stderr"), "ab")
        self.proc = spawn(["mosquitto", "-c", self.conf_path], stdout=subprocess.DEVNULL,
                          stderr=err, env=self.env)
        err.close()
        # Ready when its log says so (a probe connection would show up in the log as a client).
        wait_until(lambda: self.proc.poll() is not None or any(
            re.search(rb"mosquitto version \S+ running", l)
            for l in _read_lines(self.log_path)[self._log_mark:]), timeout,
            what="mosquitto on port %d" % self.port)
        if self.proc.poll() is not None:
            raise RuntimeError("mosquitto exited (%s): see %s" % (self.proc.returncode,
                                                                  self.dir))
        # Record what the bridge asks the printer, from before the bridge can connect.
        self._nsub = getattr(self, "_nsub", 0) + 1
        subid = "bed-sub-%s-%d" % (self.serial, self._nsub)
        out = open(self.requests_path, "ab")
        self.sub = spawn(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.port),
                          "--cafile", self.ca.ca_path, "--insecure", "-u", "bblp",
                          "-P", self.code, "-i", subid, "-t", self.request_topic,
                          "-F", "%U %t %p"],
                         stdout=out, stderr=subprocess.STDOUT)
        out.close()
        wait_until(lambda: any(subid.encode() in l and self.request_topic.encode() in l
                               for l in _read_lines(self.log_path)[self._log_mark:]),
                   timeout, what="the request recorder's subscription on %s" % self.name)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """The printer goes away: stop the keep-alive, the recorder and the broker (by pid)."""
        self.keepalive(False)
        reap(self.sub)
        self.sub = None
        rc = reap(self.proc)
        self.proc = None
        return rc

    def restart(self, timeout=10):
        """Stop and start again on the same port with the same certificates."""
        self.stop()
        return self.start(timeout)

    close = stop

    # -- traffic

    def _client(self, tool, cid):
        return [tool, "-h", "127.0.0.1", "-p", str(self.port), "--cafile", self.ca.ca_path,
                "--insecure", "-u", "bblp", "-P", self.code, "-i", cid]

    def publish(self, payload, qos=1, topic=None):
        """Publish one report (dict, str or bytes) as the printer; returns once the broker has
        it (QoS 1), so successive publishes reach the bridge in order."""
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload, separators=(",", ":"))
        self._npub += 1
        args = self._client("mosquitto_pub", "bed-pub-%s-%d" % (self.serial, self._npub))
        args += ["-q", str(qos), "-t", topic or self.report_topic]
        if isinstance(payload, bytes):
            fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".bin")
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
            try:
                run(args + ["-f", tmp])
            finally:
                os.unlink(tmp)
        elif len(payload) > 32 * 1024:
            run(args + ["-s"], input=payload.encode())
        else:
            run(args + ["-m", payload])

    def publish_many(self, payloads, qos=1):
        """Publish many reports (dicts or str) in order over one connection (mosquitto_pub -l),
        much faster than publish() one by one; returns once the broker has them all."""
        lines = []
        for pl in payloads:
            if isinstance(pl, (dict, list)):
                pl = json.dumps(pl, separators=(",", ":"))
            assert "\n" not in pl, "publish_many: a payload holds a newline"
            lines.append(pl.encode())
        self._npub += 1
        args = self._client("mosquitto_pub", "bed-pub-%s-%d" % (self.serial, self._npub))
        run(args + ["-q", str(qos), "-t", self.report_topic, "-l"],
            input=b"\n".join(lines) + b"\n", timeout=60)

    def keepalive(self, on=True, interval=1.0):
        """Like a real printer, publish a small temperature delta every interval seconds (one
        connection, mosquitto_pub -l), so that a quiet test is not a silent printer.  Start it
        after the baseline report: a delta before any full report has no base."""
        if not on:
            if self._keep is not None:
                stop, thread, proc = self._keep
                stop.set()
                thread.join(5)
                reap(proc)
                self._keep = None
            return
        if self._keep is not None:
            return
        self._npub += 1
        proc = spawn(self._client("mosquitto_pub", "bed-keep-%s-%d" % (self.serial, self._npub))
                     + ["-q", "0", "-t", self.report_topic, "-l"],
                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
        stop = threading.Event()

        def beat():
            t = 25.0
            while not stop.is_set() and proc.poll() is None:
                self._seq += 1
                t = 25.0 + random.random()
                line = json.dumps({"print": {"command": "push_status", "msg": 1,
                                             "sequence_id": str(self._seq),
                                             "bed_temper": round(t, 2)}})
                try:
                    proc.stdin.write(line.encode() + b"\n")
                    proc.stdin.flush()
                except (BrokenPipeError, ValueError, OSError):
                    return
                stop.wait(interval)

        thread = threading.Thread(target=beat, daemon=True)
        thread.start()
        self._keep = (stop, thread, proc)

    def requests_timed(self):
        """[(unix time, payload str)] the bridge published on device/SERIAL/request."""
        out = []
        for line in _read_lines(self.requests_path):
            parts = line.split(b" ", 2)
            if len(parts) == 3 and parts[1] == self.request_topic.encode():
                try:
                    t = float(parts[0])
                except ValueError:
                    continue
                out.append((t, parts[2].decode("utf-8", errors="replace")))
        return out

    def requests(self):
        """Payloads (str) the bridge published on device/SERIAL/request, in order."""
        return [p for _, p in self.requests_timed()]

    def commands(self, timed=False):
        """The command name of each request ("pushall", "get_version", ...); with timed,
        [(unix time, command)]."""
        out = []
        for t, r in self.requests_timed():
            try:
                doc = json.loads(r)
            except ValueError:
                out.append((t, None) if timed else None)
                continue
            cmd = None
            if isinstance(doc, dict):
                for v in doc.values():
                    if isinstance(v, dict) and "command" in v:
                        cmd = v["command"]
            out.append((t, cmd) if timed else cmd)
        return out

    def pushalls(self):
        return self.commands().count("pushall")

    def wait_pushall(self, more_than=0, timeout=15):
        """Wait until the bridge has sent more than more_than pushall requests."""
        return wait_until(lambda: self.pushalls() > more_than, timeout,
                          what="a pushall request on %s (seen %d)" % (self.name, more_than))

    def log(self):
        return b"\n".join(_read_lines(self.log_path)).decode(errors="replace")

    def connections(self):
        """Client connections (CONNECT accepted) seen by this broker, not counting the bed's own
        clients: the bridge's sessions, over every start of this broker."""
        n = 0
        for line in _read_lines(self.log_path):
            m = re.search(rb"New client connected from \S+ as (\S+)", line)
            if m and not m.group(1).startswith(b"bed-"):
                n += 1
        return n

    def attempts(self):
        """Connections tried against this broker by anyone but the bed's own clients: the
        bridge's tries, including those refused (bad password) or failed in TLS."""
        lines = _read_lines(self.log_path)
        tcp = sum(1 for l in lines if b"New connection from" in l)
        tls = sum(1 for l in lines if re.search(rb"Client connection from \S+ failed", l))
        bed = sum(1 for l in lines if re.search(rb"New client connected from \S+ as bed-", l))
        return tcp + tls - bed


# ---------------------------------------------------------------------------------------------
# the HTTPS receiver

class Note:
    """One request the receiver recorded, decoded."""

    def __init__(self, rec):
        self.rec = rec
        self.time = rec["time"]
        self.path = rec["path"]
        self.status = rec["status"]
        self.kind = rec.get("kind")
        self.headers = rec["headers"]
        self.raw = rec["body"]
        try:
            self.body = json.loads(self.raw)
        except ValueError:
            self.body = None
        self.event = None
        self.printer = None
        b = self.body if isinstance(self.body, dict) else {}
        if self.kind == "webhook":
            self.event = b.get("type")
            data = b.get("data") if isinstance(b.get("data"), dict) else {}
            pr = data.get("printer") if isinstance(data.get("printer"), dict) else {}
            self.printer = pr.get("name")
            self.text = self.raw
        else:
            embeds = b.get("embeds") if isinstance(b.get("embeds"), list) else []
            e0 = embeds[0] if embeds and isinstance(embeds[0], dict) else {}
            title = str(e0.get("title", ""))
            for ev, words in TITLES.items():
                if words.lower() in title.lower():
                    self.event = ev
            self.text = self._embed_text(b)

    @staticmethod
    def _embed_text(b):
        parts = [str(b.get("content", ""))]
        for e in b.get("embeds") or []:
            if not isinstance(e, dict):
                continue
            parts += [str(e.get("title", "")), str(e.get("description", ""))]
            for k in ("author", "footer"):
                if isinstance(e.get(k), dict):
                    parts += [str(v) for v in e[k].values()]
            for f in e.get("fields") or []:
                if isinstance(f, dict):
                    parts += [str(f.get("name", "")), str(f.get("value", ""))]
        return "\n".join(parts)

    @property
    def ok(self):
        return 200 <= self.status < 300

    @property
    def data(self):
        b = self.body if isinstance(self.body, dict) else {}
        return b.get("data") if isinstance(b.get("data"), dict) else {}

    def about(self, printer):
        """Does this notification concern printer (by name)?"""
        if self.kind == "webhook":
            return self.printer == printer
        return printer in self.text

    def __repr__(self):
        return "<%s %s %s %s %d>" % (self.kind, self.event, self.printer or "", self.path,
                                     self.status)


class Receiver:
    """scripts/receiver.py on a port the OS chose (quiet unless quiet=False)."""

    def __init__(self, dirpath, ca, api_key=None, extra_args=(), quiet=True):
        """quiet=False: the receiver prints each notification to DIR/stdout (for the demo)."""
        self.dir = dirpath
        os.makedirs(dirpath, exist_ok=True)
        self.api_key = api_key
        cert, key = ca.https_cert()
        self.port_file = os.path.join(dirpath, "port")
        self.record = os.path.join(dirpath, "requests.jsonl")
        self.stdout_path = os.path.join(dirpath, "stdout")
        args = [PYTHON, RECEIVER, "--cert", cert, "--key", key, "--port", "0",
                "--port-file", self.port_file, "--record", self.record]
        if quiet:
            args.append("--quiet")
        if api_key:
            args += ["--api-key", api_key]
        args += list(extra_args)
        self._args = args
        self._quiet = quiet
        self.proc = None
        self.port = 0
        self.start()

    def start(self):
        """Start the receiver (again): on the port it had before, if it had one; requests are
        appended to the same record.  Per-path counters start from zero again."""
        if self.proc is not None and self.proc.poll() is None:
            return self
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        args = list(self._args)
        args[args.index("--port") + 1] = str(self.port)
        out = subprocess.DEVNULL if self._quiet else open(self.stdout_path, "ab")
        err = open(os.path.join(self.dir, "stderr"), "ab")
        self.proc = spawn(args, stdout=out, stderr=err)
        err.close()
        if out is not subprocess.DEVNULL:
            out.close()
        wait_until(lambda: self.proc.poll() is not None or os.path.exists(self.port_file), 10,
                   what="the receiver's port file")
        if self.proc.poll() is not None:
            raise RuntimeError("receiver exited: see %s/stderr" % self.dir)
        with open(self.port_file) as f:
            self.port = int(f.read())
        return self

    def stop(self):
        """The receiver goes away (by pid); start() brings it back on the same port."""
        reap(self.proc)

    def url(self, path=""):
        return "https://127.0.0.1:%d/%s" % (self.port, path.lstrip("/"))

    def records(self):
        out = []
        for line in _read_lines(self.record):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def requests(self, path=None):
        """Every request as a Note (answered with any status); path: a substring to match."""
        return [Note(r) for r in self.records() if path is None or path in r["path"]]

    def notifications(self, kind=None, path=None, printer=None, event=None, delivered=True):
        """Notifications as Notes, in arrival order: only those answered 2xx unless
        delivered=False; filtered by kind ("discord"/"webhook"), path substring, printer name
        and event name."""
        out = []
        for n in self.requests(path):
            if n.kind not in ("discord", "webhook") or n.rec["method"] != "POST":
                continue
            if delivered and not n.ok:
                continue
            if kind and n.kind != kind:
                continue
            if printer and not n.about(printer):
                continue
            if event and n.event != event:
                continue
            out.append(n)
        return out

    def events(self, **kw):
        """Event names of notifications(**kw), in arrival order."""
        return [n.event for n in self.notifications(**kw)]

    def wait_for(self, pred, timeout=10, what=None):
        """Wait until pred(notifications()) is true; returns the notifications."""
        def probe():
            notes = self.notifications()
            return notes if pred(notes) else None
        return wait_until(probe, timeout,
                          what=lambda: "%s; got %r" % (what or "notifications",
                                                       self.notifications(delivered=False)))

    def wait_event(self, event, timeout=10, count=1, **kw):
        """Wait until count notifications of event (filtered as in notifications) arrived;
        returns them."""
        def probe():
            notes = self.notifications(event=event, **kw)
            return notes if len(notes) >= count else None
        return wait_until(probe, timeout, what=lambda: "%d x %s %s; got %r" % (
            count, event, kw or "", self.notifications(delivered=False)))

    def close(self):
        reap(self.proc)


# ---------------------------------------------------------------------------------------------
# the bridge under test

class Bridge:
    """The real bridge process with a generated configuration."""

    def __init__(self, dirpath, binary, ca=None):
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            raise AssertionError("bridge binary not found or not executable: %s "
                                 "(build it with make, or set BRIDGE_BIN)" % binary)
        self.dir = dirpath
        os.makedirs(dirpath, exist_ok=True)
        self.binary = binary
        self.ca = ca
        self.conf = os.path.join(dirpath, "bridge.conf")
        self.printers_dir = os.path.join(dirpath, "printers.d")
        self.state_dir = os.path.join(dirpath, "state")
        self.log_path = os.path.join(dirpath, "bridge.log")
        self.proc = None
        self.secrets = {}           # description -> secret text that must never be logged
        self.outputs = []           # outputs of check and other short commands
        self.expected_exit = False
        self.exit_codes = []

    def write_config(self, brokers=(), sinks=(), offline_after="3s", extra_printers=(),
                     overrides=None, bridge_lines=()):
        """bridge.conf and printers.d/<name>.conf.  brokers: Broker objects (host 127.0.0.1,
        their port, serial, access_code and the test CA as ca_file); overrides: {printer name:
        {key: value or None to leave the key out}}; extra_printers: more printer dicts (name,
        host, port, serial, access_code, ...); sinks: dicts {kind: discord|webhook, name, url,
        api_key?, events?, ca_file?} (ca_file defaults to the test CA)."""
        os.makedirs(self.printers_dir, exist_ok=True)
        os.makedirs(self.state_dir, exist_ok=True)
        for f in os.listdir(self.printers_dir):
            os.unlink(os.path.join(self.printers_dir, f))
        overrides = overrides or {}
        printers = []
        for b in brokers:
            printers.append({"name": b.name, "host": "127.0.0.1", "port": b.port,
                             "serial": b.serial, "access_code": b.access_code,
                             "ca_file": self.ca.ca_path if self.ca else None})
        printers += [dict(p) for p in extra_printers]
        for p in printers:
            p.update(overrides.get(p["name"], {}))
            if p.get("access_code"):
                self.secrets["access code of printer %s" % p["name"]] = str(p["access_code"])
            lines = ["# written by the test bed", "[printer]"]
            lines += ["%s = %s" % (k, v) for k, v in p.items() if v is not None]
            with open(os.path.join(self.printers_dir, p["name"] + ".conf"), "w") as f:
                f.write("\n".join(lines) + "\n")
                os.fchmod(f.fileno(), 0o640)    # as installed; 0644 draws a warning
        lines = ["# written by the test bed", "[bridge]", "state_dir = " + self.state_dir,
                 "offline_after = " + offline_after]
        lines += list(bridge_lines)
        for s in sinks:
            s = dict(s)
            kind = s.pop("kind")
            lines += ["", "[%s]" % kind]
            url = s.pop("url")
            if kind == "discord":
                lines.append("webhook_url = " + url)
                self.secrets["Discord URL of sink %s" % s.get("name")] = url
                tok = url.rstrip("/").rsplit("/", 1)[-1]
                self.secrets["Discord token of sink %s" % s.get("name")] = tok
            else:
                lines.append("url = " + url)
            if s.get("api_key"):
                self.secrets["api_key of sink %s" % s.get("name")] = s["api_key"]
            if isinstance(s.get("events"), (list, tuple)):
                s["events"] = " ".join(s["events"])
            if "ca_file" not in s and self.ca:
                s["ca_file"] = self.ca.ca_path
            lines += ["%s = %s" % (k, v) for k, v in s.items() if v is not None]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
            os.fchmod(f.fileno(), 0o640)
        return self.conf

    def _env(self):
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        env.pop("INVOCATION_ID", None)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        return env

    def start(self):
        """Run `bambu-bridge -c conf -s state -v run`, stdout and stderr to bridge.log."""
        assert self.proc is None or self.proc.poll() is not None, "bridge already running"
        log = open(self.log_path, "ab")
        # BRIDGE_WRAPPER runs the bridge under a tool, e.g. valgrind (make valgrind).
        wrapper = shlex.split(os.environ.get("BRIDGE_WRAPPER", ""))
        self.proc = spawn(wrapper + [self.binary, "-c", self.conf, "-s", self.state_dir, "-v",
                                     "run"],
                          stdout=log, stderr=subprocess.STDOUT, env=self._env())
        log.close()
        self.expected_exit = False
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, regex, timeout=10, flags=0):
        """Wait until a line of the log matches regex; returns the match."""
        rx = re.compile(regex, flags)

        def probe():
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError("bridge exited (%s) while waiting for log /%s/" %
                                     (self.proc.returncode, regex))
            return rx.search(self.log())
        return wait_until(probe, timeout, what="log line /%s/" % regex)

    def assert_running(self):
        if not self.running():
            raise AssertionError("the bridge is not running (exit code %s)" %
                                 (self.proc.returncode if self.proc else None))

    def stop(self, timeout=10):
        """SIGTERM, wait; returns the exit code."""
        if self.proc is None:
            return None
        self.expected_exit = True
        was_running = self.proc.poll() is None
        rc = reap(self.proc, signal.SIGTERM, timeout)
        if not was_running:
            self.expected_exit = False     # it had died by itself: let close() say so
        self.exit_codes.append(rc)
        return rc

    def kill(self):
        if self.proc is not None:
            self.expected_exit = True
            reap(self.proc, signal.SIGKILL)

    def check(self, conf=None, args=()):
        """Run the check command; returns (exit code, stdout+stderr as text)."""
        r = run([self.binary, "-c", conf or self.conf] + list(args) + ["check"],
                check=False, timeout=30)
        out = r.stdout.decode("utf-8", errors="replace")
        self.outputs.append(out)
        return r.returncode, out

    def problems(self):
        """After the run: secrets seen in the log or outputs, a crash, sanitizer reports."""
        out = []
        texts = [("the bridge log", self.log())] + [("check output", o) for o in self.outputs]
        for what, text in texts:
            for desc, secret in self.secrets.items():
                if secret and secret in text:
                    out.append("%s appears in %s" % (desc, what))
            for pat in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
                if pat in text:
                    out.append("sanitizer report in %s: %s" % (what, pat))
        if self.proc is not None and self.proc.poll() is not None and not self.expected_exit:
            out.append("the bridge exited by itself with code %s" % self.proc.returncode)
        for rc in self.exit_codes:
            if rc not in (0, None, -signal.SIGKILL):
                out.append("the bridge exited with code %s when stopped with SIGTERM" % rc)
        return out

    def close(self):
        if self.running():
            self.stop()


# ---------------------------------------------------------------------------------------------
# the bed

def default_binary():
    return os.environ.get("BRIDGE_BIN") or os.path.join(REPO, "build", "bambu-bridge")


class Bed:
    """A temporary folder and every process of one test; all stopped on exit."""

    def __init__(self, binary=None, keep=None):
        self.dir = tempfile.mkdtemp(prefix="bambu-bed-")
        self.binary = binary or default_binary()
        self.keep = keep if keep is not None else bool(os.environ.get("BED_KEEP"))
        self._ca = None
        self.brokers = []
        self.receivers = []
        self.bridges = []
        self.closed = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    @property
    def ca(self):
        if self._ca is None:
            self._ca = CA(self.path("ca"))
        return self._ca

    def broker(self, serial=None, name=None, access_code=None, start=True, **kw):
        """A printer stand-in, started unless start=False; random serial and access code."""
        serial = serial or new_serial()
        access_code = access_code or token(8)
        b = Broker(self.path("printer-%d" % len(self.brokers)), serial, access_code, self.ca,
                   name=name, **kw)
        self.brokers.append(b)
        if start:
            b.start()
        return b

    def receiver(self, api_key=None, extra_args=(), quiet=True):
        r = Receiver(self.path("receiver-%d" % len(self.receivers)), self.ca, api_key,
                     extra_args, quiet=quiet)
        self.receivers.append(r)
        return r

    def bridge(self):
        b = Bridge(self.path("bridge-%d" % len(self.bridges)), self.binary, self.ca)
        self.bridges.append(b)
        return b

    @staticmethod
    def discord_sink(rx, name="discord", prefix="", events=None):
        """A Discord sink on receiver rx: https://.../PREFIX/discord/api/webhooks/ID/TOKEN."""
        wid = str(random.randrange(10 ** 17, 10 ** 18))
        url = rx.url("%sdiscord/api/webhooks/%s/%s" % (prefix, wid, token(60, string.ascii_letters
                                                                          + string.digits
                                                                          + "_-")))
        s = {"kind": "discord", "name": name, "url": url}
        if events is not None:
            s["events"] = events
        return s

    @staticmethod
    def webhook_sink(rx, name="ops", prefix="", api_key=None, events=None):
        """A webhook sink on receiver rx: https://.../PREFIX/hook/NAME; api_key: the receiver's
        own unless given (False: none, so the bridge generates one)."""
        s = {"kind": "webhook", "name": name, "url": rx.url("%shook/%s" % (prefix, name))}
        key = rx.api_key if api_key is None else api_key
        if key:
            s["api_key"] = key
        if events is not None:
            s["events"] = events
        return s

    def start_bridge(self, brokers, sinks, **kw):
        """A bridge with a configuration for brokers and sinks (see Bridge.write_config),
        started."""
        b = self.bridge()
        b.write_config(brokers, sinks, **kw)
        return b.start()

    def bring_up(self, broker, base, keepalive=True, timeout=15, after=0):
        """The printer answers the bridge: wait for a pushall (more than `after` of them),
        publish the baseline report, then keep the printer chatty with small deltas."""
        broker.wait_pushall(after, timeout)
        broker.publish(base)
        if keepalive:
            broker.keepalive(True)

    def close(self):
        """Stop everything by pid; returns the problems found (leaked secrets, crashes).
        The folder is removed unless BED_KEEP is set."""
        if self.closed:
            return []
        self.closed = True
        problems = []
        for b in self.bridges:
            try:
                b.close()
            except Exception as e:          # keep closing the rest
                problems.append("stopping the bridge: %s" % e)
            problems += b.problems()
        for b in self.brokers:
            b.stop()
        for r in self.receivers:
            r.close()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        return problems
