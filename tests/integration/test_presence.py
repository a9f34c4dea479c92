"""Online and offline: stopping and restarting a printer's broker, blips, silent sessions, and
no noise at start-up."""
import time

import fixtures as F
from testbed import new_serial

OFFLINE_AFTER = 3       # seconds, as the tests configure it


def _setup(bed, names=("a1",), offline_after="3s"):
    ps = [bed.broker(name=n) for n in names]
    rx = bed.receiver()
    br = bed.start_bridge(ps, [bed.webhook_sink(rx, api_key="o" * 32),
                               bed.discord_sink(rx)], offline_after=offline_after)
    return ps, rx, br


def test_offline_then_online(bed):
    (p,), rx, br = _setup(bed)
    bed.bring_up(p, F.full("IDLE"))
    time.sleep(0.5)                     # heard from a few times
    t_stop = time.time()
    p.stop()
    n = rx.wait_event("printer_offline", kind="webhook", timeout=OFFLINE_AFTER + 8)[0]
    assert n.time - t_stop >= OFFLINE_AFTER - 1.2, \
        "offline announced %.1fs after the printer went away" % (n.time - t_stop)
    assert n.printer == "a1", n.body
    rx.wait_event("printer_offline", kind="discord")
    time.sleep(OFFLINE_AFTER + 1.0)     # still away: still one offline
    seen = p.pushalls()
    p.start()
    bed.bring_up(p, F.full("IDLE"), after=seen, timeout=20)
    rx.wait_event("printer_online", kind="webhook", timeout=10)
    rx.wait_event("printer_online", kind="discord", timeout=10)
    time.sleep(0.5)
    assert rx.events(kind="webhook") == ["printer_offline", "printer_online"], rx.notifications()
    assert rx.events(kind="discord") == ["printer_offline", "printer_online"], rx.notifications()
    assert all("a1" in n.text for n in rx.notifications(kind="discord"))


def test_short_blip_is_silent(bed):
    (p,), rx, br = _setup(bed, offline_after="4s")
    bed.bring_up(p, F.full("IDLE"))
    time.sleep(0.3)
    t_stop = time.time()
    seen = p.pushalls()
    p.restart()
    bed.bring_up(p, F.full("IDLE"), after=seen, timeout=10)
    time.sleep(max(0.0, t_stop + 5.0 - time.time()))   # past offline_after since the blip
    p.publish(F.full("RUNNING", **F.job("after blip", 1)))
    rx.wait_event("job_started", kind="webhook")
    time.sleep(0.3)
    assert rx.events(kind="webhook") == ["job_started"], rx.notifications()
    assert p.connections() == 2, "expected one reconnect, saw %d sessions" % p.connections()


def test_silent_session_probed_then_offline(bed):
    (p,), rx, br = _setup(bed)
    bed.bring_up(p, F.full("IDLE"))
    time.sleep(3.5)     # chatty for a while: the connect's pushall is well in the past
    seen = p.pushalls()
    t_quiet = time.time()
    p.keepalive(False)                  # the session stays up, the printer stops publishing
    n = rx.wait_event("printer_offline", kind="webhook", timeout=OFFLINE_AFTER + 8)[0]
    probes = [t for t, c in p.commands(timed=True) if c == "pushall" and t >= t_quiet - 0.1]
    assert probes and probes[0] < n.time, \
        "no pushall probe reached the printer before it was called offline"
    assert len(p.commands()) > 0 and p.pushalls() > seen
    p.publish(F.full("IDLE"))
    p.keepalive(True)
    rx.wait_event("printer_online", kind="webhook", timeout=15)
    time.sleep(0.3)
    assert rx.events(kind="webhook") == ["printer_offline", "printer_online"], rx.notifications()


def test_no_noise_at_start_up(bed):
    (a, b), rx, br = _setup(bed, names=("busy-x1c", "done-p1s"))
    ja, jb = F.job("long print", 1), F.job("finished hours ago", 2)
    bed.bring_up(a, F.full("RUNNING", mc_percent=40, layer_num=80, total_layer_num=200, **ja))
    bed.bring_up(b, F.full("FINISH", mc_percent=100, **jb))
    time.sleep(OFFLINE_AFTER + 0.5)     # time enough for a wrong announcement
    assert rx.notifications(delivered=False) == [], rx.notifications(delivered=False)
    # Still listening: the running job ends, the finished printer starts another.
    a.publish(F.full("FINISH", mc_percent=100, **ja))
    b.publish(F.full("PREPARE", **F.job("next", 3)))
    rx.wait_event("job_succeeded", kind="webhook", printer="busy-x1c")
    rx.wait_event("job_started", kind="webhook", printer="done-p1s")
    time.sleep(0.3)
    assert rx.events(kind="webhook", printer="busy-x1c") == ["job_succeeded"]
    assert rx.events(kind="webhook", printer="done-p1s") == ["job_started"]


def test_wrong_serial_is_logged(bed):
    wrong = new_serial("01P00A")
    # The certificate names the configured serial, but the printer publishes under its own.
    p = bed.broker(name="mistyped", cert_cn=wrong)
    rx = bed.receiver()
    br = bed.bridge()
    br.write_config([p], [bed.webhook_sink(rx, api_key="s" * 32)],
                    overrides={"mistyped": {"serial": wrong}})
    br.start()
    wait = time.time()
    br.wait_log(r"(?i)mistyped.*serial|serial.*mistyped", timeout=15)
    time.sleep(max(0.0, wait + OFFLINE_AFTER + 1 - time.time()))
    # Never heard from, so never "offline".
    assert rx.notifications(delivered=False) == [], rx.notifications(delivered=False)
