# The real-program benchmark behind `tools/bench_report --programs`: classic
# allocator workloads (bench/programs) and Debian applications, each run as a
# process of its own on every allocator (glibc without a preload, the others
# through LD_PRELOAD). Per cell: wall time (or, for servers, the time its
# requests took) and peak RSS, the median of the runs, allocators interleaved
# within each run; ratios to tinyalloc and geometric means per peer. A run
# that fails, crashes or prints a result other than glibc's is a FAIL cell.

import glob
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time

from bench_common import (ROOT, Failure, OtherLoad, build, fmt, fmt_ratio, geomean,
                          machine_state, say)

ALLOCATORS = ["tinyalloc", "glibc", "mimalloc", "jemalloc", "tcmalloc"]
BASE = "tinyalloc"
PEERS = ALLOCATORS[1:]
PEER_LIBRARIES = {"mimalloc": "libmimalloc.so.2", "jemalloc": "libjemalloc.so.2",
                  "tcmalloc": "libtcmalloc_minimal.so.4"}
PROGRAMS = ["larson", "xmalloc", "cache_scratch", "mstress", "malloc_loop", "bigint", "frag"]
LIBRARY_TARGET = "//alloc:libtinyalloc.so"

# Per mode: runs per cell (median), work scale of the classic workloads, and
# the size of each application's job.
MODES = {
    "smoke": {"runs": 1, "scale": 0.05, "python_rounds": 30, "db_num": 20000,
              "redis_requests": 2000, "spawns": 20, "shell_loop": 50, "gcc_source": "gtest-printers"},
    "quick": {"runs": 3, "scale": 0.3, "python_rounds": 300, "db_num": 200000,
              "redis_requests": 20000, "spawns": 100, "shell_loop": 300, "gcc_source": "gtest-printers"},
    "full": {"runs": 3, "scale": 1.0, "python_rounds": 1000, "db_num": 1000000,
             "redis_requests": 100000, "spawns": 200, "shell_loop": 1000, "gcc_source": "gtest-all"},
}
TIMEOUT_S = 600
GTEST_DIR = "/usr/src/googletest/googletest"


class Run:
    """One finished process: exit status, wall seconds, peak RSS (KiB, its
    own or its largest descendant's), output."""

    def __init__(self, status, seconds, rss_kib, out, err):
        self.status, self.seconds, self.rss_kib, self.out, self.err = status, seconds, rss_kib, out, err


MEASURE = None  # path of the copy of //bench/programs:measure


def run_process(argv, env, preload=None, cwd=None, timeout=TIMEOUT_S):
    """Runs argv to its end through `measure` (with LD_PRELOAD=preload),
    killed with its process group after timeout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(prefix="tinyalloc-measure.") as report:
        cmd = [MEASURE, "--out", report.name] + (["--preload", preload] if preload else []) + ["--"] + argv
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                cwd=cwd, start_new_session=True)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        out.seek(0)
        err.seek(0)
        text_out = out.read().decode(errors="replace")
        text_err = err.read().decode(errors="replace")
        return measured(proc.returncode, report.name, text_out, text_err)


def measured(returncode, report, out, err):
    """The Run that measure's report describes."""
    with open(report) as f:
        fields = dict(kv.split("=") for kv in f.read().split())
    if "status" not in fields:
        return Run(returncode if returncode else -1, 0.0, 0, out, err + f" (killed: exit {returncode})")
    return Run(int(fields["status"]), float(fields["seconds"]), int(fields["maxrss_kib"]), out, err)


def tail(text, lines=3):
    return " | ".join(text.strip().splitlines()[-lines:])[:300]


class Cell:
    """A measurement (lower is better: seconds) or the reason it failed."""

    def __init__(self, value=None, rss_kib=None, error=None):
        self.value, self.rss_kib, self.error = value, rss_kib, error


def checked(run, what):
    """Cell of a run whose exit status is checked; its value is wall time."""
    if run.status != 0:
        return Cell(error=f"{what} exited {run.status}: {tail(run.err or run.out)}")
    return Cell(run.seconds, run.rss_kib)


