#!/usr/bin/python3
"""
receiver.py: an HTTPS stand-in for Discord and for webhook receivers, for the tests and the demo.

    /usr/bin/python3 scripts/receiver.py --cert CERT --key KEY [--host 127.0.0.1] [--port 0]
        [--port-file FILE] [--record FILE] [--api-key KEY] [--quiet] [--enforce-ratelimit]

The path chooses the behaviour, so one server hosts several sinks: optional fault segments,
then /discord/... (Discord-like) or /hook/... (a generic webhook receiver).

    /fail503/N/...    the first N requests to this path answer 503
    /limit429/N/...   the first N answer 429 with Discord's body and Retry-After: 1
    /gone404/...      always 404 {"message":"Unknown Webhook","code":10015}
    /gone401/...      always 401 {"message":"Invalid Webhook Token","code":50027}
    /slow/MS/...      wait MS milliseconds before answering
    /redirect/...     302 to /hook/x
    /bad400/...       400 with a body

Counters are kept per path (without the query).  Each request is appended to --record as one
JSON line: time, method, path (with query), headers (lower-case names), body, status, kind,
sig_ok (Standard Webhooks signature: true/false, null when not checked) and key_ok (X-API-Key
equals --api-key; null when no key was given).  Standard library only.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

DISCORD_429 = {"message": "You are being rate limited.", "retry_after": 0.5, "global": False}
DISCORD_404 = {"message": "Unknown Webhook", "code": 10015}
DISCORD_401 = {"message": "Invalid Webhook Token", "code": 50027}
BUCKET_SIZE = 5
BUCKET_WINDOW = 2.0

EVENT_WORDS = {
    "job_started": "Job started", "job_succeeded": "Job succeeded",
    "job_cancelled": "Job cancelled", "job_failed": "Job failed",
    "hms_error": "HMS error", "hms_warning": "HMS warning",
    "printer_offline": "Printer offline", "printer_online": "Printer online",
}


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.counts = {}        # path -> requests seen
        self.buckets = {}       # path -> (window start, used)
        self.msg_id = 1000
        self.record = open(args.record, "a", encoding="utf-8") if args.record else None

    def count(self, path):
        with self.lock:
            n = self.counts.get(path, 0) + 1
            self.counts[path] = n
            return n

    def bucket(self, path):
        """Take one request from path's bucket: (allowed, remaining, reset_after)."""
        now = time.monotonic()
        with self.lock:
            start, used = self.buckets.get(path, (now, 0))
            if now - start >= BUCKET_WINDOW:
                start, used = now, 0
            allowed = used < BUCKET_SIZE
            if allowed:
                used += 1
            self.buckets[path] = (start, used)
            return allowed, BUCKET_SIZE - used, max(0.0, BUCKET_WINDOW - (now - start))

    def next_id(self):
        with self.lock:
            self.msg_id += 1
            return self.msg_id

    def write(self, rec):
        if self.record is None:
            return
        line = json.dumps(rec, ensure_ascii=True) + "\n"
        with self.lock:
            self.record.write(line)
            self.record.flush()


def check_signature(headers, body, api_key):
    """Standard Webhooks: v1,base64(HMAC-SHA256(key, id.timestamp.body)); None when absent."""
    sig = headers.get("webhook-signature")
    if api_key is None or sig is None:
        return None
    wid = headers.get("webhook-id")
    ts = headers.get("webhook-timestamp")
    if not wid or not ts:
        return False
    try:
        if abs(time.time() - int(ts)) > 300:
            return False
    except ValueError:
        return False
    want = signature(api_key.encode("utf-8"), wid, ts, body)
    return any(hmac.compare_digest(s, want) for s in sig.split())


