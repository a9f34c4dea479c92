"""A full disk under the state directory: reported once, never fatal, nothing lost.

The state directory is a 256 KiB tmpfs mounted by the test (CI runs as root)."""
import os
import subprocess

import fixtures as F
from outboxlib import log_lines, spool, wait_spool
from testbed import wait_until


def _fill(path):
    """Fill the file system of path; returns the filler's path."""
    filler = os.path.join(path, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def test_full_disk_is_reported_and_nothing_is_lost(bed):
    p = bed.broker(name="diskful")
    rx = bed.receiver()
    br = bed.bridge()
    br.write_config([p], [bed.webhook_sink(rx, name="ops", api_key="d" * 32)],
                    offline_after="300s")
    os.makedirs(br.state_dir, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0750", "tmpfs",
                    br.state_dir], check=True)
    try:
        br.start()
        bed.bring_up(p, F.full("IDLE"))
        rx.stop()                           # deliveries must wait: they live in the outbox
        filler = _fill(br.state_dir)
        job = F.job("written later", 41)
        p.publish(F.full("RUNNING", **job))
        p.publish(F.full("FINISH", mc_percent=100, **job))
        br.wait_log(r"sink ops: cannot write to the outbox: No space left on device", 10)
        assert spool(br, "ops") == [], "a record was written to a full disk?"
        br.assert_running()

        os.unlink(filler)                   # space again: the writes are retried
        wait_spool(br, "ops", "queue", 2, timeout=15)
        rx.start()
        notes = rx.wait_event("job_succeeded", timeout=30)
        assert [n.event for n in rx.notifications()] == ["job_started", "job_succeeded"], \
            rx.notifications()
        assert notes[0].data["job"]["name"] == "written later"
        wait_spool(br, "ops", "queue", 0, timeout=10)
        # Once at warning level (repeats only at debug level), for the outbox and for the
        # printers' state alike.
        for what in (r"cannot write to the outbox", r"cannot write printer state"):
            said = log_lines(br, r"^<[0-4]>.*" + what)
            assert len(said) == 1, "the full disk is logged %d times: %r" % (len(said), said)
        assert br.stop() == 0
    finally:
        if br.running():
            br.kill()
        subprocess.run(["umount", br.state_dir], check=False)
