"""HMS alerts: errors and warnings for new codes only, once, with code, severity and link."""
import time

import fixtures as F

# attr 0x0300_0100 (motion controller), code severities: 1 fatal, 2 serious, 3 common, 4 info.
FATAL = F.hms(0x03000100, 0x00010007)
SERIOUS = F.hms(0x05000200, 0x00020003)
COMMON = F.hms(0x07002000, 0x00030002, ts_boot=1500, ts_unix="20261203120000")
INFO = F.hms(0x0C000300, 0x00040001)
OLD = F.hms(0x12FF2100, 0x00030001)        # already in the baseline


def _setup(bed, discord=False):
    p = bed.broker(name="x1c")
    rx = bed.receiver()
    sinks = [bed.webhook_sink(rx, api_key="w" * 32)]
    if discord:
        sinks.append(bed.discord_sink(rx))
    br = bed.start_bridge([p], sinks)
    p.wait_pushall(0)
    p.publish(F.version("Bambu Lab X1 Carbon"))
    bed.bring_up(p, F.full("RUNNING", mc_percent=20, hms=[OLD], **F.job("plate", 1)))
    return p, rx, br


def _code(e):
    return F.hms_string(e["attr"], e["code"])


def test_hms_error_and_warning_once(bed):
    p, rx, br = _setup(bed, discord=True)
    j = F.job("plate", 1)
    p.publish(F.full("RUNNING", mc_percent=21, hms=[OLD, FATAL], **j))
    p.publish(F.delta(hms=[OLD, FATAL, SERIOUS]))
    p.publish(F.delta(hms=[OLD, FATAL, SERIOUS, COMMON]))
    # The same list again and again: nothing new.
    p.publish(F.delta(hms=[OLD, FATAL, SERIOUS, COMMON]))
    p.publish(F.full("RUNNING", mc_percent=22, hms=[OLD, FATAL, SERIOUS, COMMON], **j))
    p.publish(F.delta(hms=[OLD, COMMON, SERIOUS, FATAL, INFO]))
    rx.wait_for(lambda ns: len([n for n in ns if n.kind == "webhook"]) >= 4
                and len([n for n in ns if n.kind == "discord"]) >= 4, what="4 HMS alerts each")
    time.sleep(0.5)
    hooks = rx.notifications(kind="webhook")
    got = [(n.event, n.data.get("hms", {}).get("code"), n.data.get("hms", {}).get("severity"))
           for n in hooks]
    assert got == [("hms_error", _code(FATAL), "fatal"), ("hms_error", _code(SERIOUS), "serious"),
                   ("hms_warning", _code(COMMON), "common"),
                   ("hms_warning", _code(INFO), "info")], got
    assert _code(FATAL) == "HMS_0300_0100_0001_0007"
    for n in hooks:
        url = n.data["hms"].get("url", "")
        assert url.startswith("https://wiki.bambulab.com/"), url
        assert n.data["hms"]["code"][4:] in url, "link %s does not name the code" % url
        assert n.printer == "x1c"
    discord = rx.notifications(kind="discord")
    assert [n.event for n in discord] == ["hms_error", "hms_error", "hms_warning",
                                          "hms_warning"], discord
    assert _code(FATAL) in discord[0].text, discord[0].text
    assert "wiki.bambulab.com" in discord[0].text, discord[0].text
    assert _code(OLD) not in rx.notifications()[0].raw


def test_hms_flapping_code_alerts_once(bed):
    p, rx, br = _setup(bed)
    # The code comes, goes, and comes back within 30 s: one alert only.
    p.publish(F.delta(hms=[OLD, COMMON]))
    rx.wait_event("hms_warning")
    for _ in range(3):
        p.publish(F.delta(hms=[OLD]))
        p.publish(F.delta(hms=[OLD, COMMON]))
    p.publish(F.delta(hms=[]))
    p.publish(F.delta(hms=[COMMON, FATAL]))     # a new code after the flapping one
    rx.wait_event("hms_error")
    time.sleep(0.5)
    got = [(n.event, n.data["hms"]["code"]) for n in rx.notifications()]
    assert got == [("hms_warning", _code(COMMON)), ("hms_error", _code(FATAL))], got
