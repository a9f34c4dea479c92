"""The check command: exit codes and PATH:LINE: messages (the detailed golden files live in
tests/config)."""
import os
import re


def test_check_valid_configuration_exits_0_and_contacts_nothing(bed):
    p = bed.broker(name="x1c")
    rx = bed.receiver()
    br = bed.bridge()
    br.write_config([p], [bed.webhook_sink(rx, api_key="v" * 32), bed.discord_sink(rx)])
    rc, out = br.check()
    assert rc == 0, "check of a valid configuration: exit %d: %s" % (rc, out)
    assert p.attempts() == 0, "check connected to a printer"
    assert rx.requests() == [], "check contacted a sink"


def test_check_unknown_keys_name_path_and_line(bed):
    p = bed.broker(name="x1c", start=False)
    br = bed.bridge()
    br.write_config([p], [])
    with open(br.conf) as f:
        lines = f.read().splitlines()
    lines.insert(3, "colour = blue")
    with open(br.conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    main_line = 4
    drop = os.path.join(br.printers_dir, "x1c.conf")
    with open(drop, "a") as f:
        f.write("flavour = vanilla\n")
    with open(drop) as f:
        drop_line = len(f.read().splitlines())
    rc, out = br.check()
    assert rc == 1, "check of an invalid configuration: exit %d: %s" % (rc, out)
    assert "%s:%d:" % (br.conf, main_line) in out, out
    assert re.search(r"printers\.d/x1c\.conf:%d:" % drop_line, out), out
    assert "colour" in out and "flavour" in out, out
