#!/usr/bin/python3
"""
demo.py: what `make demo` runs (through scripts/demo.sh): three simulated printers, a local
Discord/webhook stand-in and the real bridge, playing a time-compressed day of printing.

    /usr/bin/python3 scripts/demo.py [--once] [--keep]

    --once   (or DEMO_ONCE=1)  exit by itself after the story: 0 when every expected
             notification arrived at both sinks and nothing unexpected did, 1 otherwise
    --keep   (or BED_KEEP=1)   keep the temporary folder (configuration, logs) afterwards

Everything runs on 127.0.0.1 from a temporary folder and is stopped by pid on exit, Ctrl-C or
SIGTERM.  The bridge is build/bambu-bridge (or $BRIDGE_BIN).  Standard library only.
"""
import argparse
import os
import re
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import simulate   # noqa: E402  (also puts tests/integration on sys.path)
import testbed    # noqa: E402

BRIDGE_READY_TIMEOUT = 30       # s for the bridge to connect to every printer
SETTLE_TIMEOUT = 60             # s after the story for the last notifications
LEVELS = {"0": "emerg", "1": "alert", "2": "crit", "3": "error", "4": "warn", "5": "note",
          "6": "info", "7": "debug"}


class Stop(Exception):
    """SIGTERM (SIGINT is KeyboardInterrupt)."""


# ---------------------------------------------------------------------------------------------
# output: one line at a time, each with a time and a tag

class Console:
    COLORS = {"sim": "36", "bridge": "90", "notify": "32;1", "demo": "35;1", "!": "31;1"}

    def __init__(self):
        self.lock = threading.Lock()
        self.color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")

    def line(self, tag, text, color=None):
        stamp = time.strftime("%H:%M:%S")
        label = "[%s]" % tag
        if self.color:
            label = "\033[%sm%s\033[0m" % (color or self.COLORS.get(tag, "0"), label)
        with self.lock:
            sys.stdout.write("%s %s %s\n" % (stamp, label, text))
            sys.stdout.flush()

    def raw(self, text=""):
        with self.lock:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()


OUT = Console()
STOPPING = threading.Event()    # once set, the simulators' narration is over


def say(model, text):
    if not STOPPING.is_set():
        OUT.line("sim", "%s: %s" % (model, text))


def demo(text):
    OUT.line("demo", text)


