"""Trust on first use: a printer with neither ca_file nor tls_insecure is pinned at first contact;
a changed certificate is refused until `bambu-bridge trust NAME` records it."""
import os
import pty
import re
import subprocess
import time

import fixtures as F
from testbed import run, wait_until

PINNED = {"ca_file": None}          # neither ca_file nor tls_insecure: pinned


def _fingerprint(cert):
    """`openssl x509 -fingerprint -sha256` of a PEM file, as the bridge writes it."""
    out = run(["openssl", "x509", "-in", cert, "-noout", "-fingerprint", "-sha256"])
    return "SHA256:" + out.stdout.decode().strip().split("=", 1)[1].upper()


def _pin_path(br, printer):
    return os.path.join(br.state_dir, "trust", printer.serial + ".pin")


def _pin(br, printer):
    """The fingerprint line of the printer's pin file, or None."""
    try:
        with open(_pin_path(br, printer)) as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    return line.strip()
    except FileNotFoundError:
        return None
    return None


def _trust(br, name, stdin=subprocess.DEVNULL, answer=None):
    """Run `bambu-bridge -c CONF -s STATE trust NAME`; returns (exit code, output).  answer:
    typed on a pseudo-terminal as stdin."""
    args = [br.binary, "-c", br.conf, "-s", br.state_dir, "trust", name]
    if answer is None:
        r = subprocess.run(args, stdin=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        rc, out = r.returncode, r.stdout
    else:
        master, slave = pty.openpty()
        try:
            p = subprocess.Popen(args, stdin=slave, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT)
            os.write(master, answer.encode())
            out, _ = p.communicate(timeout=30)
            rc = p.returncode
        finally:
            os.close(master)
            os.close(slave)
    text = out.decode("utf-8", errors="replace")
    br.outputs.append(text)         # searched for secrets when the test ends
    return rc, text


def _problem_lines(log, name):
    return [l for l in log.splitlines() if re.match(r"<[0-4]>", l) and name in l]


def _start(bed, printers, **kw):
    rx = bed.receiver()
    br = bed.bridge()
    br.write_config(printers, [bed.webhook_sink(rx, api_key="p" * 32)],
                    overrides={p.name: dict(PINNED) for p in printers}, **kw)
    br.start()
    return rx, br


def test_first_contact_pins_and_a_restart_keeps_the_pin(bed):
    p = bed.broker(name="pinned-p1s")
    rx, br = _start(bed, [p])
    bed.bring_up(p, F.full("IDLE"))
    p.publish(F.full("RUNNING", **F.job("first", 1)))
    rx.wait_event("job_started", printer=p.name, timeout=10)
    fp = _fingerprint(p.cert)
    assert _pin(br, p) == fp, "pin file holds %r, the printer presents %s" % (_pin(br, p), fp)
    mode = os.stat(_pin_path(br, p)).st_mode & 0o777
    assert mode in (0o600, 0o644), "pin file mode %o" % mode
    m = br.wait_log(r"printer pinned-p1s: first contact: pinned certificate (SHA256:[0-9A-F:]+)")
    assert m.group(1) == fp, "logged %s, the printer presents %s" % (m.group(1), fp)
    assert "CN=" + p.serial in br.log(), "the first-contact line does not name the subject"
    assert _problem_lines(br.log(), p.name) == [], "a pinned printer is not a warning"

    br.stop()
    seen = p.pushalls()
    br.start()
    bed.bring_up(p, F.full("RUNNING", **F.job("first", 1)), after=seen)
    p.publish(F.full("FINISH", **F.job("first", 1)))
    rx.wait_event("job_succeeded", printer=p.name, timeout=10)
    assert p.connections() == 2, "connections: %d" % p.connections()
    assert br.log().count("first contact") == 1, "the pin was taken again after a restart"
    assert "not connecting" not in br.log()
    assert _pin(br, p) == fp


def test_changed_certificate_is_refused_until_trust_records_it(bed):
    p = bed.broker(name="reset-x1c")
    rx, br = _start(bed, [p])
    bed.bring_up(p, F.full("IDLE"))
    p.publish(F.full("RUNNING", **F.job("before", 1)))
    rx.wait_event("job_started", printer=p.name, timeout=10)
    old = _fingerprint(p.cert)

    # The printer is reset: same serial (CN), same address, a new key and certificate.
    p.stop()
    q = bed.broker(serial=p.serial, name=p.name, access_code=p.access_code, port=p.port,
                   leaf=bed.ca.leaf(p.serial, new_key=True))
    new = _fingerprint(q.cert)
    assert new != old
    m = br.wait_log(r"<[0-3]>.*printer reset-x1c: .*certificate changed: pinned (\S+), now "
                    r"presents (\S+); .*run: bambu-bridge trust reset-x1c", timeout=20)
    assert (m.group(1).rstrip(","), m.group(2)) == (old, new), m.group(0)
    wait_until(lambda: q.attempts() >= 2, 20, what="the bridge to retry the reset printer")
    q.publish(F.full("RUNNING", **F.job("must not be seen", 2)))
    time.sleep(0.5)
    assert q.connections() == 0, "the bridge logged in to a printer whose certificate changed"
    assert "must not be seen" not in str([n.raw for n in rx.notifications()])
    assert rx.events(printer=p.name, event="job_started") == ["job_started"]
    refusals = [l for l in _problem_lines(br.log(), p.name) if "certificate changed" in l]
    assert len(refusals) == 1, "the refusal is logged again on every retry: %r" % refusals
    assert _pin(br, p) == old

    # Declined on a terminal: nothing changes.
    rc, out = _trust(br, p.name, answer="n\n")
    assert rc == 1, "declining exits %d: %s" % (rc, out)
    assert "Trust this certificate? [y/N]" in out and new in out and old in out, out
    assert _pin(br, p) == old

    # Not a terminal: recorded without asking; the running bridge connects at its next try.
    rc, out = _trust(br, p.name)
    assert rc == 0, "trust exited %d: %s" % (rc, out)
    for want in ("CN=" + p.serial, "issuer", "valid", new, old):
        assert want in out, "trust does not show %r: %s" % (want, out)
    assert _pin(br, p) == new
    bed.bring_up(q, F.full("IDLE"), timeout=45)
    q.publish(F.full("RUNNING", **F.job("after", 3)))
    rx.wait_event("job_started", printer=p.name, count=2, timeout=10)
    assert q.connections() >= 1
    br.assert_running()

    # Trusting what is already pinned changes nothing.
    rc, out = _trust(br, p.name)
    assert rc == 0 and "already trusted" in out, out


def test_a_certificate_naming_another_serial_is_not_pinned(bed):
    wrong = "01P00A999999999"
    p = bed.broker(name="impostor", cert_cn=wrong)
    rx, br = _start(bed, [p])
    br.wait_log(r"<[0-3]>.*printer impostor: not connecting: .*" + wrong, timeout=10)
    wait_until(lambda: p.attempts() >= 1, 10, what="a TLS attempt")
    assert p.connections() == 0
    assert _pin(br, p) is None and not os.path.exists(_pin_path(br, p))
    rc, out = _trust(br, p.name)
    assert rc == 1 and wrong in out and p.serial in out, out
    assert not os.path.exists(_pin_path(br, p))


def test_trust_applies_only_to_pinned_printers(bed):
    ca = bed.broker(name="with-ca", start=False)
    lax = bed.broker(name="lax", start=False)
    br = bed.bridge()
    br.write_config([ca, lax], overrides={"lax": {"ca_file": None, "tls_insecure": "yes"}})
    rc, out = _trust(br, "with-ca")
    assert rc == 1 and "ca_file" in out and "pinning does not apply" in out, out
    rc, out = _trust(br, "lax")
    assert rc == 1 and "tls_insecure" in out and "pinning does not apply" in out, out
    rc, out = _trust(br, "nobody")
    assert rc == 1 and "no printer named" in out, out
    # A pinned printer that does not answer: nothing recorded, exit 1.
    br.write_config([lax], overrides={"lax": dict(PINNED)})
    rc, out = _trust(br, "lax")
    assert rc == 1 and "cannot connect" in out, out
    assert not os.path.isdir(os.path.join(br.state_dir, "trust")) or \
        not os.listdir(os.path.join(br.state_dir, "trust"))
