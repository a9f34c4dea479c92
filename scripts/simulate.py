"""
simulate.py: simulated Bambu Lab printers for the demo, and their scripted day.

    SimPrinter(broker, model, say)   one printer behind one testbed.Broker (a real mosquitto over
                                     TLS): keeps the printer's current state, answers the bridge's
                                     pushall (with a full report of that state) and get_version
                                     requests, publishes a report about every 2 s, and applies
                                     the story's changes.  X1C: a FULL report (msg 0) every time;
                                     P1S and A1: a full report only for pushall, otherwise DELTAS
                                     (msg 1) carrying only the fields that changed.
    day(sims)                        the scripted day: [(seconds, printer, narration, action)]
    EXPECTED                         the (printer, event) notifications that day must produce
    play(steps, say, t0)             run the steps on time (a script, so sleeping is its point)

Reports are built with tests/integration/fixtures.py; brokers come from scripts/testbed.py.
Standard library only; run with /usr/bin/python3.
"""
import os
import random
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
for _p in (HERE, os.path.join(REPO, "tests", "integration")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import fixtures  # noqa: E402
import testbed   # noqa: E402

TICK = 2.0              # seconds between two periodic reports

# model -> serial prefix, what get_version answers, how it reports, the printer's name
MODELS = {
    "X1C": {"prefix": "00M09A", "product": "Bambu Lab X1 Carbon", "sw": "01.08.05.00",
            "mode": "full", "name": "x1c-workshop"},
    "P1S": {"prefix": "01P00A", "product": "Bambu Lab P1S", "sw": "01.08.02.00",
            "mode": "delta", "name": "p1s-garage"},
    "A1": {"prefix": "03919A", "product": "Bambu Lab A1", "sw": "01.05.00.00",
           "mode": "delta", "name": "a1-office"},
}

# HMS entries and print errors of the story (severity = code >> 16: 1 fatal, 2 serious,
# 3 common, 4 info)
HMS_WARNING = fixtures.hms(0x0C000300, 0x00030008)      # camera module, severity 3 (common)
HMS_ERROR = fixtures.hms(0x03000100, 0x00010007)        # motion controller, severity 1 (fatal)
PRINT_ERROR_FAILED = 0x03004000                         # 0300-4000, level nibble 4 = error

# What the day must produce, at every sink: (model, event).  All eight events appear.
EXPECTED = [
    ("X1C", "job_started"), ("P1S", "job_started"), ("A1", "job_started"),
    ("X1C", "hms_warning"), ("P1S", "job_cancelled"), ("A1", "hms_error"),
    ("A1", "job_failed"), ("X1C", "job_succeeded"),
    ("P1S", "printer_offline"), ("P1S", "printer_online"),
]


class SimPrinter:
    """One simulated printer publishing through its broker."""

    def __init__(self, broker, model, say):
        self.broker = broker
        self.model = model
        self.spec = MODELS[model]
        self.full_mode = self.spec["mode"] == "full"
        self.say = say
        self.name = broker.name
        # the printer's current state: the "print" object of a full report
        self.state = fixtures.full("IDLE", nozzle_temper=26.0, bed_temper=24.0)["print"]
        for k in ("command", "msg", "sequence_id"):
            self.state.pop(k, None)
        self.rate = 0.0                 # mc_percent gained per tick while RUNNING
        self.lock = threading.RLock()   # one change or publish at a time, in order
        self.up = True                  # the broker is running
        self.answered = 0               # requests of the bridge handled so far
        self.pushalls = 0               # pushall requests answered
        self.published = 0
        self._stop = threading.Event()
        self._thread = None

    # -- the printer's loop

    def start(self):
        self._thread = threading.Thread(target=self._loop, name="sim-" + self.model,
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _loop(self):
        next_tick = time.monotonic() + TICK
        while not self._stop.is_set():
            with self.lock:
                if self.up:
                    self._answer_requests()
                    if self.pushalls and time.monotonic() >= next_tick:
                        next_tick = time.monotonic() + TICK
                        self._tick()
            self._stop.wait(0.1)

    def _answer_requests(self):
        cmds = self.broker.commands()
        for cmd in cmds[self.answered:]:
            if cmd == "pushall":
                self.pushalls += 1
                self._publish(self._full())
            elif cmd == "get_version":
                self._publish(fixtures.version(self.spec["product"], self.spec["sw"]))
        self.answered = len(cmds)

    def _tick(self):
        """A periodic report: temperatures drift toward their targets; a running job advances."""
        changed = {}
        for cur, target, ambient in (("nozzle_temper", "nozzle_target_temper", 26.0),
                                     ("bed_temper", "bed_target_temper", 24.0)):
            goal = self.state[target] or ambient
            t = self.state[cur]
            t += (goal - t) * 0.5 + random.uniform(-0.4, 0.4)
            changed[cur] = round(t, 2)
        if self.state["gcode_state"] == "RUNNING" and self.rate > 0:
            pct = min(99, self.state["mc_percent"] + self.rate)
            changed.update(self._progress(pct))
        self._change(changed)

    def _progress(self, pct):
        pct = int(pct)
        total = self.state["total_layer_num"] or 1
        left = max(0, int(self.state.get("_minutes", 40) * (100 - pct) / 100))
        return {"mc_percent": pct, "layer_num": max(1, total * pct // 100),
                "mc_remaining_time": left}

    # -- reports

    def _full(self):
        fields = {k: v for k, v in self.state.items() if not k.startswith("_")}
        return fixtures.full(fields.pop("gcode_state"), **fields)

    def _publish(self, report):
        try:
            self.broker.publish(report)
            self.published += 1
        except Exception as e:          # the broker went away under us: say so, carry on
            self.say(self.model, "publish failed: %s" % str(e).splitlines()[0][:120])

    def _change(self, fields):
        """Apply fields to the state and report them: X1C a full report, others a delta."""
        delta = {k: v for k, v in fields.items() if self.state.get(k) != v}
        self.state.update(fields)
        if not self.up:
            return
        if self.full_mode:
            self._publish(self._full())
        else:
            pub = {k: v for k, v in delta.items() if not k.startswith("_")}
            if pub:
                self._publish(fixtures.delta(**pub))

    # -- what the story does

    def set(self, **fields):
        with self.lock:
            self._change(fields)

    def start_job(self, name, n, minutes, layers, rate):
        with self.lock:
            self.rate = rate
            self.state["_minutes"] = minutes
            f = fixtures.job(name, n)
            f.update(gcode_state="PREPARE", mc_percent=0, layer_num=0, total_layer_num=layers,
                     mc_remaining_time=minutes, print_error=0, fail_reason="0",
                     gcode_start_time=str(int(time.time())), nozzle_target_temper=220.0,
                     bed_target_temper=55.0)
            self._change(f)

    def run(self):
        with self.lock:
            f = {"gcode_state": "RUNNING"}
            f.update(self._progress(1))
            self._change(f)

    def drop_off(self):
        """The printer leaves the network: its broker stops (connections close)."""
        with self.lock:
            self.up = False
        self.broker.stop()

    def come_back(self):
        """The printer is back: its broker starts again; the bridge reconnects and asks."""
        self.broker.start()
        with self.lock:
            self.answered = len(self.broker.commands())
            self.up = True

    def cool_down(self):
        return {"nozzle_target_temper": 0.0, "bed_target_temper": 0.0}


def make_serial(model):
    return testbed.new_serial(MODELS[model]["prefix"])


def day(sims):
    """The scripted day, as [(second, model, narration, action)], seconds from the story's start.
    sims: {"X1C": SimPrinter, "P1S": ..., "A1": ...}."""
    x, p, a = sims["X1C"], sims["P1S"], sims["A1"]
    cancel = fixtures.CANCEL
    return [
        (0, "X1C", "starting job 'Benchy' (PREPARE: heating, levelling)",
         lambda: x.start_job("Benchy", 1, 42, 240, 3.0)),
        (5, "X1C", "printing 'Benchy' (RUNNING)", x.run),
        (8, "P1S", "starting job 'Cable clip' (PREPARE)",
         lambda: p.start_job("Cable clip", 2, 25, 120, 3.0)),
        (12, "P1S", "printing 'Cable clip' (RUNNING)", p.run),
        (15, "A1", "starting job 'Phone stand' (PREPARE)",
         lambda: a.start_job("Phone stand", 3, 55, 300, 2.0)),
        (19, "A1", "printing 'Phone stand' (RUNNING)", a.run),
        (24, "X1C", "HMS warning appears: %s (severity 3, common)" %
         fixtures.hms_string(HMS_WARNING["attr"], HMS_WARNING["code"]),
         lambda: x.set(hms=[HMS_WARNING])),
        (32, "P1S", "someone cancels 'Cable clip': gcode_state FAILED, progress zeroed, "
                    "print_error still 0",
         lambda: p.set(gcode_state="FAILED", mc_percent=0, layer_num=0, mc_remaining_time=0,
                       **p.cool_down())),
        (34, "P1S", "one report later: print_error 50348044 (0300-400C, 'The task was "
                    "canceled')", lambda: p.set(print_error=cancel)),
        (38, "X1C", "HMS warning cleared (hms list empty again)", lambda: x.set(hms=[])),
        (40, "P1S", "print_error reset to 0 (the printer stays FAILED until the next job)",
         lambda: p.set(print_error=0)),
        (46, "A1", "HMS error appears: %s (severity 1, fatal)" %
         fixtures.hms_string(HMS_ERROR["attr"], HMS_ERROR["code"]),
         lambda: a.set(hms=[HMS_ERROR])),
        (49, "A1", "'Phone stand' fails: gcode_state FAILED, print_error %d (0300-4000, "
                   "not a cancel)" % PRINT_ERROR_FAILED,
         lambda: a.set(gcode_state="FAILED", print_error=PRINT_ERROR_FAILED,
                       **a.cool_down())),
        (66, "A1", "HMS error cleared", lambda: a.set(hms=[])),
        (72, "X1C", "'Benchy' is done: 100 %, gcode_state FINISH",
         lambda: x.set(gcode_state="FINISH", mc_percent=100, mc_remaining_time=0,
                       layer_num=240, **x.cool_down())),
        (78, "P1S", "drops off the network: its broker stops for 20 s (offline_after = 10s)",
         p.drop_off),
        (98, "P1S", "comes back: its broker starts again (the bridge reconnects and asks "
                    "for pushall)", p.come_back),
    ]


def play(steps, say, t0=None, stop=None):
    """Run the steps, each at t0 + its second; say(model, text) narrates each.  stop: an
    Event that ends the play early."""
    t0 = time.monotonic() if t0 is None else t0
    stop = stop or threading.Event()
    for at, model, text, action in steps:
        delay = t0 + at - time.monotonic()
        if delay > 0 and stop.wait(delay):
            return False
        say(model, text)
        action()
    return True
