"""The test bed itself (no bridge needed): brokers, certificates, the receiver, the leak check."""
import json
import subprocess
import time

import fixtures as F
from testbed import Bridge, wait_until


def test_bed_broker_checks_the_access_code_and_records_requests(bed):
    p = bed.broker(name="bedcheck")
    base = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(p.port), "--cafile", p.ca.ca_path,
            "--insecure", "-u", "bblp", "-t", p.report_topic, "-C", "1", "-W", "5"]
    sub = subprocess.Popen(base + ["-P", p.access_code, "-i", "probe-check"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: "probe-check 0 " + p.report_topic in p.log(), 5,
                   what="the test subscription")
        p.publish(F.delta(mc_percent=7))
        out, _ = sub.communicate(timeout=5)
    finally:
        if sub.poll() is None:
            sub.kill()
            sub.wait()
    assert json.loads(out)["print"]["mc_percent"] == 7
    r = subprocess.run(base + ["-P", p.access_code + "x"], capture_output=True, timeout=10)
    assert r.returncode != 0 and b"not authori" in r.stderr, r.stderr
    p.publish({"pushing": {"sequence_id": "1", "command": "pushall"}}, topic=p.request_topic)
    wait_until(lambda: p.pushalls() == 1, 5, what="the recorded pushall")
    assert p.connections() == 1         # the check client above, not the bed's own


def test_bed_printer_certificate_is_like_a_printers(bed):
    p = bed.broker(name="certcheck", start=False)
    text = subprocess.run(["openssl", "x509", "-in", p.cert, "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert "Subject: CN = %s" % p.serial in text, text
    assert "Subject Alternative Name" not in text
    cert, _ = bed.ca.leaf(p.serial, new_key=True)
    assert cert != p.cert
    https = subprocess.run(["openssl", "x509", "-in", bed.ca.https_cert()[0], "-noout", "-ext",
                            "subjectAltName"], capture_output=True, text=True).stdout
    assert "IP Address:127.0.0.1" in https and "DNS:localhost" in https, https


def test_bed_receiver_faults(bed):
    rx = bed.receiver(api_key="r" * 32)

    def post(path, hdrs=()):
        args = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
                bed.ca.ca_path, "-X", "POST", "--data-binary", '{"type":"job_started"}']
        for h in hdrs:
            args += ["-H", h]
        return int(subprocess.run(args + [rx.url(path)], capture_output=True,
                                  text=True).stdout)

    assert [post("fail503/2/hook/a") for _ in range(3)] == [503, 503, 200]
    assert [post("limit429/1/discord/w/t?wait=true") for _ in range(2)] == [429, 200]
    assert post("discord/w/t") == 204
    assert post("gone404/discord/w/t") == 404
    assert post("redirect/hook/a") == 302
    assert post("bad400/hook/a") == 400
    t = time.time()
    assert post("slow/300/hook/a") == 200 and time.time() - t >= 0.3
    assert post("hook/k", ["X-API-Key: " + "r" * 32]) == 200
    recs = rx.records()
    assert len(recs) == 11
    assert recs[-1]["key_ok"] is True and recs[-1]["sig_ok"] is None
    assert [n.status for n in rx.notifications(path="fail503", delivered=False)] == [503, 503, 200]
    assert [n.event for n in rx.notifications(path="fail503")] == ["job_started"]


def test_bed_leak_check_catches_a_secret(bed):
    b = Bridge(bed.path("fake"), "/bin/true", bed.ca)
    b.write_config([], [{"kind": "webhook", "name": "x", "url": "https://127.0.0.1:1/hook/x",
                         "api_key": "s3cr3t" * 6}])
    with open(b.log_path, "w") as f:
        f.write("<6>delivering with key %s\n" % ("s3cr3t" * 6))
    assert any("api_key" in problem for problem in b.problems()), b.problems()
