"""Living under systemd and being installed: the unit verifies clean and scores 2.0 or lower
with `systemd-analyze`, `make install` lays out a working tree, and the man pages pass
`mandoc -T lint` and document every configuration key.  None of these needs a printer; the
bed only lends its temporary folder."""
import os
import re
import shutil
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
UNIT = os.path.join(REPO, "scripts", "bambu-bridge.service")
MAX_EXPOSURE = 2.0


def _run(args, env=None, cwd=None, timeout=120):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                       cwd=cwd, timeout=timeout)
    return r.returncode, r.stdout.decode("utf-8", errors="replace")


def _need(tool):
    path = shutil.which(tool)
    assert path, "%s is missing: run scripts/install-deps.sh" % tool
    return path


def _unit_copy(bed, binary):
    """The repository's unit with its binary path pointing at binary, in the bed."""
    d = bed.path("unit")
    os.makedirs(d, exist_ok=True)
    with open(UNIT) as f:
        text = f.read()
    assert "/usr/local/sbin/bambu-bridge" in text, "the unit does not run /usr/local/sbin"
    path = os.path.join(d, "bambu-bridge.service")
    with open(path, "w") as f:
        f.write(text.replace("/usr/local/sbin/bambu-bridge", binary))
    return path


def _verify(unit, manpath):
    """systemd-analyze verify; (exit code, output).  Its Documentation= man pages are looked up
    in manpath (or not at all when man is missing)."""
    env = dict(os.environ, MANPATH=manpath, SYSTEMD_LOG_COLOR="0")
    args = [_need("systemd-analyze"), "verify"]
    if shutil.which("man") is None:
        args.append("--man=no")
    return _run(args + [unit], env=env)


def _install(bed):
    """make install DESTDIR=<bed>/root PREFIX=/usr of the binary under test; the root."""
    root = bed.path("root")
    binary = os.path.abspath(bed.binary)
    build = os.path.dirname(binary)
    # -o: install the binary that the suite tests, never rebuild it here.
    rc, out = _run(["make", "-s", "-C", REPO, "-o", binary, "-o", "all", "-o", "deps-check",
                    "install", "DESTDIR=" + root, "PREFIX=/usr", "BUILD=" + build])
    assert rc == 0, "make install failed (%d): %s" % (rc, out[-2000:])
    return root


def _lint(page):
    rc, out = _run([_need("mandoc"), "-T", "lint", "-W", "warning", page])
    assert rc == 0 and out.strip() == "", "mandoc -T lint %s: %s" % (page, out)


def test_unit_verifies_clean(bed):
    rc, out = _verify(_unit_copy(bed, os.path.abspath(bed.binary)),
                      os.path.join(REPO, "scripts", "man-not-installed"))
    # Without the man pages installed only their lookup may complain; see the install test.
    lines = [l for l in out.splitlines() if l.strip() and "Command 'man " not in l]
    assert lines == [], "systemd-analyze verify: %s" % out


def test_unit_exposure_at_most_2(bed):
    unit = _unit_copy(bed, os.path.abspath(bed.binary))
    rc, out = _run([_need("systemd-analyze"), "security", "--offline=true", "--no-pager",
                    unit], env=dict(os.environ, SYSTEMD_COLORS="0"))
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out)
    assert m, "no score from systemd-analyze security (exit %d): %s" % (rc, out[-1500:])
    assert float(m.group(1)) <= MAX_EXPOSURE, \
        "exposure %s > %.1f:\n%s" % (m.group(1), MAX_EXPOSURE,
                                     "\n".join(l for l in out.splitlines() if "\u2717" in l))


def test_unit_is_a_notify_service_with_watchdog_and_reload(bed):
    with open(UNIT) as f:
        keys = {}
        for line in f:
            m = re.match(r"^(\w+)=(.*)$", line.strip())
            if m:
                keys.setdefault(m.group(1), []).append(m.group(2))
    want = {"Type": "notify", "NotifyAccess": "main", "WatchdogSec": "30s",
            "ExecReload": "/bin/kill -HUP $MAINPID", "User": "bambu-bridge",
            "StateDirectory": "bambu-bridge", "ConfigurationDirectory": "bambu-bridge"}
    for k, v in want.items():
        assert keys.get(k) == [v], "%s=%s, want %s" % (k, keys.get(k), v)
    assert "DynamicUser" not in keys, "a static user is needed to read root:bambu-bridge files"


