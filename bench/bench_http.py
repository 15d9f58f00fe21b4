#!/usr/bin/env python3
"""HTTP sink benchmark: logship --oneshot from generated CRI files to a local
HTTP receiver that discards what it gets (build/bench/logship_http_discard,
a small Beast server: a Python receiver could not keep up).

    cmake --build build && bench/bench_http.py [--runs 3] [--bytes 256MiB] [--codecs zstd,gzip]

For each codec (LOGSHIP_COMPRESSION) and LOGSHIP_HTTP_FORMAT=ndjson, it runs
logship --warmup + --runs times with a fresh state directory and reports the
best and median input MB/s, CPU-seconds per GB of input (logship's own
user+sys from wait4, not the receiver's), peak RSS, the bytes that reached
the receiver and the compression ratio. The input is generated and cached as
bench_oneshot.py does (same --data, --bytes, --files, --seed).

The simdjson-only parse floor (build/bench/logship_parse_floor, one thread)
runs on the same files after each codec's runs (so a load change on a shared
machine shows in both); each row gives its throughput and CPU-seconds per GB
as ratios to the floor's best run (issue 13's targets: CPU-s/GB at most 5x
the floor's, gzip throughput at least 0.3 of the floor). --no-parse-floor
skips it.

Exit status: 0 on success; 1 when a run fails (non-zero exit, timeout, or
fewer records acknowledged than generated); 2 on setup errors.
MB = 10^6 bytes, GB = 10^9 bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import bench_oneshot  # noqa: E402  (data cache and the measured run)
from loggen import parse_size  # noqa: E402

TARGET_ZSTD_MBPS = 150.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Discard:
    """The discarding receiver, on a free loopback port."""

    def __init__(self, binary: str):
        self.proc = subprocess.Popen([binary], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("port "):
            raise bench_oneshot.SetupError(f"{binary} did not report its port: {line!r}")
        self.port = int(line.split()[1])

    def stop(self) -> tuple:
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        parts = out.split()
        return int(parts[1]), int(parts[3])  # requests, bytes


def acknowledged_records(stderr_tail: str) -> int:
    """Records the pipeline counted as delivered, from logship's "done" line."""
    for line in reversed(stderr_tail.splitlines()):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("msg") in ("done", "finished with errors"):
            return int(entry.get("records", 0))
    return 0


def parse_floor(binary: str, files: list) -> tuple:
    """(MB/s, CPU-s/GB) of one run of the single-threaded parse floor, or None."""
    # Its output (one short line) goes to a file, so the measured wait4 is
    # the only wait on it.
    with tempfile.TemporaryFile("w+") as out_file:
        actions = [(os.POSIX_SPAWN_DUP2, out_file.fileno(), 1)]
        m = bench_oneshot.spawn_measured(binary, [binary, *files], dict(os.environ), actions, 600.0)
        out_file.seek(0)
        out = out_file.read()
    mm = re.search(r"parse_floor: ([0-9.]+) MB/s", out)
    if m["exit"] != 0 or not mm:
        log(f"parse floor failed: {out.strip()}")
        return None
    nbytes = sum(os.path.getsize(p) for p in files)
    return float(mm.group(1)), m["cpu"] / (nbytes / 1e9)


