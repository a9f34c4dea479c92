#!/usr/bin/python3
"""
run.py: run the integration tests (tests/integration/test_*.py) against the real bridge.

    /usr/bin/python3 tests/integration/run.py [FILTER ...]

Every test_* function of every test_*.py runs in file and definition order, each with a fresh
testbed.Bed (its own folder, brokers, receiver and bridge), under a per-test deadline
(TEST_TIMEOUT, default 90 s).  A FILTER keeps the tests whose "module.function" name contains
it.  The bridge is $BRIDGE_BIN, default build/bambu-bridge in the repository.  After every test
the bed checks that no secret reached the bridge's log and that the bridge did not crash.
Prints "ok NAME (1.2s)" or "FAIL NAME: reason" (with the end of the bridge's log), and last
"N passed, N failed"; exits 1 when a test failed.  BED_KEEP=1 keeps every test's folder.
"""
import glob
import importlib
import os
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [HERE, os.path.join(REPO, "scripts")]

import testbed  # noqa: E402

TIMEOUT = int(os.environ.get("TEST_TIMEOUT", "90"))
LOG_TAIL = 30


class TestTimeout(Exception):
    pass


def on_alarm(signum, frame):
    raise TestTimeout("no result within %d s (TEST_TIMEOUT)" % TIMEOUT)


def discover(filters):
    """[(name, function or an import error)] in file and definition order."""
    out = []
    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        modname = os.path.basename(path)[:-3]
        try:
            mod = importlib.import_module(modname)
        except Exception as e:           # a broken test file fails, the rest still run
            name = modname + ".<import>"
            if not filters or any(f in name for f in filters):
                out.append((name, e))
            continue
        for name, fn in vars(mod).items():
            if not name.startswith("test_") or not callable(fn):
                continue
            if getattr(fn, "__module__", None) != mod.__name__:
                continue
            full = "%s.%s" % (modname, name)
            if filters and not any(f in full for f in filters):
                continue
            out.append((full, fn))
    return out


def reason(e):
    """One line: the message and where in a test file it was raised."""
    where = code = ""
    for fs in reversed(traceback.extract_tb(e.__traceback__)):
        if os.path.dirname(os.path.abspath(fs.filename)) == HERE and \
                os.path.basename(fs.filename) != "run.py":
            where = " [%s:%d]" % (os.path.basename(fs.filename), fs.lineno)
            code = (fs.line or "").strip()
            break
    msg = str(e) if isinstance(e, (AssertionError, TestTimeout)) else \
        "%s: %s" % (type(e).__name__, e)
    msg = msg.strip() or code or type(e).__name__
    if len(msg) > 1500:
        msg = msg[:1500] + " ..."
    return msg + where


def run_one(name, fn, binary):
    t0 = time.monotonic()
    if isinstance(fn, Exception):
        return False, "cannot import: %s" % reason(fn), [], 0.0
    bed = testbed.Bed(binary)
    err = None
    signal.alarm(TIMEOUT)
    try:
        fn(bed)
    except KeyboardInterrupt:
        signal.alarm(0)
        bed.close()
        raise
    except BaseException as e:          # noqa: B902 (a test's failure, whatever it is)
        err = reason(e)
    finally:
        signal.alarm(0)
    tails = []
    for b in bed.bridges:
        lines = b.log().splitlines()
        if b.proc is not None and b.proc.poll() is not None and not b.expected_exit:
            lines.append("(the bridge exited by itself with code %s)" % b.proc.returncode)
        tails.append((b.log_path, lines[-LOG_TAIL:]))
    problems = bed.close()
    if problems and err is None:
        err = "; ".join(problems)
    elif problems:
        err += " (also: %s)" % "; ".join(problems)
    return err is None, err, tails, time.monotonic() - t0


def main(argv):
    filters = [a for a in argv if not a.startswith("-")]
    binary = testbed.default_binary()
    signal.signal(signal.SIGALRM, on_alarm)
    tests = discover(filters)
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print("note: bridge binary %s is missing: tests that need it fail" % binary)
    passed = failed = 0
    for name, fn in tests:
        ok, err, tails, secs = run_one(name, fn, binary)
        if ok:
            passed += 1
            print("ok %s (%.1fs)" % (name, secs), flush=True)
            continue
        failed += 1
        print("FAIL %s: %s (%.1fs)" % (name, err, secs), flush=True)
        for path, lines in tails:
            if lines:
                print("    --- last %d lines of the bridge log" % len(lines))
                for line in lines:
                    print("    | " + line)
        sys.stdout.flush()
    if not tests:
        print("no test matched %s" % " ".join(filters))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not tests else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        print("interrupted")
        sys.exit(130)