class Context:
    """What rows share: the mode, scratch space, the environment (without
    any preload or allocator option) and each allocator's preload."""

    def __init__(self, mode, binaries, library, work):
        self.mode = MODES[mode]
        self.binaries = binaries
        self.work = work
        self.env = {k: v for k, v in os.environ.items()
                    if k != "LD_PRELOAD" and not k.startswith(("TINYALLOC_", "MIMALLOC_", "MALLOC_"))}
        self.preloads = {a: peer_library(lib) for a, lib in PEER_LIBRARIES.items()}
        self.preloads[BASE] = library
        self.preloads["glibc"] = None


def peer_library(name):
    found = sorted(glob.glob(f"/usr/lib/*/{name}")) + sorted(glob.glob(f"/usr/lib/{name}"))
    if not found:
        raise Failure(f"{name} is not installed (tools/setup.sh installs it)")
    return found[0]


class Row:
    """A benchmark row: prepare() once, measure() once per run and allocator."""
    group = "classic"
    unit = "s"
    note = ""

    def __init__(self, name):
        self.name = name

    def prepare(self, ctx):
        pass

    def measure(self, ctx, allocator):
        raise NotImplementedError


RESULT_LINE = re.compile(r"^result: ok((?: \w+=[0-9.eE+-]+)*)\s*$")


class ClassicRow(Row):
    """A bench/programs workload: it checks its own blocks and prints
    `result: ok key=value ...`; the same checksum is wanted on every
    allocator."""

    def __init__(self, program, threads, mode_arg=None):
        label = program if mode_arg is None else f"cache_{mode_arg}"
        super().__init__(f"{label} x{threads}")
        self.program, self.threads, self.mode_arg = program, threads, mode_arg
        self.reference = None
        if program == "larson":
            self.unit = "s/Mop"

    def argv(self, ctx):
        args = [ctx.binaries[self.program]]
        if self.mode_arg:
            args.append(self.mode_arg)
        return args + [str(self.threads), str(ctx.mode["scale"])]

    def measure(self, ctx, allocator):
        run = run_process(self.argv(ctx), ctx.env, ctx.preloads[allocator])
        cell = checked(run, self.program)
        if cell.error:
            return cell
        last = run.out.strip().splitlines()[-1] if run.out.strip() else ""
        match = RESULT_LINE.match(last)
        if not match:
            return Cell(error=f"no result line: {tail(run.out + run.err)}")
        values = dict(kv.split("=") for kv in match.group(1).split())
        if "checksum" in values:
            if self.reference is None:
                self.reference = values["checksum"]
            elif values["checksum"] != self.reference:
                return Cell(error=f"checksum {values['checksum']}, expected {self.reference}")
        if self.program == "larson":
            rate = float(values.get("ops_per_sec", 0))
            if rate <= 0:
                return Cell(error=f"no throughput: {last}")
            return Cell(1e6 / rate, run.rss_kib)
        return cell


class OutputRow(Row):
    """An application whose output must be glibc's, byte for byte (or its
    digest, as `digest` extracts it)."""
    group = "apps"

    def __init__(self, name, note=""):
        super().__init__(name)
        self.note = note
        self.reference = None

    def command(self, ctx):
        raise NotImplementedError

    def env(self, ctx):
        return ctx.env

    def digest(self, run):
        return hashlib.sha256(run.out.encode()).hexdigest()

    def before_run(self, ctx):
        pass

    def prepare(self, ctx):
        self.before_run(ctx)
        run = run_process(self.command(ctx), self.env(ctx), cwd=ctx.work)
        if run.status == 0:
            self.reference = self.digest(run)

    def measure(self, ctx, allocator):
        self.before_run(ctx)
        run = run_process(self.command(ctx), self.env(ctx), ctx.preloads[allocator], cwd=ctx.work)
        cell = checked(run, self.name)
        if cell.error:
            return cell
        if self.reference is not None and self.digest(run) != self.reference:
            return Cell(error=f"output differs from glibc's: {tail(run.out)}")
        return cell


SQLITE_SCRIPT = os.path.join(ROOT, "tests", "programs", "sqlite_workload.sql")
PYTHON_CHURN = os.path.join(ROOT, "tests", "programs", "churn.py")


