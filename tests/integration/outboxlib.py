"""
outboxlib.py: helpers shared by test_outbox.py and test_outbox_delivery.py (not a test file).

    burst(tag, first, count)      full reports RUNNING(n), FINISH(n) for jobs first.., i.e.
                                  2*count job events (job_started, job_succeeded per job)
    expected(printer, tag, ...)   the (printer, event, job name) keys those reports announce
    key(note)                     (printer, event, job name) of a webhook notification
    outbox(br, *args)             run `bambu-bridge outbox [ARGS]`: (exit code, output)
    outbox_table(text)            {sink: (queued, dead, state)} from `outbox`'s listing
    spool(br, sink, sub)          sorted file names in STATE/outbox/SINK/SUB (tmp, queue, ...)
    restart(bed, br, printers, bases)   start the bridge again and answer its pushalls
"""
import os
import re

import fixtures as F
from testbed import run, token, wait_until

KEY = token(48)
QUIET = "300s"          # offline_after: no printer_offline/online events in these tests
JOB_EVENTS = ("job_started", "job_succeeded")


def burst(tag, first, count, end="FINISH"):
    out = []
    for n in range(first, first + count):
        j = F.job("%s-%d" % (tag, n), n)
        out.append(F.full("RUNNING", mc_percent=3, layer_num=1, total_layer_num=10, **j))
        out.append(F.full(end, mc_percent=100, layer_num=10, total_layer_num=10, **j))
    return out


def last_job(tag, first, count):
    n = first + count - 1
    return F.job("%s-%d" % (tag, n), n)


def expected(printer, tag, first, count):
    return [(printer, ev, "%s-%d" % (tag, n)) for n in range(first, first + count)
            for ev in JOB_EVENTS]


def key(note):
    job = note.data.get("job") if isinstance(note.data.get("job"), dict) else {}
    return (note.printer, note.event, job.get("name"))


def first_seen(notes):
    """Notifications with repeats (same event id) dropped, first arrival kept."""
    seen, out = set(), []
    for n in notes:
        if n.body["id"] not in seen:
            seen.add(n.body["id"])
            out.append(n)
    return out


def outbox(br, *args):
    r = run([br.binary, "-c", br.conf, "-s", br.state_dir, "outbox"] + list(args),
            check=False, timeout=30)
    out = r.stdout.decode("utf-8", errors="replace")
    br.outputs.append(out)          # the bed checks outputs for leaked secrets
    return r.returncode, out


def outbox_table(text):
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^(\S+)\s+(\d+)\s+(\d+)\s+(.*)$", line)
        if m:
            rows[m.group(1)] = (int(m.group(2)), int(m.group(3)), m.group(4))
    return rows


def spool_dir(br, sink, sub):
    return os.path.join(br.state_dir, "outbox", sink, sub)


def spool(br, sink, sub="queue"):
    try:
        return sorted(f for f in os.listdir(spool_dir(br, sink, sub)) if not f.startswith("."))
    except FileNotFoundError:
        return []


def spool_ids(br, sink, sub="queue"):
    """Event ids of the records in a spool folder (file names are SEQ-ID)."""
    return {f.split("-", 1)[1] for f in spool(br, sink, sub) if "-" in f}


def restart(bed, br, printers, bases):
    """Start the stopped bridge again; each printer answers its pushall with its base."""
    seen = [p.pushalls() for p in printers]
    br.start()
    for p, base, n in zip(printers, bases, seen):
        bed.bring_up(p, base, keepalive=False, after=n)


def log_lines(br, regex):
    rx = re.compile(regex)
    return [line for line in br.log().splitlines() if rx.search(line)]


def wait_spool(br, sink, sub, count, timeout=10):
    return wait_until(lambda: len(spool(br, sink, sub)) == count, timeout,
                      what=lambda: "%d records in %s/%s (have %r)" %
                      (count, sink, sub, spool(br, sink, sub)))
