"""Bad input from a printer is dropped; the session goes on and the next valid report counts."""
import json
import time

import fixtures as F


def test_bad_payloads_are_dropped_and_the_session_goes_on(bed):
    p = bed.broker(name="a1mini")
    rx = bed.receiver()
    br = bed.start_bridge([p], [bed.webhook_sink(rx, api_key="b" * 32)])
    bed.bring_up(p, F.full("IDLE"))
    failed = json.dumps(F.delta(gcode_state="FAILED", print_error=F.CANCEL))
    huge = F.delta(gcode_state="FAILED", print_error=F.CANCEL)
    huge["print"]["padding"] = "x" * (1536 * 1024)                      # 1.5 MiB

    steps = [
        failed[:-7],                                                    # truncated JSON
        F.delta(gcode_state="RUNNING", **F.job("one", 1)),
        failed.replace('"FAILED"', '"FAIL\xff\xfeED"').encode("latin-1"),   # not UTF-8
        b'{"print":{"msg":1,"subtask_name":"caf\xe9"}}',                # not UTF-8 either
        F.delta(gcode_state="FINISH", mc_percent=100),
        {"print": {"gcode_state": 5}},                                  # number for a string
        {"print": {"msg": 1, "subtask_name": 12345}},
        {"print": "x"},
        F.delta(gcode_state="PREPARE", **F.job("two", 2)),
        {"print": {"msg": 1, "mc_percent": "abc"}},                     # text for a number
        {"print": {"msg": 1, "hms": "none"}},
        ["print", 1], "null", '"print"', "", "{" * 5000 + "}" * 5000,
        huge,                                                           # oversized
        F.delta(gcode_state="FINISH", mc_percent=100),
    ]
    for s in steps:
        p.publish(s)
    rx.wait_event("job_succeeded", count=2, timeout=15)
    time.sleep(0.5)
    assert rx.events() == ["job_started", "job_succeeded", "job_started", "job_succeeded"], \
        rx.notifications()
    assert [n.data["job"]["name"] for n in rx.notifications()] == ["one", "one", "two", "two"]
    assert p.connections() == 1, "bad input cost the session (%d connects)" % p.connections()
    br.assert_running()