class SqliteRow(OutputRow):
    def __init__(self):
        super().__init__("sqlite3 :memory:")

    def command(self, ctx):
        return ["sqlite3", ":memory:", f".read {SQLITE_SCRIPT}"]


class PythonRow(OutputRow):
    def __init__(self):
        super().__init__("python3 churn", "PYTHONMALLOC=malloc")

    def command(self, ctx):
        return ["python3", PYTHON_CHURN, str(ctx.mode["python_rounds"])]

    def env(self, ctx):
        return dict(ctx.env, PYTHONMALLOC="malloc")


class GccRow(OutputRow):
    """g++ -O2 on GoogleTest's sources (libgtest-dev): the object file must
    be the one glibc's run made."""

    def __init__(self):
        super().__init__("g++ -O2")

    def command(self, ctx):
        source = os.path.join(GTEST_DIR, "src", ctx.mode["gcc_source"] + ".cc")
        obj = os.path.join(ctx.work, "gcc_row.o")
        return ["sh", "-c", 'g++ -O2 -c -I"$1/include" -I"$1" "$2" -o "$3" && sha256sum <"$3"',
                "sh", GTEST_DIR, source, obj]


class DbBenchRow(OutputRow):
    """rocksdb's db_bench (rocksdb-tools): fillrandom then readrandom on a
    fresh directory; the count of keys found must be glibc's."""

    def __init__(self):
        super().__init__("db_bench fill+read")

    def before_run(self, ctx):
        shutil.rmtree(os.path.join(ctx.work, "rocksdb"), ignore_errors=True)

    def command(self, ctx):
        n = ctx.mode["db_num"]
        return ["db_bench", "--benchmarks=fillrandom,readrandom", f"--num={n}", "--seed=1",
                f"--db={os.path.join(ctx.work, 'rocksdb')}", "--compression_type=none",
                "--threads=1", "--statistics=0"]

    def digest(self, run):
        found = re.search(r"\((\d+) of (\d+) found\)", run.out)
        return found.group(0) if found else "no readrandom result"


class ShellLoopRow(OutputRow):
    """Thousands of short processes, as make and git start them: a shell loop
    of small pipelines, every process on the allocator."""
    group = "startup"

    def __init__(self):
        super().__init__("shell loop")

    def command(self, ctx):
        n = ctx.mode["shell_loop"]
        script = ('i=0; t=0; while [ $i -lt "$1" ]; do '
                  'n=$(echo "$i" | sed "s/0/9/g" | wc -c); t=$((t + n)); i=$((i + 1)); done; echo "$t"')
        return ["sh", "-c", script, "sh", str(n)]


class SpawnRow(Row):
    """The fixed cost of one process: /bin/true started many times; the cell
    is the total, the RSS the largest."""
    group = "startup"

    def __init__(self):
        super().__init__("/bin/true")

    def measure(self, ctx, allocator):
        total, rss = 0.0, 0
        for _ in range(ctx.mode["spawns"]):
            run = run_process(["/bin/true"], ctx.env, ctx.preloads[allocator])
            if run.status != 0:
                return Cell(error=f"/bin/true exited {run.status}: {tail(run.err)}")
            total += run.seconds
            rss = max(rss, run.rss_kib)
        return Cell(total, rss)


