#!/usr/bin/python3
"""The farm benchmark: N printers (default 1000) on one mosquitto broker, each sending a
P1-style delta every 2 s (RATE = N/2 reports per second), into one bridge.  Prints the
bridge's CPU (from /proc, over a steady window), its memory, and how long the sessions took
to come up.  A measurement, not a test: nothing here fails on a number.

Usage: bench_farm.py BUILD_DIR [N] [SECONDS]"""
import os
import re
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__))))
import testbed  # noqa: E402

TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TCK      # utime + stime


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def threads(pid):
    return len(os.listdir("/proc/%d/task" % pid))


def window(pid, seconds):
    c0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100.0 * (cpu_seconds(pid) - c0) / (time.monotonic() - t0)


def main():
    build = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    secs = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    rate = max(1, n // 2)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))       # brokers and bridge inherit
    with testbed.Bed() as bed:
        broker = bed.broker(name="farm")
        prefix = "01P09A"
        printers = [{"name": "farm-%04d" % i, "host": "127.0.0.1", "port": broker.port,
                     "serial": "%s%09d" % (prefix, i), "access_code": broker.access_code,
                     "ca_file": None, "tls_insecure": "yes"} for i in range(n)]
        br = bed.bridge()
        br.write_config([], [], offline_after="60s", extra_printers=printers)
        t0 = time.monotonic()
        br.start()
        pid = br.proc.pid
        testbed.wait_until(lambda: len(re.findall(r": connected\n", br.log())) >= n, 300,
                           what="%d sessions" % n)
        up = time.monotonic() - t0
        idle = window(pid, 10)
        pub = subprocess.Popen([os.path.join(build, "tests/farm_pub"), str(broker.port),
                                broker.access_code, str(n), str(rate), str(secs + 10), prefix],
                               stdout=subprocess.PIPE, text=True)
        time.sleep(8)                     # full reports and the first deltas settle
        busy = window(pid, secs)
        out = pub.communicate(timeout=120)[0].strip()
        print("%d printers, one broker, one bridge (2-core VM)" % n)
        print("  all sessions up after:     %6.1f s (TLS, subscribe, pushall each)" % up)
        print("  bridge CPU, idle sessions: %6.2f %% of one core" % idle)
        print("  bridge CPU, %4d reports/s: %6.2f %% of one core  (%s)" % (rate, busy, out))
        print("  bridge memory (RSS):       %6.1f MiB, %d threads" %
              (rss_kib(pid) / 1024.0, threads(pid)))
        dropped = len(re.findall(r"dropped a report", br.log()))
        print("  reports refused:           %6d" % dropped)
        assert br.stop() == 0


if __name__ == "__main__":
    main()
