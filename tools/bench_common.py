# What both benchmark reports share (tools/bench_report and
# tools/bench_programs.py): building, how busy the machine is, number formats.

import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BAZEL_FLAGS = ["-c", "opt", "--color=no", "--curses=no"]


class Failure(Exception):
    pass


def say(msg):
    print(msg, file=sys.stderr, flush=True)


def run_logged(cmd, what):
    """Runs cmd from the repository root; on failure raises with its output's tail."""
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-30:])
        raise Failure(f"{what} failed (exit {proc.returncode}):\n{tail}")
    return proc.stdout


def build(targets):
    """Builds Bazel targets with -c opt and copies their files into a private
    directory (others may rebuild meanwhile): {target: path of the copy}, and
    the directory, which the caller removes."""
    say(f"bench: building {' '.join(targets)} (bazel build -c opt)")
    # --symlink_prefix=/ leaves bazel-bin and bazel-testlogs pointing where they were.
    run_logged(["bazel", "build", *BAZEL_FLAGS, "--symlink_prefix=/", *targets], "bazel build")
    bin_dir = run_logged(["bazel", "info", *BAZEL_FLAGS, "bazel-bin"], "bazel info").strip().splitlines()[-1]
    tmp = tempfile.mkdtemp(prefix="tinyalloc-bench.")
    copies = {}
    for target in targets:
        package, name = target.lstrip("/").split(":")
        built = os.path.join(bin_dir, package, name)
        if not os.access(built, os.R_OK):
            shutil.rmtree(tmp, ignore_errors=True)
            raise Failure(f"no file at {built}")
        copies[target] = os.path.join(tmp, name)
        shutil.copy2(built, copies[target])
    return copies, tmp


def cpu_sample(with_procs=True):
    """(total jiffies, idle jiffies, {pid: (comm, cpu jiffies)}) from /proc."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    procs = {}
    for pid in os.listdir("/proc") if with_procs else []:
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.find("(") + 1:stat.rfind(")")]
        rest = stat[stat.rfind(")") + 2:].split()
        procs[pid] = (comm, int(rest[11]) + int(rest[12]))
    return sum(fields), fields[3] + fields[4], procs


def machine_state(seconds=1.0):
    """How busy the machine is, sampled over a second before we run anything."""
    total0, idle0, procs0 = cpu_sample()
    time.sleep(seconds)
    total1, idle1, procs1 = cpu_sample()
    busy = 1.0 - (idle1 - idle0) / max(1, total1 - total0)
    hz = os.sysconf("SC_CLK_TCK")
    # Per command: fuzzers and tests come and go, so count processes that
    # started during the sample too.
    by_comm = {}
    for pid, (comm, jiffies) in procs1.items():
        before = procs0[pid][1] if pid in procs0 else 0
        by_comm[comm] = by_comm.get(comm, 0) + jiffies - before
    users = sorted(((j / hz / seconds * 100, comm) for comm, j in by_comm.items()
                    if j / hz / seconds >= 0.05), reverse=True)
    return {"cores": os.cpu_count(), "busy": round(busy, 3),
            "loadavg": [round(x, 2) for x in os.getloadavg()],
            "top_processes": ", ".join(f"{comm} {share:.0f}%" for share, comm in users[:4])}


class OtherLoad:
    """Share of the machine other processes use while ours run: all busy CPU
    time (/proc/stat) minus our children's, over cores x wall time."""

    def __init__(self):
        self.total, self.idle, _ = cpu_sample(with_procs=False)
        self.ours = self._children()

    @staticmethod
    def _children():
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def share(self):
        total, idle, _ = cpu_sample(with_procs=False)
        hz = os.sysconf("SC_CLK_TCK")
        busy = ((total - self.total) - (idle - self.idle)) / hz
        capacity = (total - self.total) / hz
        return max(0.0, busy - (self._children() - self.ours)) / max(capacity, 1e-9)


def geomean(values):
    values = [v for v in values if v > 0]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def fmt(value, width):
    if value is None:
        return "-".rjust(width)
    if value >= 1e6:
        text = f"{value / 1e6:.2f}M"
    elif value >= 1e4:
        text = f"{value / 1e3:.1f}k"
    elif value >= 100:
        text = f"{value:.0f}"
    elif value >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return text.rjust(width)


def fmt_ratio(r):
    if r is None:
        return "-"
    return f"{r:.2f}" if 0.01 <= r < 1000 else f"{r:.1e}"