def signature(key, wid, ts, body):
    """Standard Webhooks' v1 signature: key (bytes), id and timestamp (str), body (bytes)."""
    mac = hmac.new(key, wid.encode() + b"." + str(ts).encode() + b"." + body,
                   hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def parse_path(path):
    """Split the fault segments off: (faults dict, kind, rest)."""
    segs = [s for s in path.split("/") if s != ""]
    faults = {}
    i = 0
    while i < len(segs):
        s = segs[i]
        if s in ("fail503", "limit429", "slow") and i + 1 < len(segs):
            try:
                faults[s] = int(segs[i + 1])
            except ValueError:
                break
            i += 2
        elif s in ("gone404", "gone401", "redirect", "bad400"):
            faults[s] = True
            i += 1
        else:
            break
    kind = None
    if i < len(segs) and segs[i] == "discord":
        kind = "discord"
    elif i < len(segs) and segs[i] == "hook":
        kind = "webhook"
    return faults, kind


def describe(kind, body):
    """One line for a person: sink kind, event in words, printer and the key details."""
    try:
        doc = json.loads(body)
    except ValueError:
        return "%-7s (not JSON, %d bytes)" % (kind, len(body))
    if not isinstance(doc, dict):
        return "%-7s (JSON %s)" % (kind, type(doc).__name__)
    if kind == "discord":
        embeds = doc.get("embeds") or [{}]
        e = embeds[0] if isinstance(embeds[0], dict) else {}
        parts = [str(e.get("title", "(no title)"))]
        if e.get("description"):
            parts.append(str(e["description"]).replace("\n", " / "))
        for f in e.get("fields") or []:
            if isinstance(f, dict):
                parts.append("%s: %s" % (f.get("name", ""),
                                         str(f.get("value", "")).replace("\n", " / ")))
        if doc.get("content"):
            parts.append(str(doc["content"]))
        return "discord " + " | ".join(parts)
    typ = doc.get("type", "?")
    data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
    printer = data.get("printer") if isinstance(data.get("printer"), dict) else {}
    parts = [EVENT_WORDS.get(typ, str(typ)), "printer %s" % printer.get("name", "?")]
    job = data.get("job")
    if isinstance(job, dict):
        if job.get("name"):
            parts.append("job %r" % job["name"])
        if job.get("progress") is not None:
            parts.append("%s%%" % job["progress"])
    hms = data.get("hms")
    if isinstance(hms, dict):
        parts.append("%s (%s) %s" % (hms.get("code", "?"), hms.get("severity", "?"),
                                     hms.get("url", "")))
    return "webhook " + " | ".join(parts)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bed-receiver/1"

    def log_message(self, fmt, *args):     # silence http.server's access log
        pass

    def setup(self):
        # http.server writes a response in several small pieces: without TCP_NODELAY each
        # answer waits ~40 ms for the client's delayed ACK.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request.settimeout(30)
        try:
            self.request.do_handshake()
        except (ssl.SSLError, OSError):
            raise
        super().setup()

    def handle(self):
        try:
            super().handle()
        except (ssl.SSLError, ConnectionError, TimeoutError, OSError):
            self.close_connection = True

    def do_any(self):
        st = self.server.state
        t0 = time.time()
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        url = urlsplit(self.path)
        faults, kind = parse_path(url.path)
        count = st.count(url.path)
        extra = {}
        if "slow" in faults:
            time.sleep(faults["slow"] / 1000.0)

        sig_ok = check_signature(headers, body, st.args.api_key) if kind == "webhook" else None
        key_ok = None
        if kind == "webhook" and st.args.api_key is not None:
            key_ok = headers.get("x-api-key") == st.args.api_key

        if "gone404" in faults:
            status, out = 404, DISCORD_404
        elif "gone401" in faults:
            status, out = 401, DISCORD_401
        elif "bad400" in faults:
            status, out = 400, {"message": "Invalid Form Body", "code": 50035}
        elif "redirect" in faults:
            status, out = 302, None
            extra["Location"] = "/hook/x"
        elif faults.get("fail503", 0) >= count:
            status, out = 503, {"message": "Service Unavailable"}
        elif faults.get("limit429", 0) >= count:
            status, out = 429, DISCORD_429
            extra["Retry-After"] = "1"
        elif kind == "discord":
            allowed, remaining, reset = st.bucket(url.path)
            if not allowed and st.args.enforce_ratelimit:
                status, out = 429, dict(DISCORD_429, retry_after=round(reset, 3))
                extra["Retry-After"] = str(max(1, int(reset + 0.999)))
            elif parse_qs(url.query).get("wait", [""])[-1] == "true":
                status, out = 200, self.discord_message(body)
            else:
                status, out = 204, None
            extra["X-RateLimit-Limit"] = str(BUCKET_SIZE)
            extra["X-RateLimit-Remaining"] = str(max(0, remaining))
            extra["X-RateLimit-Reset-After"] = "%.3f" % reset
        elif kind == "webhook":
            status, out = 200, {"ok": True}
        else:
            status, out = 404, {"message": "no such sink"}

        if kind == "discord" and status == 429:
            extra.setdefault("X-RateLimit-Limit", str(BUCKET_SIZE))
            extra["X-RateLimit-Remaining"] = "0"
            extra["X-RateLimit-Reset-After"] = "%.3f" % DISCORD_429["retry_after"]

        text = body.decode("utf-8", errors="replace")
        st.write({"time": t0, "method": self.command, "path": self.path, "headers": headers,
                  "body": text, "status": status, "kind": kind, "sig_ok": sig_ok,
                  "key_ok": key_ok})
        if not st.args.quiet and kind is not None and self.command == "POST":
            mark = "" if 200 <= status < 300 else "  [answered %d]" % status
            print("%s %s%s" % (time.strftime("%H:%M:%S", time.localtime(t0)),
                               describe(kind, text), mark), flush=True)

        data = b"" if out is None else json.dumps(out).encode()
        self.send_response(status)
        for k, v in extra.items():
            self.send_header(k, v)
        if status != 204:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if status != 204 and data:
            self.wfile.write(data)

    def discord_message(self, body):
        try:
            doc = json.loads(body)
        except ValueError:
            doc = {}
        if not isinstance(doc, dict):
            doc = {}
        return {"id": str(self.server.state.next_id()), "type": 0, "channel_id": "1",
                "content": doc.get("content", ""), "embeds": doc.get("embeds", []),
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                "webhook_id": "1", "flags": doc.get("flags", 0)}

    do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = do_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, ctx, state):
        self.ctx = ctx
        self.state = state
        super().__init__(addr, Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        # The handshake runs in the request's own thread (Handler.setup), so a slow or broken
        # client never holds up the others.
        return self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--record")
    ap.add_argument("--api-key")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--enforce-ratelimit", action="store_true",
                    help="answer 429 when a Discord path's bucket (5 per 2 s) is empty")
    args = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv = Server((args.host, args.port), ctx, State(args))
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    if not args.quiet:
        print("receiver: listening on https://%s:%d/" % (args.host, port), flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    sys.exit(main())