class RedisRow(Row):
    """redis-server on a loopback port, driven by redis-benchmark (not
    preloaded); the cell is the time its requests took (requests over
    requests per second, summed over the tests), the RSS the server's.
    Debian's redis-server links libjemalloc2 and calls mallctl directly: the
    preload replaces malloc and free only, so the no-preload column is
    jemalloc as linked, not glibc."""
    group = "apps"
    TESTS = "set,get,incr,lpush,lpop,sadd,hset,lrange_100"

    def __init__(self):
        super().__init__("redis")
        self.note = "no preload = jemalloc (linked)"

    def measure(self, ctx, allocator):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        preload = ctx.preloads[allocator]
        with tempfile.TemporaryFile() as out, \
                tempfile.NamedTemporaryFile(prefix="tinyalloc-measure.") as report:
            server = subprocess.Popen(
                [MEASURE, "--out", report.name] + (["--preload", preload] if preload else []) +
                ["--", "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--daemonize", "no", "--dir", ctx.work, "--logfile", ""],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=ctx.env,
                start_new_session=True)
            try:
                if not self.wait_ready(port, server):
                    out.seek(0)
                    return Cell(error="redis-server did not start: "
                                      f"{tail(out.read().decode(errors='replace'))}")
                n = ctx.mode["redis_requests"]
                bench = run_process(["redis-benchmark", "-p", str(port), "-n", str(n), "-t", self.TESTS,
                                     "--csv"], ctx.env)
                down = run_process(["redis-cli", "-p", str(port), "shutdown", "nosave"], ctx.env)
                server.wait(60)
            finally:
                if server.returncode is None:
                    os.killpg(server.pid, signal.SIGKILL)
                    server.wait()
            out.seek(0)
            log = out.read().decode(errors="replace")
            run = measured(server.returncode, report.name, log, "")
        if bench.status != 0:
            return Cell(error=f"redis-benchmark exited {bench.status}: {tail(bench.err or bench.out)}")
        if run.status != 0 or "ready to exit" not in log:
            return Cell(error=f"redis-server exited {run.status} ({tail(down.out)}): {tail(log)}")
        seconds, tests = 0.0, set()
        for line in bench.out.splitlines():
            fields = [f.strip('"') for f in line.split(",")]
            if len(fields) >= 2 and fields[0] != "test":
                rps = float(fields[1])
                if rps <= 0:
                    return Cell(error=f"no throughput for {fields[0]}")
                seconds += n / rps
                tests.add(fields[0].split()[0].lower())
        missing = set(self.TESTS.split(",")) - tests
        if missing:
            return Cell(error=f"no result for {', '.join(sorted(missing))}: {tail(bench.out)}")
        return Cell(seconds, run.rss_kib)

    @staticmethod
    def wait_ready(port, server):
        deadline = time.time() + 20
        while time.time() < deadline:
            if server.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
                    c.sendall(b"PING\r\n")
                    if c.recv(16).startswith(b"+PONG"):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False


def rows_for(mode, cores):
    """The rows of a mode: smoke runs one short row per kind."""
    if mode == "smoke":
        return [ClassicRow("larson", 2), ClassicRow("bigint", 1), SqliteRow(), RedisRow(), SpawnRow()]
    counts = sorted({1, cores, 4 * cores})
    rows = []
    for program in PROGRAMS:
        if program == "cache_scratch":
            for kind in ("scratch", "thrash"):
                rows += [ClassicRow(program, t, kind) for t in counts]
        elif program in ("bigint", "frag"):
            rows.append(ClassicRow(program, 1))
        elif program == "xmalloc":
            rows += [ClassicRow(program, t) for t in counts if t > 1]
        else:
            rows += [ClassicRow(program, t) for t in counts]
    rows += [SqliteRow(), PythonRow(), DbBenchRow(), GccRow(), RedisRow(), SpawnRow(), ShellLoopRow()]
    return rows


def measure_all(ctx, rows, only):
    """{row name: {allocator: Cell}}: each row's runs in turn, the allocators
    in a rotated order in every run."""
    pattern = re.compile(only) if only else None
    results = {}
    chosen = [r for r in rows if not pattern or pattern.search(r.name)]
    if not chosen:
        raise Failure("no row matches")
    for index, row in enumerate(chosen):
        say(f"bench: [{index + 1}/{len(chosen)}] {row.name}")
        row.prepare(ctx)
        runs = {a: [] for a in ALLOCATORS}
        for r in range(ctx.mode["runs"]):
            order = ALLOCATORS[r % len(ALLOCATORS):] + ALLOCATORS[:r % len(ALLOCATORS)]
            for allocator in order:
                runs[allocator].append(row.measure(ctx, allocator))
        cells = {}
        for allocator, cs in runs.items():
            failed = [c for c in cs if c.error]
            if failed:
                cells[allocator] = Cell(error=failed[0].error)
            else:
                cells[allocator] = Cell(statistics.median(c.value for c in cs),
                                        statistics.median(c.rss_kib for c in cs))
        results[row.name] = cells
    return chosen, results


def fmt_cell(cell, what, width):
    if cell is None:
        return "-".rjust(width)
    if cell.error:
        return "FAIL".rjust(width)
    value = cell.value if what == "time" else cell.rss_kib / 1024
    return fmt(value, width)


