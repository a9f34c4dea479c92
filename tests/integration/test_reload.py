"""Live reload: SIGHUP and drop-ins appearing in printers.d/; untouched printers keep their
session and state."""
import os
import signal
import time

import fixtures as F
from testbed import wait_until


def _sinks(bed, rx):
    return [bed.webhook_sink(rx, name="ops", api_key="r" * 32)]


def test_reload_adds_removes_changes_and_refuses_bad_files(bed):
    keep = bed.broker(name="keep-x1c")
    gone = bed.broker(name="gone-p1s")
    late = bed.broker(name="late-a1")
    rx = bed.receiver()
    br = bed.start_bridge([keep, gone], _sinks(bed, rx))
    bed.bring_up(keep, F.full("IDLE"))
    bed.bring_up(gone, F.full("IDLE"))
    job = F.job("long print", 21)
    keep.publish(F.full("RUNNING", mc_percent=10, **job))
    rx.wait_event("job_started", printer="keep-x1c")
    sessions = keep.connections()

    # A drop-in appears (no signal): the new printer connects and works.
    seen = late.pushalls()
    br.write_config([keep, gone, late], _sinks(bed, rx))
    bed.bring_up(late, F.full("IDLE"), after=seen, timeout=15)
    late.publish(F.full("RUNNING", **F.job("late job", 22)))
    rx.wait_event("job_started", printer="late-a1")

    # A drop-in goes away: that printer is disconnected and heard no more.
    br.write_config([keep, late], _sinks(bed, rx))
    br.wait_log(r"printer gone-p1s: removed or changed", timeout=10)
    gone.publish(F.full("RUNNING", **F.job("ghost", 23)))

    # A changed drop-in (SIGHUP this time): that printer reconnects.
    late_sessions = late.connections()
    br.write_config([keep, late], _sinks(bed, rx),
                    overrides={"late-a1": {"ca_file": None, "tls_insecure": "yes"}})
    br.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: late.connections() > late_sessions, 15,
               what="the changed printer to reconnect")

    # An invalid drop-in: refused with its path and line, the running setup kept.
    bad = os.path.join(br.printers_dir, "broken.conf")
    with open(bad, "w") as f:
        f.write("[printer]\nhots = 10.0.0.1\n")
        os.fchmod(f.fileno(), 0o640)
    br.wait_log(r"broken\.conf:2: .*hots", timeout=10)
    br.wait_log(r"reload refused", timeout=5)
    os.unlink(bad)

    # Through all of it the untouched printer kept its session and its job.
    keep.publish(F.full("FINISH", mc_percent=100, **job))
    done = rx.wait_event("job_succeeded", printer="keep-x1c")
    assert done[0].data["job"]["name"] == "long print", done[0].body
    time.sleep(0.5)
    assert keep.connections() == sessions, "the untouched printer was reconnected"
    assert not rx.notifications(printer="gone-p1s", event="job_started")[1:], \
        "a removed printer still reports"
    started = [n.data["printer"]["name"] for n in rx.notifications(event="job_started")]
    assert started == ["keep-x1c", "late-a1"], started
    br.assert_running()


def test_reload_of_sinks_keeps_queued_deliveries(bed):
    p = bed.broker(name="solo")
    rx = bed.receiver()
    down = [bed.webhook_sink(rx, name="ops", api_key="q" * 32, prefix="fail503/1000/")]
    br = bed.start_bridge([p], down)
    bed.bring_up(p, F.full("IDLE"))
    p.publish(F.full("RUNNING", **F.job("queued while down", 31)))
    wait_until(lambda: rx.requests(), 10, what="a first (failing) attempt")
    # The sink's URL is fixed; SIGHUP; the queued event arrives at the new URL.
    br.write_config([p], _sinks(bed, rx))
    br.proc.send_signal(signal.SIGHUP)
    n = rx.wait_event("job_started", timeout=15)
    assert n[0].data["job"]["name"] == "queued while down", n[0].body
    assert p.connections() == 1, "a sink change reconnected the printer"
