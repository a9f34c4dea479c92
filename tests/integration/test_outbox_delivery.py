"""Delivery rules of issue 3: Discord's 429s and rate-limit headers, a gone webhook, Standard
Webhooks signatures, test-notify."""
import base64
import hashlib
import hmac
import re
import time

import fixtures as F
import receiver
from outboxlib import (KEY, QUIET, burst, expected, log_lines, outbox, outbox_table, restart,
                       spool, wait_spool)
from testbed import run, wait_until


def _discord_keys(notes, printer, tag):
    """(printer, event, job name) of Discord notifications, read from their text."""
    out = []
    for n in notes:
        nums = set(re.findall(r"%s-(\d+)" % re.escape(tag), n.text))
        name = "%s-%s" % (tag, nums.pop()) if len(nums) == 1 else None
        out.append((printer if n.about(printer) else None, n.event, name))
    return out


def test_discord_429_storm(bed):
    p = bed.broker(name="st")
    rx = bed.receiver(extra_args=["--enforce-ratelimit"])
    bed.start_bridge([p], [bed.discord_sink(rx, name="storm", prefix="limit429/6/")],
                     offline_after=QUIET)
    bed.bring_up(p, F.full("IDLE"), keepalive=False)
    want = expected("st", "storm", 1, 10)              # 20 events
    p.publish_many(burst("storm", 1, 10))
    rx.wait_event("job_succeeded", count=10, timeout=45)
    time.sleep(0.5)
    reqs = rx.requests(path="/limit429/")
    assert [r.status for r in reqs[:6]] == [429] * 6, reqs[:8]
    for a, b in zip(reqs[:6], reqs[1:7]):
        gap = b.time - a.time
        assert gap >= 0.45, "a request %.2fs after a 429 asking for 0.5 s" % gap
    # Beyond the six forced ones, the bridge's pacing keeps the real bucket from running dry.
    extra = [r for r in reqs[6:] if r.status == 429]
    assert len(extra) <= 1, "%d more 429s: %r" % (len(extra), extra)
    notes = rx.notifications()
    assert _discord_keys(notes, "st", "storm") == want, notes


def test_discord_pacing_burst_of_50(bed):
    p = bed.broker(name="pc")
    rx = bed.receiver(extra_args=["--enforce-ratelimit"])      # 5 per 2 s, then 429s
    bed.start_bridge([p], [bed.discord_sink(rx, name="paced")], offline_after=QUIET)
    bed.bring_up(p, F.full("IDLE"), keepalive=False)
    want = expected("pc", "pace", 1, 25)               # 50 events
    t0 = time.time()
    p.publish_many(burst("pace", 1, 25))
    rx.wait_event("job_succeeded", count=25, timeout=50)
    time.sleep(0.5)
    reqs = rx.requests()
    n429 = [r for r in reqs if r.status == 429]
    assert len(n429) <= 1, "%d answers of 429: X-RateLimit-* not followed" % len(n429)
    notes = rx.notifications()
    assert _discord_keys(notes, "pc", "pace") == want, notes
    # And not much slower than the bucket allows (50 at 5 per 2 s: about 18 s).
    took = notes[-1].time - t0
    assert took < 30, "50 events took %.1fs" % took


def test_discord_404_disables_the_sink_until_its_url_changes(bed):
    p = bed.broker(name="g4")
    rx = bed.receiver(api_key=KEY)
    gone = bed.discord_sink(rx, name="gone", prefix="gone404/")
    ok = bed.webhook_sink(rx, name="ok")
    unauth = bed.discord_sink(rx, name="unauth", prefix="gone401/")     # code 50027
    br = bed.start_bridge([p], [gone, ok, unauth], offline_after=QUIET)
    bed.bring_up(p, F.full("IDLE"), keepalive=False)
    j1, j2 = F.job("g-1", 1), F.job("g-2", 2)
    p.publish(F.full("RUNNING", mc_percent=5, **j1))
    wait_until(lambda: rx.requests(path="/gone404/"), 10, what="the first request to gone")
    p.publish_many([F.full("FINISH", mc_percent=100, **j1),
                    F.full("RUNNING", mc_percent=5, **j2)])
    rx.wait_event("job_started", count=2, path="/hook/ok")
    time.sleep(2.5)
    reqs = rx.requests(path="/gone404/")
    assert [r.status for r in reqs] == [404], "requests after a 404: %r" % reqs
    assert [r.status for r in rx.requests(path="/gone401/")] == [401], \
        "requests after a 401: %r" % rx.requests(path="/gone401/")
    for name in ("gone", "unauth"):
        errors = log_lines(br, r"^<3>.*sink %s: .*disabled" % name)
        assert len(errors) == 1, "want one error line: %r" % errors
    rc, out = outbox(br)
    row = outbox_table(out).get("gone")
    assert rc == 0 and row and row[:2] == (3, 0) and row[2].startswith("disabled"), out
    assert outbox_table(out)["ok"][2] == "enabled", out
    assert outbox_table(out)["unauth"][2].startswith("disabled"), out

    # A restart keeps it disabled, and keeps its deliveries.
    assert br.stop() == 0
    restart(bed, br, [p], [F.full("RUNNING", mc_percent=5, **j2)])
    br.wait_log(r"sink gone: stays disabled")
    p.publish(F.full("FINISH", mc_percent=100, **j2))
    rx.wait_event("job_succeeded", count=2, path="/hook/ok")
    time.sleep(2.0)
    assert len(rx.requests(path="/gone404/")) == 1, "a disabled sink was used after a restart"
    assert len(spool(br, "gone")) == 4, spool(br, "gone")
    rc, out = outbox(br)
    row = outbox_table(out).get("gone")
    assert row and row[:2] == (4, 0) and row[2].startswith("disabled"), out

    # Its URL changes (the same name): enabled again, and what was kept arrives, in order.
    assert br.stop() == 0
    fixed = bed.discord_sink(rx, name="gone")
    br.write_config([p], [fixed, ok, unauth], offline_after=QUIET)
    restart(bed, br, [p], [F.full("FINISH", mc_percent=100, **j2)])
    rx.wait_event("job_succeeded", count=2, kind="discord", timeout=15)
    time.sleep(0.5)
    assert rx.events(kind="discord") == ["job_started", "job_succeeded"] * 2, \
        rx.notifications(kind="discord")
    wait_spool(br, "gone", "queue", 0)
    rc, out = outbox(br)
    assert outbox_table(out).get("gone") == (0, 0, "enabled"), out
    assert len(rx.requests(path="/gone404/")) == 1
    assert len(rx.requests(path="/gone401/")) == 1, "the unchanged sink was enabled again"
    assert outbox_table(out)["unauth"][:2] == (4, 0), out