def table(rows, results, machine, mode):
    name_w, col_w, rat_w = 22, 10, 9
    lines = []
    header = ("program".ljust(name_w) + "".join(a.rjust(col_w) for a in ALLOCATORS) + "  |" +
              "".join(p[:8].rjust(rat_w) for p in PEERS))
    gms = {}
    for what, title in (("time", "Time: seconds, median of the runs (lower is better; larson: "
                                 "s per million ops, redis: s of requests); ratio above 1 = tinyalloc faster"),
                        ("rss", "Memory: peak RSS in MiB (lower is better); ratio above 1 = tinyalloc smaller")):
        lines += ["", title, header, " " * name_w + " " * (col_w * len(ALLOCATORS)) + "  |" +
                  "peer / tinyalloc".rjust(rat_w * len(PEERS))]
        ratios = {p: [] for p in PEERS}
        group = None
        for row in rows:
            if row.group != group:
                group = row.group
                lines.append(f"-- {group}")
            cells = results[row.name]
            base = cells[BASE]
            rs = []
            for p in PEERS:
                peer = cells[p]
                if base.error or peer.error:
                    rs.append(None)
                    continue
                a = base.value if what == "time" else base.rss_kib
                b = peer.value if what == "time" else peer.rss_kib
                r = b / a if a > 0 else None
                rs.append(r)
                if r:
                    ratios[p].append(r)
            lines.append(row.name[:name_w - 1].ljust(name_w) +
                         "".join(fmt_cell(cells[a], what, col_w) for a in ALLOCATORS) + "  |" +
                         "".join(fmt_ratio(r).rjust(rat_w) for r in rs))
        gms[what] = {p: geomean(ratios[p]) for p in PEERS}
        lines.append("geomean".ljust(name_w) + " " * (col_w * len(ALLOCATORS)) + "  |" +
                     "".join(f"{gms[what][p]:.2f}".rjust(rat_w) for p in PEERS))
    notes = [f"  {row.name}: {row.note}" for row in rows if row.note]
    fails = [f"  {row.name} / {a}: {c.error}" for row in rows for a, c in results[row.name].items()
             if c.error]
    if notes:
        lines += ["", "Notes:"] + notes
    if fails:
        lines += ["", "FAIL cells:"] + fails
    head = (f"tinyalloc real-program benchmark, {mode} mode ({MODES[mode]['runs']} runs per cell). "
            f"Machine: {machine['cores']} cores; other processes used {machine['busy'] * 100:.0f}% "
            f"of it just before the run and {machine['others_busy_during'] * 100:.0f}% during it")
    return [head] + lines, gms


def to_json(rows, results, machine, mode, gms):
    return {
        "kind": "programs",
        "mode": mode,
        "machine": machine,
        "allocators": ALLOCATORS,
        "rows": [{"name": row.name, "group": row.group, "unit": row.unit, "note": row.note,
                  "cells": {a: ({"error": c.error} if c.error else
                                {"value": c.value, "rss_kib": c.rss_kib})
                            for a, c in results[row.name].items()}}
                 for row in rows],
        "geomean_peer_over_tinyalloc": gms,
    }


def run(mode, only=None):
    """Builds, measures and returns (printed lines, JSON document, FAIL cells
    of tinyalloc)."""
    global MEASURE
    targets = [LIBRARY_TARGET, "//bench/programs:measure"] + [f"//bench/programs:{p}" for p in PROGRAMS]
    copies, tmp = build(targets)
    MEASURE = copies["//bench/programs:measure"]
    try:
        binaries = {p: copies[f"//bench/programs:{p}"] for p in PROGRAMS}
        ctx = Context(mode, binaries, copies[LIBRARY_TARGET], tmp)
        rows = rows_for(mode, os.cpu_count() or 1)
        machine = machine_state()
        during = OtherLoad()
        rows, results = measure_all(ctx, rows, only)
        machine["others_busy_during"] = round(during.share(), 3)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines, gms = table(rows, results, machine, mode)
    doc = to_json(rows, results, machine, mode, gms)
    failed = [row.name for row in rows if results[row.name][BASE].error]
    return lines, doc, failed


def write_json(doc, path):
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