def main(argv) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--logship", default=os.path.join(REPO, "build", "logship"))
    ap.add_argument("--discard", default=os.path.join(REPO, "build", "bench", "logship_http_discard"))
    ap.add_argument("--bytes", type=parse_size, default=parse_size("256MiB"))
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default="/tmp/logship-bench-data")
    ap.add_argument("--regenerate", action="store_true")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--codecs", default="zstd,gzip", help="LOGSHIP_COMPRESSION values to measure")
    ap.add_argument("--format", dest="http_format", default="ndjson", help="LOGSHIP_HTTP_FORMAT")
    ap.add_argument("--concurrency", default="adaptive", help="LOGSHIP_HTTP_CONCURRENCY")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra LOGSHIP_* setting")
    ap.add_argument("--parse-floor", default=os.path.join(REPO, "build", "bench", "logship_parse_floor"))
    ap.add_argument("--no-parse-floor", action="store_true")
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--tmp", default=None)
    args = ap.parse_args(argv)
    for path in (args.logship, args.discard):
        if not os.access(path, os.X_OK):
            log(f"{path} is not built (cmake --build build)")
            return 2

    data_args = types.SimpleNamespace(bytes=args.bytes, files=args.files, seed=args.seed, format="cri",
                                      data=args.data, regenerate=args.regenerate)
    try:
        stamp = bench_oneshot.ensure_data(data_args)
    except bench_oneshot.SetupError as e:
        log(f"setup: {e}")
        return 2
    nbytes = stamp["total_bytes"]

    failed = False
    rows = []
    floors = []
    for codec in [c.strip() for c in args.codecs.split(",") if c.strip()]:
        runs = []
        for i in range(args.warmup + args.runs):
            rx = Discard(args.discard)
            env = dict(kv.split("=", 1) for kv in args.env)
            env.update({"LOGSHIP_SINK": "http", "LOGSHIP_HTTP_URL": f"http://127.0.0.1:{rx.port}/bulk",
                        "LOGSHIP_HTTP_FORMAT": args.http_format, "LOGSHIP_COMPRESSION": codec,
                        "LOGSHIP_HTTP_CONCURRENCY": args.concurrency})
            run_args = types.SimpleNamespace(tmp=args.tmp, env=env, logship=args.logship, timeout=args.timeout,
                                             keep=False)
            r = bench_oneshot.run_logship(run_args, os.path.join(args.data))
            requests, sent = rx.stop()
            r["requests"], r["sent"] = requests, sent
            r["acked"] = acknowledged_records(r["stderr_tail"])
            ok = r["exit"] == 0 and not r["timed_out"] and r["acked"] == stamp["records"]
            tag = "warm-up" if i < args.warmup else f"run {i - args.warmup + 1}"
            log(f"{codec} {tag}: {nbytes / r['wall'] / 1e6:.1f} MB/s, cpu {r['cpu']:.2f} s, "
                f"rss {r['rss_mib']:.1f} MiB, {requests} requests, {sent:,} bytes sent, "
                f"{r['acked']:,}/{stamp['records']:,} records{'' if ok else '  FAILED'}")
            if not ok:
                failed = True
                log(r["stderr_tail"][-2000:])
            if i >= args.warmup:
                runs.append(r)
        mbps = [nbytes / r["wall"] / 1e6 for r in runs]
        cpu_gb = [r["cpu"] / (nbytes / 1e9) for r in runs]
        rss = [r["rss_mib"] for r in runs]
        ratio = nbytes / max(1, runs[0]["sent"])
        rows.append((codec, max(mbps), statistics.median(mbps), min(cpu_gb), statistics.median(cpu_gb), min(rss),
                     statistics.median(rss), runs[0]["requests"], ratio))
        if not args.no_parse_floor and os.access(args.parse_floor, os.X_OK):
            for _ in range(2):
                fl = parse_floor(args.parse_floor, bench_oneshot.data_files(args.data))
                if fl is not None:
                    log(f"parse floor: {fl[0]:.1f} MB/s, {fl[1]:.2f} CPU-s/GB")
                    floors.append(fl)

    print(f"Input: {nbytes:,} bytes in {stamp['files']} CRI files, {stamp['records']:,} records; "
          f"LOGSHIP_HTTP_FORMAT={args.http_format}, LOGSHIP_HTTP_CONCURRENCY={args.concurrency}; "
          f"{args.runs} runs after {args.warmup} warm-up; receiver: logship_http_discard on loopback. "
          f"Host: {os.cpu_count()} CPUs.")
    print()
    print("| LOGSHIP_COMPRESSION | MB/s best | MB/s median | CPU-s/GB best | CPU-s/GB median | peak RSS MiB best "
          "| peak RSS MiB median | requests | input/sent bytes |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for codec, mb, mbm, cg, cgm, rs, rsm, req, ratio in rows:
        target = f" (target ≥ {TARGET_ZSTD_MBPS:.0f}: {'met' if mb >= TARGET_ZSTD_MBPS else 'NOT met'})" \
            if codec == "zstd" else ""
        print(f"| {codec}{target} | {mb:,.1f} | {mbm:,.1f} | {cg:.2f} | {cgm:.2f} | {rs:.1f} | {rsm:.1f} | {req:,} "
              f"| {ratio:.1f} |")
    if floors:
        fl_mbps = max(f[0] for f in floors)
        fl_cpu = min(f[1] for f in floors)
        print()
        print(f"Parse floor (best of {len(floors)}): {fl_mbps:,.1f} MB/s, {fl_cpu:.2f} CPU-s/GB.")
        print()
        print("| LOGSHIP_COMPRESSION | MB/s best / floor | CPU-s/GB best / floor's | CPU-s/GB median / floor's |")
        print("|---|---:|---:|---:|")
        for codec, mb, mbm, cg, cgm, *_ in rows:
            print(f"| {codec} | {mb / fl_mbps:.2f} | {cg / fl_cpu:.1f}x | {cgm / fl_cpu:.1f}x |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