def test_make_install_into_destdir(bed):
    root = _install(bed)
    sbin = os.path.join(root, "usr", "sbin", "bambu-bridge")
    assert os.access(sbin, os.X_OK), "no executable %s" % sbin
    rc, out = _run([sbin, "-h"])
    assert "usage: bambu-bridge" in out, "the installed binary's usage: %s" % out

    unit = os.path.join(root, "usr", "lib", "systemd", "system", "bambu-bridge.service")
    with open(unit) as f:
        text = f.read()
    assert "ExecStart=/usr/sbin/bambu-bridge " in text, "ExecStart not rewritten to PREFIX"
    assert "/usr/local" not in text, "the unit still names /usr/local"
    sysusers = os.path.join(root, "usr", "lib", "sysusers.d", "bambu-bridge.conf")
    with open(sysusers) as f:
        assert re.search(r"^u\s+bambu-bridge\s", f.read(), re.M), "no user in " + sysusers

    man = os.path.join(root, "usr", "share", "man")
    pages = [os.path.join(man, "man8", "bambu-bridge.8"),
             os.path.join(man, "man5", "bambu-bridge.conf.5")]
    for page in pages:
        assert os.path.isfile(page), "no %s" % page
        _lint(page)

    # The installed unit, run from the installed binary, verifies clean with its man pages.
    with open(unit) as f:
        text = f.read().replace("/usr/sbin/bambu-bridge", sbin)
    check_unit = bed.path("unit-installed", "bambu-bridge.service")
    os.makedirs(os.path.dirname(check_unit))
    with open(check_unit, "w") as f:
        f.write(text)
    rc, out = _verify(check_unit, man)
    assert rc == 0 and out.strip() == "", "verify of the installed unit: %s" % out

    # Examples: only *.example, so nothing is read until an administrator renames it...
    etc = os.path.join(root, "etc", "bambu-bridge")
    assert os.path.isfile(os.path.join(etc, "bridge.conf.example"))
    assert not os.path.exists(os.path.join(etc, "bridge.conf")), "installed a bridge.conf"
    examples = sorted(os.listdir(os.path.join(etc, "printers.d")))
    assert examples and all(e.endswith(".conf.example") for e in examples), examples
    rc, out = _run([sbin, "-c", os.path.join(etc, "bridge.conf.example"), "-p",
                    os.path.join(etc, "printers.d"), "-s", bed.path("state"), "check"])
    assert rc == 0 and ": ok: 0 printers," in out, "examples are read as they are: %s" % out

    # ... and, once copied into place closed to others, they pass the check quietly.
    conf = bed.path("etc-live")
    os.makedirs(os.path.join(conf, "printers.d"))
    shutil.copy(os.path.join(etc, "bridge.conf.example"), os.path.join(conf, "bridge.conf"))
    for e in examples:
        shutil.copy(os.path.join(etc, "printers.d", e),
                    os.path.join(conf, "printers.d", e[:-len(".example")]))
    for dirpath, _, files in os.walk(conf):
        for name in files:
            os.chmod(os.path.join(dirpath, name), 0o640)
    rc, out = _run([sbin, "-c", os.path.join(conf, "bridge.conf"), "-s", bed.path("state"),
                    "check"])
    assert rc == 0 and "ok: %d printers" % len(examples) in out and "warning" not in out, \
        "the installed examples, renamed: %s" % out

    # make install again over the same tree works, and keeps an administrator's bridge.conf.
    mine = os.path.join(etc, "bridge.conf")
    with open(mine, "w") as f:
        f.write("# mine\n")
    _install(bed)
    with open(mine) as f:
        assert f.read() == "# mine\n", "make install overwrote bridge.conf"


def _conf_keys():
    """(section, key) of every entry in bridge/config.c's conf_keys table."""
    with open(os.path.join(REPO, "bridge", "config.c")) as f:
        src = f.read()
    table = src[src.index("conf_keys[] = {"):]
    table = table[:table.index("\n};")]
    return [(s, k) for k, s in re.findall(r'\{\s*"(\w+)",\s*SECT_(\w+),', table)]


def test_man_pages_document_every_key(bed):
    for page in ("bambu-bridge.8", "bambu-bridge.conf.5"):
        _lint(os.path.join(REPO, "scripts", page))
    with open(os.path.join(REPO, "scripts", "bambu-bridge.conf.5")) as f:
        text = f.read()
    sections = {}
    for m in re.finditer(r"^\.Ss The \[(\w+)\] section\n(.*?)(?=^\.S[sh] )", text,
                         re.M | re.S):
        sections[m.group(1)] = set(re.findall(r"^\.It Cm (\w+)", m.group(2), re.M))
    keys = _conf_keys()
    assert len(keys) >= 15, "could not read the key table: %r" % keys
    missing = ["[%s] %s" % (s.lower(), k) for s, k in keys
               if k not in sections.get(s.lower(), set())]
    assert not missing, "bambu-bridge.conf(5) does not document: %s" % ", ".join(missing)
    extra = ["[%s] %s" % (s, k) for s, ks in sections.items() for k in ks
             if (s.upper(), k) not in keys]
    assert not extra, "bambu-bridge.conf(5) documents keys that do not exist: %s" % extra
