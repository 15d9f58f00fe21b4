#!/usr/bin/env python3
"""Compares logship configurations (or binaries) on the same input in one
run: `--oneshot` to the file sink, the configurations' runs interleaved
(A B C A B C ...) so that the machine's drift and other load hit each one
alike, and the parse floor run in the same session. Prints a markdown table
with each configuration's throughput and CPU per GB and its ratio to the
first configuration (the baseline).

  bench/bench_configs.py --runs 5 \
      --config 'none=LOGSHIP_REDACT_KEYS=none LOGSHIP_REDACT_PATTERNS=none' \
      --config 'default=' \
      --config 'redact+level=LOGSHIP_MIN_LEVEL=info' \
      --config 'orig@/path/to/old/logship='

A configuration is NAME[@BINARY]=[KEY=VALUE ...]; without @BINARY it runs
--logship (build/logship). The input, its cache and the measurement are
bench_oneshot.py's (see bench/README.md). Filters may ship fewer records than
the generator produced; a run fails only if logship fails or ships nothing.
Python 3 stdlib only."""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_oneshot as bo  # noqa: E402  (the shared input and measurement)


def parse_config(text: str, default_binary: str) -> dict:
    name, eq, rest = text.partition("=")
    if not eq or not name:
        raise argparse.ArgumentTypeError(f"--config {text!r}: expected NAME[@BINARY]=[KEY=VALUE ...]")
    binary = default_binary
    if "@" in name:
        name, binary = name.split("@", 1)
    env = {}
    for item in rest.split():
        key, eq, value = item.partition("=")
        if not eq or not key.startswith("LOGSHIP_"):
            raise argparse.ArgumentTypeError(f"--config {text!r}: {item!r} is not LOGSHIP_KEY=VALUE")
        env[key] = value
    return {"name": name, "binary": binary, "env": env, "runs": []}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", action="append", required=True, help="NAME[@BINARY]=[KEY=VALUE ...] (repeat)")
    ap.add_argument("--logship", default=os.path.join(bo.REPO, "build", "logship"))
    ap.add_argument("--parse-floor", default=os.path.join(bo.REPO, "build", "bench", "logship_parse_floor"))
    ap.add_argument("--bytes", type=bo.parse_size, default=bo.parse_size("256MiB"))
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default="/tmp/logship-bench-data")
    ap.add_argument("--runs", type=int, default=3, help="measured runs per configuration")
    ap.add_argument("--warmup", type=int, default=1, help="unmeasured rounds first")
    ap.add_argument("--timeout", type=float, default=600.0)
    args = ap.parse_args(argv)
    default_binary = args.logship
    configs = [parse_config(c, default_binary) for c in args.config]
    # What bench_oneshot's helpers read from their args.
    args.format, args.regenerate, args.tmp, args.keep, args.no_parse_floor = "cri", False, None, False, False
    try:
        stamp = bo.ensure_data(args)
    except (bo.SetupError, OSError) as e:
        bo.log(f"bench_configs: {e}")
        return 2
    nbytes = stamp["total_bytes"]
    for round_ in range(-args.warmup, args.runs):
        for c in configs:
            args.logship, args.env = c["binary"], c["env"]
            r = bo.run_logship(args, args.data)
            what = "warm-up" if round_ < 0 else f"run {round_ + 1}/{args.runs}"
            bo.log(f"{c['name']} {what}: {r['wall']:.3f} s wall, {r['cpu']:.3f} s CPU, "
                   f"{r['rss_mib']:.1f} MiB, {r['records']} records, {nbytes / r['wall'] / 1e6:.1f} MB/s")
            if r["timed_out"] or r["exit"] != 0 or r["records"] == 0:
                bo.log(f"bench_configs: {c['name']} failed (exit {r['exit']}, {r['records']} records)\n"
                       + r["stderr_tail"])
                return 1
            if round_ >= 0:
                c["runs"].append(r)
    floor, note = bo.run_parse_floor(args, bo.data_files(args.data))

    def mbps(r):
        return nbytes / r["wall"] / 1e6

    def cpu_gb(r):
        return r["cpu"] / (nbytes / 1e9)

    base = configs[0]
    base_mbps = statistics.median(mbps(r) for r in base["runs"])
    base_cpu = statistics.median(cpu_gb(r) for r in base["runs"])
    print(f"Input: {nbytes / 2**20:.0f} MiB CRI, {stamp['records']:,} records, {args.files} files; "
          f"{args.runs} interleaved runs per configuration; parse floor "
          f"{bo.fmt(floor) + ' MB/s' if floor else note}.\n")
    print("| Configuration | Settings | MB/s median (best) | CPU-s/GB median | Peak RSS MiB | "
          f"Throughput vs {base['name']} | CPU/GB vs {base['name']} | Throughput / floor |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for c in configs:
        m = statistics.median(mbps(r) for r in c["runs"])
        best = max(mbps(r) for r in c["runs"])
        cpu = statistics.median(cpu_gb(r) for r in c["runs"])
        rss = max(r["rss_mib"] for r in c["runs"])
        settings = " ".join(f"{k}={v}" for k, v in c["env"].items()) or "(defaults)"
        if c["binary"] != default_binary:
            settings += f" [{c['binary']}]"
        per_floor = f"{m / floor:.2f}" if floor else "n/a"
        print(f"| {c['name']} | {settings} | {bo.fmt(m)} ({bo.fmt(best)}) | {bo.fmt(cpu, 2)} | {bo.fmt(rss)} | "
              f"{m / base_mbps:.2f} | {cpu / base_cpu:.2f} | {per_floor} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
