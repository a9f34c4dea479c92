"""Job lifecycle end to end: reports published on a real broker, events read at the receiver."""
import time

import fixtures as F
from testbed import token

KEY = token(40)


def _setup(bed, name="x1c", discord=False, **kw):
    p = bed.broker(name=name, **kw)
    rx = bed.receiver(api_key=KEY)
    sinks = [bed.webhook_sink(rx)]
    if discord:
        sinks.append(bed.discord_sink(rx))
    br = bed.start_bridge([p], sinks)
    bed.bring_up(p, F.full("IDLE"))
    return p, rx, br


def test_job_succeeds(bed):
    p, rx, br = _setup(bed, discord=True)
    j = F.job("gear housing", 1)
    p.publish(F.full("PREPARE", **j))
    p.publish(F.full("RUNNING", mc_percent=1, layer_num=1, total_layer_num=120,
                     mc_remaining_time=42, **j))
    p.publish(F.full("RUNNING", mc_percent=48, layer_num=57, total_layer_num=120,
                     mc_remaining_time=20, **j))
    # A filament run-out pause: print_error carries a pause advisory, not a failure.
    p.publish(F.full("PAUSE", mc_percent=48, print_error=0x07008011, **j))
    p.publish(F.full("RUNNING", mc_percent=49, **j))
    p.publish(F.full("FINISH", mc_percent=100, layer_num=120, total_layer_num=120, **j))
    rx.wait_event("job_succeeded", kind="webhook")
    rx.wait_event("job_succeeded", kind="discord")
    time.sleep(0.5)     # nothing else trickles in
    assert rx.events(kind="webhook") == ["job_started", "job_succeeded"], rx.notifications()
    assert rx.events(kind="discord") == ["job_started", "job_succeeded"], rx.notifications()

    started, done = rx.notifications(kind="webhook")
    for n in (started, done):
        assert n.printer == "x1c", n.body
        assert n.data["printer"].get("serial") == p.serial, n.body
        assert n.data["job"]["name"] == "gear housing", n.body
        assert n.data["job"]["file"] == j["gcode_file"], n.body
        assert n.headers.get("x-api-key") == KEY
        assert n.rec["sig_ok"] is not False, "bad Standard Webhooks signature"
    assert done.data["job"].get("progress") == 100, done.body
    assert started.body["id"] != done.body["id"]
    for n in rx.notifications(kind="discord"):
        assert "wait=true" in n.path, n.path
        assert "x1c" in n.text and "gear housing" in n.text, n.text


def test_cancel_code_one_report_after_failed(bed):
    p, rx, br = _setup(bed)
    j = F.job("bracket", 2)
    p.publish(F.full("RUNNING", mc_percent=35, layer_num=20, total_layer_num=90, **j))
    rx.wait_event("job_started")
    # FAILED first; the cancel code lands one report later (also in the HMS list, where it
    # must not become an HMS alert), and is reset to 0 soon after.
    cancel_hms = [F.hms(0x03000000, 0x0002400C)]
    t_failed = time.time()
    p.publish(F.full("FAILED", mc_percent=0, layer_num=0, **j))
    p.publish(F.full("FAILED", mc_percent=0, print_error=F.CANCEL, hms=cancel_hms, **j))
    p.publish(F.full("FAILED", mc_percent=0, print_error=0, hms=[], **j))
    n = rx.wait_event("job_cancelled", timeout=12)[0]
    assert n.data["job"]["name"] == "bracket", n.body
    # Past the verdict hold: still no job_failed and no HMS alert for the cancel code.
    time.sleep(max(0.0, t_failed + 7.5 - time.time()))
    assert rx.events() == ["job_started", "job_cancelled"], rx.notifications()


def test_cancel_in_fail_reason(bed):
    p, rx, br = _setup(bed, name="h2c")
    j = F.job("lid", 3)
    p.publish(F.full("RUNNING", mc_percent=60, **j))
    rx.wait_event("job_started")
    t_failed = time.time()
    # Newer firmware: the code stays in fail_reason, as a string; print_error says nothing.
    p.publish(F.full("FAILED", mc_percent=0, print_error=0, fail_reason=str(F.CANCEL2), **j))
    rx.wait_event("job_cancelled", timeout=12)
    time.sleep(max(0.0, t_failed + 7.5 - time.time()))
    assert rx.events() == ["job_started", "job_cancelled"], rx.notifications()


def test_real_failure_after_hold(bed):
    p, rx, br = _setup(bed, name="p1p")
    j = F.job("vase", 4)
    p.publish(F.full("RUNNING", mc_percent=80, **j))
    rx.wait_event("job_started")
    t_failed = time.time()
    p.publish(F.full("FAILED", mc_percent=80, **j))
    n = rx.wait_event("job_failed", timeout=15)[0]
    held = n.time - t_failed
    # The verdict waits for a cancel code that may come late (about 6 s), then says failed.
    assert held >= 4.0, "job_failed after %.1fs: the verdict was not held" % held
    assert n.data["job"]["name"] == "vase", n.body
    time.sleep(0.5)
    assert rx.events() == ["job_started", "job_failed"], rx.notifications()


def test_new_job_identity_starts_a_job(bed):
    p, rx, br = _setup(bed, name="x1e")
    p.publish(F.full("RUNNING", **F.job("first", 5)))
    rx.wait_event("job_started")
    # Straight into another job (another task id) without an IDLE in between.
    p.publish(F.full("RUNNING", **F.job("second", 6)))
    notes = rx.wait_event("job_started", count=2)
    assert [n.data["job"]["name"] for n in notes] == ["first", "second"], notes


def test_bridge_restart_repeats_nothing(bed):
    p, rx, br = _setup(bed, name="a1")
    j = F.job("clip", 7)
    p.publish(F.full("RUNNING", mc_percent=10, **j))
    p.publish(F.full("FINISH", mc_percent=100, **j))
    rx.wait_event("job_succeeded")
    p.keepalive(False)
    assert br.stop() == 0, "SIGTERM should stop the bridge with exit code 0"
    seen = p.pushalls()
    br.start()
    # The printer still says FINISH: a baseline, not a second "succeeded".
    bed.bring_up(p, F.full("FINISH", mc_percent=100, **j), after=seen)
    p.publish(F.full("PREPARE", **F.job("clip-2", 8)))
    rx.wait_event("job_started", count=2)
    time.sleep(0.5)
    assert rx.events() == ["job_started", "job_succeeded", "job_started"], rx.notifications()
    assert rx.notifications()[-1].data["job"]["name"] == "clip-2"
