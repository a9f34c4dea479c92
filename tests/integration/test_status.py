"""bambu-bridge status: the running daemon describes its printers and sinks."""
import json
import subprocess

import fixtures as F
from testbed import wait_until


def _status(br, *args):
    r = subprocess.run([br.binary, "-c", br.conf, "-s", br.state_dir, "status"] + list(args),
                       capture_output=True, text=True, timeout=20)
    return r.returncode, r.stdout, r.stderr


def test_status_json_and_table(bed):
    p = bed.broker(name="farm-07")
    quiet = bed.broker(name="switched-off", start=False)
    rx = bed.receiver()
    br = bed.start_bridge([p, quiet], [bed.webhook_sink(rx, name="ops", api_key="s" * 32)])
    bed.bring_up(p, F.full("IDLE"))
    p.publish(F.full("RUNNING", mc_percent=37, **F.job("status plate", 11)))
    rx.wait_event("job_started")

    def printers():
        rc, out, err = _status(br, "--json")
        assert rc == 0, err
        doc = json.loads(out)
        return doc, {x["name"]: x for x in doc["printers"]}
    wait_until(lambda: printers()[1]["farm-07"].get("job", {}).get("progress") == 37, 10,
               what="status to show the job's progress")
    doc, by_name = printers()
    farm = by_name["farm-07"]
    assert farm["connection"] == "up" and farm["state"] == "RUNNING", farm
    assert farm["serial"] == p.serial and farm["trust"] == "ca_file", farm
    assert farm["job"]["name"] == "status plate", farm
    assert 0 <= farm["last_report_age"] < 10, farm
    assert farm["online"] is True, farm
    off = by_name["switched-off"]
    assert off["connection"] != "up" and off["online"] is False, off
    assert off["last_report_age"] == -1, off
    assert doc["printers_total"] == 2 and doc["printers_online"] == 1, doc
    sink = doc["sinks"][0]
    assert sink["name"] == "ops" and sink["kind"] == "webhook", sink
    assert sink["state"] == "ok" and sink["queued"] == 0, sink
    assert 0 <= sink["last_success_age"] < 30, sink

    rc, out, err = _status(br)
    assert rc == 0, err
    assert "farm-07" in out and "status plate" in out and "37%" in out, out
    assert "switched-off" in out and "ops" in out, out


def test_status_without_a_daemon_says_so(bed):
    p = bed.broker(name="lonely")
    br = bed.bridge()
    br.write_config([p], [])
    rc, out, err = _status(br)
    assert rc == 1 and "no running bridge" in err, (rc, out, err)