class Tail(threading.Thread):
    """Follow a file another process appends to; hand each complete line to show()."""

    def __init__(self, path, show):
        super().__init__(daemon=True)
        self.path, self.show = path, show
        self.pos, self.buf = 0, b""
        self.done = threading.Event()

    def drain(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return
        self.pos += len(data)
        self.buf += data
        *lines, self.buf = self.buf.split(b"\n")
        for l in lines:
            self.show(l.decode("utf-8", errors="replace").rstrip("\r"))

    def run(self):
        while not self.done.wait(0.1):
            self.drain()

    def stop(self):
        self.done.set()
        self.join(2)
        self.drain()


def show_bridge(line):
    m = re.match(r"^<(\d)>(?:\d{4}-\d\d-\d\dT[0-9:.]+Z )?(.*)$", line)
    if m:
        level, text = LEVELS.get(m.group(1), m.group(1)), m.group(2)
        OUT.line("bridge", "%-5s %s" % (level, text),
                 color="33" if level == "warn" else "31" if level in ("error", "crit") else None)
    elif line.strip():
        OUT.line("bridge", line)


def show_notification(line):
    m = re.match(r"^\d\d:\d\d:\d\d (.*)$", line)
    OUT.line("notify", m.group(1) if m else line)


# ---------------------------------------------------------------------------------------------
# the summary

def arrivals(rx, printers, t0):
    """{(model, event): {"discord": [seconds], "webhook": [seconds]}} and the notes that match no
    printer; seconds relative to t0."""
    got, stray = {}, []
    for n in rx.notifications():
        model = None
        for m, name in printers.items():
            if n.about(name):
                model = m
        if model is None or n.event is None:
            stray.append(n)
            continue
        got.setdefault((model, n.event), {}).setdefault(n.kind, []).append(n.time - t0)
    return got, stray


def missing(rx, printers, t0):
    got, _ = arrivals(rx, printers, t0)
    return [(m, e, k) for m, e in simulate.EXPECTED for k in ("discord", "webhook")
            if not got.get((m, e), {}).get(k)]


def summary(rx, printers, t0):
    """Print the table; returns True when every expected notification arrived at both sinks
    exactly once and nothing else arrived."""
    got, stray = arrivals(rx, printers, t0)
    ok = True
    rows = []

    def cell(times):
        if not times:
            return "MISSING"
        s = "+%.1fs" % times[0]
        return s if len(times) == 1 else "%s (x%d)" % (s, len(times))

    for key in simulate.EXPECTED + sorted(set(got) - set(simulate.EXPECTED)):
        m, e = key
        d, w = got.get(key, {}).get("discord", []), got.get(key, {}).get("webhook", [])
        expected = key in simulate.EXPECTED
        note = ""
        if not expected:
            note, ok = "UNEXPECTED", False
        elif not d or not w:
            note, ok = "missing", False
        elif len(d) > 1 or len(w) > 1:
            note, ok = "duplicate", False
        rows.append((printers[m], e, cell(d), cell(w), note))
    OUT.raw()
    OUT.raw("What arrived (seconds after the story began):")
    OUT.raw("  %-14s %-16s %-14s %-14s %s" % ("printer", "event", "discord", "webhook", ""))
    OUT.raw("  " + "-" * 66)
    for r in rows:
        OUT.raw("  %-14s %-16s %-14s %-14s %s" % r)
    for n in stray:
        OUT.raw("  (a notification about no known printer: %r)" % n)
        ok = False
    events = {e for (_, e), k in got.items() if k.get("discord") and k.get("webhook")}
    OUT.raw("  " + "-" * 66)
    OUT.raw("  %d of the 8 event kinds reached both sinks%s" % (
        len(events & set(testbed.EVENTS)), "" if ok else "; see the notes above"))
    OUT.raw()
    return ok


# ---------------------------------------------------------------------------------------------

BANNER = """\
===========================================================================================
 bambu-bridge demo: a day in a small print farm, compressed to about two minutes
===========================================================================================
 Starting, all on 127.0.0.1 and from a temporary folder:
   * three simulated printers, each a real MQTT broker (mosquitto, TLS, user bblp, its own
     access code, a certificate with CN = serial from a test CA):
       X1C  sends a FULL report every time            (msg 0)
       P1S  sends a full report when asked (pushall), then small DELTAS every ~2 s (msg 1)
       A1   same as the P1S
   * a local HTTPS server standing in for Discord and for a webhook receiver
   * the bridge (build/bambu-bridge) with a generated configuration, offline_after = 10s

 The story: X1C prints 'Benchy' to the end; P1S's job is cancelled; A1 raises an HMS error
 and its job fails; X1C raises an HMS warning; P1S drops off the network for 20 s and comes
 back.

 What to watch, line by line:
   [sim]     what a printer does now (its reports go to its broker; the bridge reads them)
   [bridge]  the bridge's own log (stderr)
   [notify]  a notification as it reaches the HTTPS server: "discord ..." is the Discord
             embed, "webhook ..." the JSON webhook; every event should arrive at both
 %s
===========================================================================================
"""


def wait_connected(sims, bridge):
    """Until the bridge asked every printer for its state (each answered with its baseline)."""
    demo("waiting for the bridge to connect to the three printers ...")

    def ready():
        if not bridge.running():
            raise AssertionError("the bridge exited (code %s) before connecting; its log is "
                                 "above" % bridge.proc.returncode)
        return all(s.pushalls > 0 for s in sims.values())
    testbed.wait_until(ready, BRIDGE_READY_TIMEOUT, what=lambda: "a pushall from the bridge on "
                       + ", ".join(m for m, s in sims.items() if not s.pushalls))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1].strip())
    ap.add_argument("--once", action="store_true", default=bool(os.environ.get("DEMO_ONCE")))
    ap.add_argument("--keep", action="store_true", default=bool(os.environ.get("BED_KEEP")))
    args = ap.parse_args()
    if os.environ.get("DEMO_ONCE") in ("0", "no", "false"):
        args.once = False

    def on_term(signum, frame):
        raise Stop()
    signal.signal(signal.SIGTERM, on_term)

    OUT.raw(BANNER % ("It ends by itself after the story (DEMO_ONCE) and prints what arrived."
                      if args.once else
                      "After the story everything keeps running, idle. Ctrl-C stops it all."))
    rc = 1
    interrupted = False
    bed = testbed.Bed(keep=args.keep)
    sims, tails = {}, []
    try:
        demo("setting up in %s" % bed.dir)
        ca = bed.ca
        brokers = {}
        for model, spec in simulate.MODELS.items():
            b = bed.broker(serial=simulate.make_serial(model), name=spec["name"],
                           access_code=testbed.token(8), tls12_only=(model == "X1C"))
            brokers[model] = b
            demo("printer %-4s %-13s serial %s  broker mqtts://127.0.0.1:%d" % (
                model, b.name, b.serial, b.port))
        rx = bed.receiver(api_key=testbed.token(40), quiet=False)
        tails.append(Tail(rx.stdout_path, show_notification))
        sinks = [{"kind": "discord", "name": "discord-demo",
                  "url": rx.url("discord/api/webhooks/123/demo-token")},
                 {"kind": "webhook", "name": "webhook-demo", "url": rx.url("hook/demo"),
                  "api_key": rx.api_key}]
        bridge = bed.bridge()
        bridge.write_config(brokers.values(), sinks, offline_after="10s")
        demo("receiver https://127.0.0.1:%d/ (Discord at /discord/..., webhook at /hook/demo)"
             % rx.port)
        demo("bridge configuration %s (printers in %s/), test CA %s" % (
            bridge.conf, bridge.printers_dir, ca.ca_path))
        tails.append(Tail(bridge.log_path, show_bridge))
        for t in tails:
            t.start()
        for model, b in brokers.items():
            sims[model] = simulate.SimPrinter(b, model, say).start()
        demo("starting: %s -c %s -s %s -v run" % (bridge.binary, bridge.conf, bridge.state_dir))
        bridge.start()
        wait_connected(sims, bridge)
        time.sleep(1.0)         # let the baselines land before the first change
        demo("all three printers are connected and idle (their first report is the bridge's "
             "silent baseline); the story begins")
        printers = {m: s.name for m, s in sims.items()}
        t0 = time.time()
        simulate.play(simulate.day(sims), say)
        demo("the story is over; waiting for the last notifications (up to %d s)"
             % SETTLE_TIMEOUT)
        try:
            testbed.wait_until(lambda: not missing(rx, printers, t0) or not bridge.running(),
                               SETTLE_TIMEOUT, interval=0.5)
        except AssertionError:
            pass
        time.sleep(2.0)         # anything else (duplicates, stray events) shows up too
        ok = summary(rx, printers, t0)
        if not bridge.running():
            OUT.line("!", "the bridge is not running any more (exit code %s)"
                     % bridge.proc.returncode)
            ok = False
        if ok:
            demo("every expected notification arrived at both sinks")
        else:
            OUT.line("!", "some notifications were missing or unexpected (see the table)")
        rc = 0 if ok else 1
        if not args.once:
            demo("the printers are idle and keep answering the bridge; Ctrl-C stops everything")
            while True:
                time.sleep(1)
    except (KeyboardInterrupt, Stop):
        STOPPING.set()
        interrupted = True
        OUT.raw()
        demo("stopping ...")
        if not args.once:
            rc = 0
        else:
            rc = 130
    except AssertionError as e:
        OUT.line("!", str(e))
        rc = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        STOPPING.set()
        for s in sims.values():
            s.stop()
        problems = bed.close()
        for t in tails:
            t.stop()
        for p in problems:
            # Ctrl-C in a terminal reaches the bridge too: its clean exit is not a problem
            if interrupted and p.endswith("exited by itself with code 0"):
                continue
            OUT.line("!", p)
        left = [pid for pid, p in list(testbed._live.items()) if p.poll() is None]
        if left:
            OUT.line("!", "processes still running: %s" % left)
            rc = rc or 1
        demo("everything stopped%s" % (" (kept %s)" % bed.dir if args.keep else ""))
    return rc


if __name__ == "__main__":
    sys.exit(main())
