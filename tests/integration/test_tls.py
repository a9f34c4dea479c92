"""Printers that refuse the bridge or that the bridge must refuse, beside printers that work."""
import re
import time

import fixtures as F
from testbed import CA, new_serial, token, wait_until


def _working(bed, p, rx):
    """The working printer delivers a job start."""
    bed.bring_up(p, F.full("IDLE"))
    p.publish(F.full("RUNNING", **F.job("still works", 1)))
    rx.wait_event("job_started", printer=p.name, timeout=10)


def _problem_lines(log, name):
    return [l for l in log.splitlines() if re.match(r"<[0-4]>", l) and name in l]


def test_wrong_access_code_beside_a_working_printer(bed):
    good = bed.broker(name="good-x1c")
    bad = bed.broker(name="locked-p1s", passwd_code=token(8))   # refuses the configured code
    rx = bed.receiver()
    br = bed.start_bridge([good, bad], [bed.webhook_sink(rx, api_key="t" * 32)])
    _working(bed, good, rx)
    br.wait_log(r"locked-p1s", timeout=10)
    wait_until(lambda: bad.attempts() >= 3, 20, what="the bridge to retry the locked printer")
    assert bad.connections() == 0
    lines = _problem_lines(br.log(), "locked-p1s")
    assert lines, "the refusal was not logged as a warning or error"
    assert re.search(r"(?i)auth|password|access.code|refus|denied|credential",
                     " ".join(lines)), "the reason is not in the log: %r" % lines
    assert len(lines) <= 2, "the refusal is logged again on every retry: %r" % lines
    time.sleep(0.3)
    assert rx.events() == ["job_started"], rx.notifications()   # nothing about the locked one


def test_certificates_naming_another_printer_or_from_another_ca_are_refused(bed):
    good = bed.broker(name="good-a1", tls12_only=True)       # like an X1C: TLS 1.2 only
    wrong_cn = new_serial()
    impostor = bed.broker(name="impostor", cert_cn=wrong_cn)
    stranger_ca = CA(bed.path("other-ca"), name="someone else's CA")
    serial = new_serial("01P00A")
    stranger = bed.broker(name="stranger", serial=serial, leaf=stranger_ca.leaf(serial),
                          leaf_ca=stranger_ca)
    rx = bed.receiver()
    br = bed.start_bridge([good, impostor, stranger],
                          [bed.webhook_sink(rx, api_key="c" * 32)])
    _working(bed, good, rx)
    for b in (impostor, stranger):
        br.wait_log(re.escape(b.name), timeout=10)
        wait_until(lambda: b.attempts() >= 1, 10, what="a TLS attempt on %s" % b.name)
        b.publish(F.full("RUNNING", **F.job("must not be seen", 2)))
    time.sleep(0.5)
    assert impostor.connections() == 0, "the bridge logged in to a printer with another serial"
    assert stranger.connections() == 0, "the bridge logged in to a printer of an unknown CA"
    assert rx.events() == ["job_started"], rx.notifications()
    for b in (impostor, stranger):
        assert _problem_lines(br.log(), b.name), "%s's refusal is not a warning" % b.name
    said = " ".join(_problem_lines(br.log(), "impostor"))
    assert wrong_cn in said and impostor.serial in said, \
        "the refusal does not name the certificate's CN and the expected serial: %r" % said


def test_tls_insecure_accepts_any_certificate(bed):
    other = CA(bed.path("other-ca"), name="unknown CA")
    serial = new_serial()
    p = bed.broker(name="lax", serial=serial, leaf=other.leaf("not-" + serial), leaf_ca=other)
    rx = bed.receiver()
    br = bed.bridge()
    br.write_config([p], [bed.webhook_sink(rx, api_key="i" * 32)],
                    overrides={"lax": {"ca_file": None, "tls_insecure": "yes"}})
    br.start()
    _working(bed, p, rx)
    assert _problem_lines(br.log(), "lax"), "tls_insecure = yes is not logged as a warning"