def _sign(key, wid, ts, body):
    mac = hmac.new(key, ("%s.%s." % (wid, ts)).encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def test_signatures(bed):
    # The reference's known answer, against this test's own HMAC and the receiver's.
    key = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    args = ("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", b'{"test": 2432232314}')
    known = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert _sign(key, *args) == known
    assert receiver.signature(key, *args) == known, "the receiver's signature is wrong"
    # The receiver's checker: a good one passes; a changed body, another key, an old
    # timestamp or no timestamp fail.
    ts = str(int(time.time()))
    body = b'{"id":"evt_1"}'
    good = {"webhook-id": "evt_1", "webhook-timestamp": ts,
            "webhook-signature": "v1,bm9wZQ== " + _sign(KEY.encode(), "evt_1", ts, body)}
    assert receiver.check_signature(good, body, KEY) is True
    assert receiver.check_signature(good, body + b" ", KEY) is False
    assert receiver.check_signature(good, body, KEY[:-1] + "x") is False
    old = str(int(ts) - 301)
    assert receiver.check_signature(dict(good, **{
        "webhook-timestamp": old,
        "webhook-signature": _sign(KEY.encode(), "evt_1", old, body)}), body, KEY) is False
    assert receiver.check_signature({k: v for k, v in good.items()
                                     if k != "webhook-timestamp"}, body, KEY) is False

    # The bridge's signatures, on first tries and on a retry after a 503.
    p = bed.broker(name="sg")
    rx = bed.receiver(api_key=KEY)
    bed.start_bridge([p], [bed.webhook_sink(rx, name="signed", prefix="fail503/1/")],
                     offline_after=QUIET)
    bed.bring_up(p, F.full("IDLE"), keepalive=False)
    p.publish_many(burst("sig", 1, 2))
    rx.wait_event("job_succeeded", count=2, timeout=15)
    time.sleep(0.3)
    reqs = rx.requests(path="/hook/signed")
    assert [r.status for r in reqs] == [503] + [200] * 4, reqs
    assert reqs[0].body["id"] == reqs[1].body["id"]
    for r in reqs:
        h = r.headers
        assert r.rec["sig_ok"] is True, "the receiver rejects the signature: %r" % h
        assert r.rec["key_ok"] is True
        assert h.get("webhook-id") == r.body["id"], (h.get("webhook-id"), r.body["id"])
        ts = h.get("webhook-timestamp", "")
        assert ts.isdigit() and abs(int(ts) - r.time) <= 5, \
            "webhook-timestamp %r, received at %.0f" % (ts, r.time)
        sigs = h.get("webhook-signature", "").split()
        assert _sign(KEY.encode(), h["webhook-id"], ts, r.raw.encode()) in sigs, h


def test_test_notify(bed):
    p = bed.broker(name="tn", start=False)
    rx = bed.receiver(api_key=KEY)
    br = bed.bridge()
    sinks = [bed.webhook_sink(rx, name="w"), bed.discord_sink(rx, name="d"),
             bed.webhook_sink(rx, name="hmsonly", events=["hms_error"])]

    def notify(*args):
        r = run([br.binary, "-c", br.conf, "-s", br.state_dir, "test-notify"] + list(args),
                check=False, timeout=60)
        out = r.stdout.decode("utf-8", errors="replace")
        br.outputs.append(out)
        return r.returncode, out

    br.write_config([p], sinks)
    rc, out = notify()
    assert rc == 0, out
    assert "w: ok" in out and "d: ok" in out and "hmsonly: skipped" in out, out
    notes = rx.notifications()
    assert sorted((n.kind, n.event) for n in notes) == \
        [("discord", "job_succeeded"), ("webhook", "job_succeeded")], notes
    assert [n.rec["sig_ok"] for n in notes if n.kind == "webhook"] == [True]
    rc, out = notify("hms_error")
    assert rc == 0 and "hmsonly: ok" in out, out
    assert len(rx.notifications(path="/hook/hmsonly", event="hms_error")) == 1
    # Nothing of it is left in an outbox for a later run.
    for s in ("w", "d", "hmsonly"):
        assert spool(br, s) == [], (s, spool(br, s))

    before = len(rx.requests())
    sinks.append(bed.webhook_sink(rx, name="bad", prefix="fail503/1000/"))
    br.write_config([p], sinks)
    rc, out = notify()
    assert rc == 1, "exit %d with a failing sink: %s" % (rc, out)
    bad = [line for line in out.splitlines() if line.startswith("bad:")]
    assert bad and "503" in bad[0] and "ok" not in bad[0], out
    assert "w: ok" in out and "d: ok" in out, out
    assert len(rx.requests(path="/hook/bad")) == 1, "test-notify tries once"
    assert len(rx.requests()) == before + 3
