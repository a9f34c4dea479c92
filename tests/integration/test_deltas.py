"""Report shapes: P1-style deltas merged on a full base, H2D's reports without msg, a delta
that arrives with no base."""
import time

import fixtures as F


def _setup(bed, name):
    p = bed.broker(name=name)
    rx = bed.receiver()
    br = bed.start_bridge([p], [bed.webhook_sink(rx, api_key="k" * 32)])
    return p, rx, br


def test_deltas_on_a_full_base(bed):
    p, rx, br = _setup(bed, "p1s")
    j = F.job("bracket", 11)
    # The last job's identity stays in the IDLE snapshot; the deltas then carry only changes.
    bed.bring_up(p, F.full("IDLE", **j))
    p.publish(F.delta(gcode_state="RUNNING"))
    n = rx.wait_event("job_started")[0]
    assert n.data["job"]["name"] == "bracket", n.body
    assert n.data["job"]["file"] == j["gcode_file"], n.body
    p.publish(F.delta(mc_percent=40, layer_num=12, total_layer_num=30))
    p.publish(F.delta(mc_remaining_time=9, nozzle_temper=219.5))
    p.publish(F.delta(mc_percent=100, layer_num=30))
    p.publish(F.delta(gcode_state="FINISH"))
    n = rx.wait_event("job_succeeded")[0]
    assert n.data["job"]["name"] == "bracket", n.body
    assert n.data["job"].get("progress") == 100, n.body
    time.sleep(0.3)
    assert rx.events() == ["job_started", "job_succeeded"], rx.notifications()


def test_h2d_reports_without_msg(bed):
    p, rx, br = _setup(bed, "h2d")
    bed.bring_up(p, F.h2d_full("IDLE"))
    j = F.job("dual colour cube", 12)
    p.publish(F.h2d_full("PREPARE", **j))
    p.publish(F.h2d_full("RUNNING", mc_percent=50, **j))
    p.publish(F.h2d_full("FINISH", mc_percent=100, **j))
    rx.wait_event("job_succeeded")
    time.sleep(0.3)
    assert rx.events() == ["job_started", "job_succeeded"], rx.notifications()
    assert rx.notifications()[0].data["job"]["name"] == "dual colour cube"


def test_delta_without_base_asks_pushall(bed):
    p, rx, br = _setup(bed, "p1p")
    p.wait_pushall(0)
    seen = p.pushalls()
    # Deltas first, as a P1 sends them every second or two (the pushall's answer is "lost"):
    # the bridge has no base and must ask again, on the same session.
    p.publish(F.delta(gcode_state="RUNNING", mc_percent=3))
    p.keepalive(True)
    p.wait_pushall(seen, timeout=10)
    assert p.connections() == 1, "the second pushall came from a reconnect, not from the delta"
    p.publish(F.full("IDLE", **F.job("old", 13)))
    p.publish(F.delta(gcode_state="PREPARE", **F.job("new", 14)))
    n = rx.wait_event("job_started")[0]
    assert n.data["job"]["name"] == "new", n.body
    time.sleep(0.3)
    assert rx.events() == ["job_started"], rx.notifications()
