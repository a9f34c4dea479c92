"""Delivery to Discord and webhooks: the bodies, filters, retries, rate limits, dead ends."""
import os
import re
import stat
import time

import fixtures as F
from testbed import token

KEY = token(48)


def _printer(bed):
    return bed.broker(name="shop-x1c")


def _job(bed, p, name="part", n=1, finish=True):
    bed.bring_up(p, F.full("IDLE"))
    j = F.job(name, n)
    p.publish(F.full("RUNNING", mc_percent=5, **j))
    if finish:
        p.publish(F.full("FINISH", mc_percent=100, **j))


def test_webhook_body_headers_and_event_filters(bed):
    p = _printer(bed)
    rx = bed.receiver(api_key=KEY)
    bed.start_bridge([p], [
        bed.webhook_sink(rx, name="all"),
        bed.webhook_sink(rx, name="done", events=["job_succeeded"]),
        bed.discord_sink(rx, name="starts", events="job_started,hms_error"),
    ])
    _job(bed, p)
    rx.wait_event("job_succeeded", path="/hook/all")
    rx.wait_event("job_succeeded", path="/hook/done")
    rx.wait_event("job_started", kind="discord")
    time.sleep(0.5)
    assert rx.events(path="/hook/all") == ["job_started", "job_succeeded"]
    assert rx.events(path="/hook/done") == ["job_succeeded"]
    assert rx.events(kind="discord") == ["job_started"]
    ids = []
    for n in rx.notifications(kind="webhook"):
        assert n.rec["method"] == "POST"
        assert n.headers.get("content-type", "").startswith("application/json"), n.headers
        assert n.headers.get("x-api-key") == KEY, "X-API-Key missing or wrong"
        assert n.rec["sig_ok"] is not False, "webhook-signature does not verify"
        b = n.body
        assert set(b) >= {"id", "type", "timestamp", "data"}, b
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", b["timestamp"]), b
        assert b["data"]["printer"]["name"] == "shop-x1c", b
        assert b["data"]["printer"]["serial"] == p.serial, b
        assert b["data"]["job"]["name"] == "part", b
        if n.path == "/hook/all":
            ids.append(b["id"])
    assert len(set(ids)) == 2, "event ids are not unique per event: %r" % ids


def test_discord_body_mentions_and_limits(bed):
    p = _printer(bed)
    rx = bed.receiver()
    bed.start_bridge([p], [bed.discord_sink(rx)])
    # A file name that tries to ping everyone, and a name far over every embed limit.
    name = "@everyone <@&123> " + "\u00e9\u4e2d" * 2500
    _job(bed, p, name=name)
    n = rx.wait_event("job_succeeded", timeout=10)[0]
    notes = rx.notifications()
    assert [x.event for x in notes] == ["job_started", "job_succeeded"], notes
    for x in notes:
        assert "wait=true" in x.path, x.path
        b = x.body
        assert b.get("allowed_mentions", {}).get("parse") == [], \
            "allowed_mentions must stop @everyone: %r" % b.get("allowed_mentions")
        assert 1 <= len(b["embeds"]) <= 10
        total = 0
        for e in b["embeds"]:
            assert len(e.get("title", "")) <= 256
            assert len(e.get("description", "")) <= 4096
            assert len(e.get("fields", [])) <= 25
            for f in e.get("fields", []):
                assert len(f["name"]) <= 256 and len(f["value"]) <= 1024, f
                total += len(f["name"]) + len(f["value"])
            total += len(e.get("title", "")) + len(e.get("description", ""))
            total += len(e.get("footer", {}).get("text", ""))
            total += len(e.get("author", {}).get("name", ""))
        assert total <= 6000, "embeds hold %d characters" % total
        assert len(b.get("content", "")) <= 2000
        assert "shop-x1c" in x.text
    assert "Job succeeded" in n.body["embeds"][0]["title"]
    assert rx.requests()[-1].status == 200


def test_webhook_503_then_recovers(bed):
    p = _printer(bed)
    rx = bed.receiver(api_key=KEY)
    bed.start_bridge([p], [bed.webhook_sink(rx, name="flaky", prefix="fail503/2/")])
    _job(bed, p, finish=False)
    rx.wait_event("job_started", timeout=45)
    time.sleep(1.0)
    tries = rx.requests(path="/hook/flaky")
    assert [t.status for t in tries] == [503, 503, 200], tries
    assert len({t.body["id"] for t in tries}) == 1, "the event id changed between retries"
    assert len({t.headers.get("webhook-id") for t in tries}) == 1


def test_discord_429_waits_retry_after(bed):
    p = _printer(bed)
    rx = bed.receiver()
    bed.start_bridge([p], [bed.discord_sink(rx, prefix="limit429/1/")])
    _job(bed, p)            # two events queue up behind the 429
    rx.wait_event("job_succeeded", timeout=15)
    time.sleep(0.3)
    tries = rx.requests()
    assert [t.status for t in tries] == [429, 200, 200], tries
    assert [t.event for t in tries] == ["job_started", "job_started", "job_succeeded"], tries
    gap = tries[1].time - tries[0].time
    assert gap >= 0.45, "retried %.2fs after a 429 asking for 0.5 s" % gap
    assert tries[2].time - tries[0].time >= 0.45, "the queue was not held during the 429"


def test_dead_ends_are_not_retried_or_followed(bed):
    p = _printer(bed)
    rx = bed.receiver(api_key=KEY)
    bed.start_bridge([p], [
        bed.discord_sink(rx, name="gone", prefix="gone404/"),
        bed.discord_sink(rx, name="bad", prefix="bad400/"),
        bed.webhook_sink(rx, name="moved", prefix="redirect/"),
        bed.webhook_sink(rx, name="fine"),
    ])
    _job(bed, p, finish=False)
    rx.wait_event("job_started", path="/hook/fine")
    time.sleep(3.0)                 # time for a wrong retry
    assert len(rx.requests(path="/gone404/")) == 1, rx.requests(path="/gone404/")
    assert len(rx.requests(path="/bad400/")) == 1, rx.requests(path="/bad400/")
    assert rx.requests(path="/hook/x") == [], "a redirect was followed"


def test_generated_api_key_is_kept_and_reused(bed):
    p = _printer(bed)
    rx = bed.receiver()
    br = bed.start_bridge([p], [bed.webhook_sink(rx, name="nokey", api_key=False)])
    _job(bed, p, finish=False)
    key = rx.wait_event("job_started")[0].headers.get("x-api-key", "")
    assert len(key) >= 32, "generated api_key %r is too short" % key
    br.secrets["the generated api_key"] = key
    holders = []
    for root, _, files in os.walk(br.state_dir):
        for f in files:
            path = os.path.join(root, f)
            if not os.path.isfile(path):    # the status socket
                continue
            with open(path, "rb") as fh:
                if key.encode() in fh.read():
                    holders.append(path)
    assert len(holders) == 1, "the key is not kept in one state file: %r" % holders
    assert stat.S_IMODE(os.stat(holders[0]).st_mode) == 0o600, oct(os.stat(holders[0]).st_mode)
    assert os.path.basename(holders[0]) in br.log(), "the log does not say where the key is"
    p.keepalive(False)
    assert br.stop() == 0
    seen = p.pushalls()
    br.start()
    bed.bring_up(p, F.full("IDLE"), after=seen)
    p.publish(F.full("PREPARE", **F.job("again", 2)))
    notes = rx.wait_event("job_started", count=2)
    assert notes[1].headers.get("x-api-key") == key, "a new key was generated at restart"
